"""Replicate for the MV pipeline: the character reference image and one clip per scene.

Both go through ``ReplicateClient`` (create, poll, download) and ``build_input`` (each model's own schema),
adding what only the MV flavors say: the image model's moderation level and file format from image_params,
the flavor's video rules appended to every scene prompt, and the character reference passed in the slot the
video model uses for a *subject* (never as a first frame: a character sheet is not the opening shot of a
scene). Outputs are validated on arrival and kept in the artifact store, so a retried or re-materialized
stage reuses what was paid for. Clips are conformed to exactly what the offline clip renderer produces (size,
30 fps, frame count, H.264 yuv420p, an audio stream when the flavor asks), so the assembly is unchanged.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..media.models import ASPECT_SIZES, FPS
from ..media.providers import ProgressFn, no_progress
from ..mv.clip_renderer import ClipInfo
from ..mv.flavors import ResolvedFlavor
from ..mv.providers import clip_path
from .ledger import CallMeter
from .replicate import ReplicateClient, build_input, check_video, predict_file

# Replicate's Imagen 4 knows three moderation levels; the flavor schema keeps the original system's four names.
IMAGEN_SAFETY = {"block_low_and_above": "block_low_and_above", "block_medium_and_above": "block_medium_and_above",
                 "block_high_and_above": "block_only_high", "block_none": "block_only_high"}
# File formats each image model can return (first = what we ask for when the flavor's is not among them).
IMAGE_OUTPUT_FORMATS = {"google/imagen-4": ("png", "jpg"), "black-forest-labs/flux-schnell": ("png", "jpg", "webp")}
# Veo takes reference images only for 16:9 clips of 8 s (reference-to-video); otherwise it would refuse them.
VEO_REFERENCE = ("16:9", 8)


def image_input(model: str, prompt: str, image_params: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """The model's inputs for a character reference. ``person_generation`` is not sent: none of the Replicate
    image models here takes it (it is a Vertex AI parameter)."""
    name = model.split(":", 1)[0]
    inputs = build_input(model, prompt=prompt, aspect_ratio=str(image_params["aspect_ratio"]), duration=0,
                         seed=seed)
    if name == "google/imagen-4":
        inputs["safety_filter_level"] = IMAGEN_SAFETY.get(str(image_params["safety_filter_level"]),
                                                          "block_medium_and_above")
    formats = IMAGE_OUTPUT_FORMATS.get(name)
    if formats:
        wanted = str(image_params["output_format"])
        inputs["output_format"] = wanted if wanted in formats else formats[0]
    return inputs


def clip_input(model: str, scene: dict[str, Any], flavor: ResolvedFlavor, *, seed: int,
               reference_uri: str | None) -> tuple[dict[str, Any], str]:
    """(inputs, how the reference was used: "reference_images" | "subject_reference" | "none")."""
    name = model.split(":", 1)[0]
    prompt = f"{scene['prompt']}\n\n{flavor.video_rules()}"
    inputs = build_input(model, prompt=prompt, aspect_ratio=flavor.video_aspect_ratio,
                         duration=float(scene["duration"]), seed=seed,
                         negative_prompt=scene.get("negative_prompt") or None)
    if reference_uri and name.startswith("google/veo-3"):
        if (inputs.get("aspect_ratio"), inputs.get("duration")) == VEO_REFERENCE:
            inputs["reference_images"] = [reference_uri]
            return inputs, "reference_images"
    elif reference_uri and name == "minimax/video-01":
        inputs["subject_reference"] = reference_uri  # MiniMax's subject-to-video mode keeps the character
        return inputs, "subject_reference"
    return inputs, "none"


def reference_data_uri(path: str, max_side: int = 1024) -> str:
    """The character reference inline, as a JPEG of at most ``max_side`` pixels: a painted 1024² PNG card is
    megabytes once base64-encoded, and it is sent with every scene's request; the models see no difference."""
    import base64
    import io

    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((max_side, max_side))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _check_image(path: str, request_id: str) -> dict[str, Any]:
    from PIL import Image

    from .replicate import validate_image

    width, height = validate_image(path, request_id)
    with Image.open(path) as im:
        fmt = (im.format or "png").lower()
    return {"width": width, "height": height, "ext": "." + ("jpg" if fmt == "jpeg" else fmt)}


