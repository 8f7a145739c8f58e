"""Replicate predictions (create, poll, fetch outputs) with per-model input schemas, and a ``SceneRenderer``
that turns each scene into a generated clip normalised for the compositor.

Official models are created with ``POST /v1/models/{owner}/{name}/predictions``; a pinned ``owner/name:version``
uses ``POST /v1/predictions``. Outputs are downloaded without our API token (they live on a delivery host)
and validated on arrival: ffprobe for video, Pillow for images. A truncated or HTML "file" never reaches
the compositor.
"""

from __future__ import annotations

import base64
import hashlib
import math
import mimetypes
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..media.models import FPS, Clip, Script, VoiceTrack
from ..media.providers import ProgressFn, no_progress
from .errors import CONTENT_POLICY_VIOLATION, PROVIDER_ERROR, TIMEOUT, ProviderError, looks_like_policy_refusal
from .http import JsonHttpClient, RetrySettings
from .ledger import CallMeter, CallResult
from .pricing import Usage, cost_usd

TERMINAL = ("succeeded", "failed", "canceled")
NORMALISE_ARGS = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "17", "-pix_fmt", "yuv420p", "-r", str(FPS)]


@dataclass
class Prediction:
    id: str
    status: str
    output: Any
    error: str | None
    metrics: dict[str, Any]


def data_uri(path: str) -> str:
    """Replicate accepts small file inputs inline; it saves an upload round trip for a product photo."""
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode()}"


def _pick_duration(needed: float, allowed: tuple[int, ...]) -> int:
    return next((d for d in allowed if d >= needed), allowed[-1])


def build_input(model: str, *, prompt: str, aspect_ratio: str, duration: float, seed: int | None = None,
                image: str | None = None, negative_prompt: str | None = None) -> dict[str, Any]:
    """Each model's own input schema (as the original system used them, plus what the schemas accept)."""
    name = model.split(":", 1)[0]
    if name == "minimax/video-01":  # ~6 s fixed length; no aspect or seed parameter
        out: dict[str, Any] = {"prompt": prompt, "prompt_optimizer": True}
        if image:
            out["first_frame_image"] = image
        return out
    if name.startswith("bytedance/seedance-1"):
        out = {"prompt": prompt, "duration": _pick_duration(duration, (5, 10)), "aspect_ratio": aspect_ratio,
               "resolution": "1080p", "fps": 24, "camera_fixed": False}
        if seed is not None:
            out["seed"] = seed
        if image:
            out["image"] = image
        return out
    if name.startswith("google/veo-3"):
        out = {"prompt": prompt, "aspect_ratio": aspect_ratio if aspect_ratio in ("16:9", "9:16") else "9:16",
               "duration": _pick_duration(duration, (4, 6, 8)), "generate_audio": False}
        if seed is not None:
            out["seed"] = seed
        if negative_prompt:
            out["negative_prompt"] = negative_prompt
        if image:
            out["reference_images"] = [image]
        return out
    if name == "google/imagen-4":
        out = {"prompt": prompt, "aspect_ratio": aspect_ratio, "safety_filter_level": "block_medium_and_above",
               "output_format": "png"}
        if negative_prompt:
            out["negative_prompt"] = negative_prompt
        return out
    if name == "black-forest-labs/flux-schnell":
        out = {"prompt": prompt, "aspect_ratio": aspect_ratio, "num_outputs": 1, "num_inference_steps": 4,
               "output_format": "png"}
        if seed is not None:
            out["seed"] = seed
        return out
    return {"prompt": prompt}  # unknown model: the one input every text-to-X model takes