class ReplicateCharacterArtist:
    """``CharacterArtist``: the flavor's character_reference_prompt on an image model."""

    def __init__(self, client: ReplicateClient, model: str, *, meter: CallMeter | None = None) -> None:
        self.client = client
        self.model = model
        self.name = f"replicate:{model}"
        self.meter = meter

    def render(self, description: str, flavor: ResolvedFlavor, out_path: str, *, seed: int) -> str:
        from PIL import Image

        from ..mv.character import IMAGE_FORMATS

        meter = self.meter or CallMeter(None, "", "character_reference")
        inputs = image_input(self.model, flavor.character_prompt(description.strip()), flavor.image_params, seed)
        raw = str(Path(out_path).with_name("character_raw"))
        Path(raw).parent.mkdir(parents=True, exist_ok=True)
        predict_file(self.client, meter, self.model, inputs, scene=None, raw_path=raw, check=_check_image,
                     keep_as="character")
        # Stored in the flavor's format, like the offline card, whatever the model returned.
        pil_format, ext = IMAGE_FORMATS[str(flavor.image_params["output_format"])]
        out = Path(out_path).with_suffix(ext)
        with Image.open(raw) as im:
            (im.convert("RGB") if pil_format == "JPEG" else im).save(out, pil_format)
        return str(out)


class ReplicateClipRenderer:
    """``ClipRenderer``: one prediction per scene, run concurrently, each conformed for the assembly."""

    def __init__(self, client: ReplicateClient, model: str, *, meter: CallMeter | None = None,
                 concurrency: int = 4) -> None:
        self.client = client
        self.model = model
        self.name = f"replicate:{model}"
        self.meter = meter
        self.concurrency = concurrency

    def _clip(self, scene: dict[str, Any], reference_uri: str | None, flavor: ResolvedFlavor, out_dir: str,
              seed: int) -> ClipInfo:
        started = time.monotonic()
        meter = self.meter or CallMeter(None, "", "mv_clips")
        seq = int(scene["sequence"])
        inputs, used = clip_input(self.model, scene, flavor, seed=seed + seq, reference_uri=reference_uri)
        raw = os.path.join(out_dir, f"raw_{seq:03d}.mp4")
        facts = predict_file(self.client, meter, self.model, inputs, scene=seq, raw_path=raw, check=check_video,
                             keep_as=f"scene_{seq:03d}")
        size = ASPECT_SIZES[flavor.video_aspect_ratio]
        frames = round(float(scene["duration"]) * FPS)
        with_audio = bool(flavor.image_params.get("video_generate_audio", True))
        dest = clip_path(out_dir, scene)
        info = conform_clip(raw, dest, size=size, frames=frames, src_duration=float(facts["seconds"]),
                            with_audio=with_audio)
        return ClipInfo(dest, round(info.duration, 3), size[0], size[1], FPS, frames, with_audio,
                        str(scene.get("shot", "")), str(scene.get("camera_move", "")), str(scene.get("setting", "")),
                        "", "", used, seed + seq, round(time.monotonic() - started, 2))

    def render(self, scenes: list[dict[str, Any]], reference: str, flavor: ResolvedFlavor, out_dir: str, *,
               seed: int, progress: ProgressFn = no_progress) -> list[ClipInfo]:
        os.makedirs(out_dir, exist_ok=True)
        reference_uri = reference_data_uri(reference) if reference else None
        n = len(scenes)
        clips: list[ClipInfo] = []
        # Predictions are remote and slow: run the scenes concurrently; conforming is cheap in comparison.
        with ThreadPoolExecutor(max(1, min(self.concurrency, n))) as pool:
            work = pool.map(lambda s: self._clip(s, reference_uri, flavor, out_dir, seed), scenes)
            for done, clip in enumerate(work, start=1):
                clips.append(clip)
                progress(done / n, f"scene {done} of {n} ({self.model})")
        return clips


def conform_clip(raw: str, dest: str, *, size: tuple[int, int], frames: int, src_duration: float,
                 with_audio: bool) -> Any:
    """The ad normaliser (cover-crop, 30 fps, exact frame count), then the offline clip's container: a silent
    48 kHz stereo track when the flavor wants clip audio (the music video replaces it with the song either
    way), faststart, and the same validation the offline clips pass."""
    from ..media.ffmpeg import probe, run_ffmpeg
    from ..mv.clip_renderer import validate_clip
    from .replicate import normalise_clip

    seconds = f"{frames / FPS:.4f}"
    video_only = dest + ".video.mp4"
    normalise_clip(raw, video_only, size=size, frames=frames, src_duration=src_duration)
    audio = (["-f", "lavfi", "-t", seconds, "-i", "anullsrc=r=48000:cl=stereo", "-map", "0:v", "-map", "1:a",
              "-c:a", "aac", "-b:a", "96k"] if with_audio else ["-map", "0:v"])
    run_ffmpeg(["-i", video_only, *audio, "-c:v", "copy", "-movflags", "+faststart", "-t", seconds, dest])
    os.remove(video_only)
    info = probe(dest)
    validate_clip(info, size, frames / FPS, with_audio, Path(dest))
    return info