class ReplicateClient:
    def __init__(self, api_token: str | None, *, base_url: str = "https://api.replicate.com",
                 poll_interval: float = 2.0, deadline: float = 900.0, retry: RetrySettings | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self.http = JsonHttpClient("replicate", base_url, headers=headers, secret=api_token, retry=retry)
        self.poll_interval = poll_interval
        self.deadline = deadline

    def create(self, model: str, inputs: dict[str, Any]) -> Prediction:
        if ":" in model:
            res = self.http.post_json("v1/predictions", {"version": model.split(":", 1)[1], "input": inputs})
        else:
            owner, name = model.split("/", 1)
            res = self.http.post_json(f"v1/models/{owner}/{name}/predictions", {"input": inputs})
        return _prediction(res.json())

    def wait(self, pred: Prediction) -> Prediction:
        """Poll until terminal; past the deadline cancel it (so it stops billing) and raise TIMEOUT."""
        until = time.monotonic() + self.deadline
        while pred.status not in TERMINAL:
            if time.monotonic() > until:
                try:
                    self.http.post_json(f"v1/predictions/{pred.id}/cancel", {})
                finally:
                    raise ProviderError(TIMEOUT, "replicate", f"prediction {pred.id} still {pred.status} after "
                                        f"{self.deadline:.0f}s; canceled", retryable=True, request_id=pred.id)
            time.sleep(self.poll_interval)
            pred = _prediction(self.http.get(f"v1/predictions/{pred.id}").json())
        if pred.status != "succeeded":
            text = pred.error or pred.status
            code = CONTENT_POLICY_VIOLATION if looks_like_policy_refusal(text) else PROVIDER_ERROR
            raise ProviderError(code, "replicate", f"prediction {pred.status}: {text}", request_id=pred.id)
        return pred

    def run(self, model: str, inputs: dict[str, Any]) -> Prediction:
        return self.wait(self.create(model, inputs))

    def download(self, url: str, dest: str) -> str:
        # auth=False: output URLs are signed delivery links; our token must not travel to another host.
        res = self.http.request("GET", url, auth=False)
        with open(dest, "wb") as f:
            f.write(res.content)
        return dest


def _prediction(data: dict[str, Any]) -> Prediction:
    try:
        return Prediction(str(data["id"]), str(data["status"]), data.get("output"), data.get("error"),
                          data.get("metrics") or {})
    except (KeyError, TypeError) as exc:
        raise ProviderError(PROVIDER_ERROR, "replicate", f"unexpected prediction JSON ({exc})") from exc


def output_urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [o for o in output if isinstance(o, str)]
    if isinstance(output, dict):  # some models name their outputs ({"video": url})
        return [v for v in output.values() if isinstance(v, str)]
    return []


def validate_video(path: str, request_id: str | None = None) -> float:
    from ..media.ffmpeg import FFmpegError, probe

    try:
        info = probe(path)
    except FFmpegError as exc:
        raise ProviderError(PROVIDER_ERROR, "replicate", f"output is not a readable video: {exc}",
                            request_id=request_id) from exc
    if not info.width or info.duration <= 0:
        raise ProviderError(PROVIDER_ERROR, "replicate", "output has no video stream", request_id=request_id)
    return info.duration


def validate_image(path: str, request_id: str | None = None) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ProviderError(PROVIDER_ERROR, "replicate", f"output is not a readable image: {exc}",
                            request_id=request_id) from exc


def normalise_clip(src: str, dest: str, *, size: tuple[int, int], frames: int, src_duration: float) -> str:
    """Cover-scale and crop to the ad size, 30 fps, exactly ``frames`` long: a slightly short clip is slowed
    (up to 1.5x, which reads as slow motion), anything shorter also loops."""
    from ..media.ffmpeg import run_ffmpeg

    w, h = size
    needed = frames / FPS
    stretch = min(1.5, max(1.0, needed / max(src_duration, 0.1)))
    loop = ["-stream_loop", "-1"] if src_duration * stretch < needed else []
    vf = (f"setpts={stretch:.4f}*PTS,scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,"
          f"fps={FPS},format=yuv420p")
    run_ffmpeg([*loop, "-i", src, "-vf", vf, "-frames:v", str(frames), "-an", *NORMALISE_ARGS, dest])
    return dest


def scene_prompt(script: Script, index: int) -> str:
    from ..media.styles import resolve_style

    scene = script.scenes[index]
    style = resolve_style(script.style)
    return (f"{style.label} product commercial shot for {script.product_name}. {scene.voiceover} "
            f"Mood: {style.description}. Cinematic lighting, smooth camera motion, no text, no captions, "
            f"no logos.")


def ledger_payload(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inline images are megabytes and fully determined by their bytes: the idempotency key hashes them."""
    def small(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("data:"):
            return "sha256:" + hashlib.sha256(v.encode()).hexdigest()
        if isinstance(v, list):
            return [small(x) for x in v]
        return v
    return {k: small(v) for k, v in inputs.items()}


def predict_file(client: ReplicateClient, meter: CallMeter, model: str, inputs: dict[str, Any], *,
                 scene: int | None, raw_path: str, check: Callable[[str, str], dict[str, Any]],
                 keep_as: str) -> dict[str, Any]:
    """Run one prediction and download its first output to ``raw_path``; ``check(path, prediction id)``
    validates the file and returns its facts (``seconds`` of video are what per-second prices bill). A stored
    output with the same inputs is restored instead, for free."""
    def call() -> CallResult:
        pred = client.run(model, inputs)
        urls = output_urls(pred.output)
        if not urls:
            raise ProviderError(PROVIDER_ERROR, "replicate", f"prediction {pred.id} succeeded with no output",
                                request_id=pred.id)
        client.download(urls[0], raw_path)
        facts = check(raw_path, pred.id)
        key = meter.keep_file(f"{keep_as}_{pred.id}{facts.get('ext', '')}", raw_path)
        cost = cost_usd("replicate", model, Usage(output_seconds=float(facts.get("seconds", 0.0)), predictions=1))
        return CallResult({"file_key": key, "prediction": pred.id, **facts}, cost, pred.id)

    res = meter.call(provider="replicate", model=model, scene=scene, payload=ledger_payload(inputs), fn=call,
                     reusable=lambda o: meter.has_file(o.get("file_key")))
    if res.reused:
        meter.restore_file(res.output["file_key"], raw_path)
    return res.output


def check_video(path: str, request_id: str) -> dict[str, Any]:
    return {"seconds": validate_video(path, request_id), "ext": ".mp4"}


class ReplicateSceneRenderer:
    """``SceneRenderer``: one generated clip per scene, fetched, validated and normalised."""

    def __init__(self, client: ReplicateClient, model: str, *, meter: CallMeter | None = None,
                 negative_prompt: str = "text, watermark, logo, distorted hands, blurry",
                 concurrency: int = 4) -> None:
        self.client = client
        self.model = model
        self.name = f"replicate:{model}"
        self.meter = meter
        self.negative_prompt = negative_prompt
        self.concurrency = concurrency

    def _clip(self, script: Script, index: int, frames: int, size: tuple[int, int], aspect: str,
              image_uri: str | None, seed: int, out_dir: str) -> Clip:
        meter = self.meter or CallMeter(None, "", "video_gen")
        role = script.scenes[index].role
        inputs = build_input(self.model, prompt=scene_prompt(script, index), aspect_ratio=aspect,
                             duration=frames / FPS, seed=seed + index,
                             image=image_uri if role in ("hook", "cta") else None,
                             negative_prompt=self.negative_prompt)
        raw = os.path.join(out_dir, f"raw_{index:02d}.mp4")
        facts = predict_file(self.client, meter, self.model, inputs, scene=index, raw_path=raw, check=check_video,
                             keep_as=f"scene_{index:02d}")
        dest = os.path.join(out_dir, f"clip_{index:02d}.mp4")
        normalise_clip(raw, dest, size=size, frames=frames, src_duration=float(facts["seconds"]))
        return Clip(index, dest, round(frames / FPS, 4), size[0], size[1])

    def render(self, script: Script, voice: VoiceTrack, *, product_image: str | None, size: tuple[int, int],
               out_dir: str, seed: int, progress: ProgressFn = no_progress) -> list[Clip]:
        from ..media.styles import resolve_style
        from ..media.timeline import scene_plan

        plans = scene_plan(voice, resolve_style(script.style).transition_duration)
        if len(plans) != len(script.scenes):
            raise ValueError(f"{len(script.scenes)} scenes but {len(plans)} voice windows")
        os.makedirs(out_dir, exist_ok=True)
        aspect = _aspect(size)
        n = len(plans)
        image_uri = data_uri(product_image) if product_image else None  # read once, sent with hook and CTA
        work: Callable[[int], Clip] = lambda i: self._clip(script, i, plans[i].frames, size, aspect,  # noqa: E731
                                                           image_uri, seed, out_dir)
        clips: list[Clip] = []
        # Predictions are remote and slow: run the scenes concurrently; normalising is cheap in comparison.
        with ThreadPoolExecutor(max(1, min(self.concurrency, n))) as pool:
            for done, clip in enumerate(pool.map(work, range(n)), start=1):
                clips.append(clip)
                progress(done / n, f"scene {done} of {n} ({self.model})")
        return clips

    scenes = render  # SceneRenderer: generated clips are this renderer's scenes


def _aspect(size: tuple[int, int]) -> str:
    w, h = size
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


