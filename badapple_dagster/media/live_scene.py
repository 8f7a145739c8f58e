"""Live scenes: a scene kept as its painted stills plus motion expressions instead of an encoded clip.

The local renderer's output used to be a mezzanine clip per scene that the compositor decoded, filtered and
encoded again: every frame went through x264 twice. A live scene is animated inside the compositor's single
graph instead (exactly like the end card), so its frames are encoded once, at delivery quality. What
``video_gen`` stores for it is small and deterministic: the stills under ``ads/{job}/video_gen/`` and the
stage description in the manifest; a contact sheet of the scenes at rest is the operator's preview.
Remote renderers still deliver clips; the compositor takes both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .motion import Layer, Stage

# (name in the stage's folder, local path, content type) -> stored info with at least "key"
PutFn = Callable[[str, str, str], dict[str, Any]]
FetchFn = Callable[[str], str]  # artifact key -> local path


@dataclass
class LiveScene:
    index: int
    stage: Stage
    duration: float  # seconds, includes the transition overlap


def to_manifest(scene: LiveScene, put: PutFn) -> dict[str, Any]:
    """Store the scene's stills with ``put`` and describe the stage with their keys (no local paths)."""
    prefix = f"scenes/scene_{scene.index + 1:02d}"
    stage = scene.stage
    background = put(f"{prefix}/background.png", stage.background, "image/png")
    layers = []
    for k, layer in enumerate(stage.layers):
        still = put(f"{prefix}/layer_{k}.png", layer.path, "image/png")
        layers.append({**asdict(layer), "path": None, "still": still})
    return {"kind": "live", "index": scene.index, "duration": scene.duration, "background": background,
            "bg_size": list(stage.bg_size), "crop_x": stage.crop_x, "crop_y": stage.crop_y, "layers": layers}


def from_manifest(entry: dict[str, Any], fetch: FetchFn) -> LiveScene:
    layers = []
    for item in entry["layers"]:
        fields = {k: v for k, v in item.items() if k not in ("path", "still")}
        if fields.get("fade") is not None:
            fields["fade"] = tuple(fields["fade"])
        layers.append(Layer(path=fetch(item["still"]["key"]), **fields))
    stage = Stage(fetch(entry["background"]["key"]), tuple(entry["bg_size"]), entry["crop_x"], entry["crop_y"],
                  layers)
    return LiveScene(int(entry["index"]), stage, float(entry["duration"]))


def rest_preview(scene: LiveScene, size: tuple[int, int], out_path: str, width: int = 360) -> str:
    """The scene at rest (centre of the camera move, every layer in place) as a JPEG, for contact sheets.
    Pillow only: no frames are rendered for a preview."""
    from PIL import Image

    w, h = size
    stage = scene.stage
    with Image.open(stage.background) as bg:
        left, top = (bg.width - w) // 2, (bg.height - h) // 2
        frame = bg.convert("RGBA").crop((left, top, left + w, top + h))
    for layer in stage.layers:
        with Image.open(layer.path) as still:
            rgba = still.convert("RGBA")
            frame.paste(rgba, (round(layer.x), round(layer.y)), rgba)  # paste: a layer may overhang the frame
    thumb = frame.convert("RGB").resize((width, round(width * h / w)), Image.Resampling.BILINEAR)
    thumb.save(out_path, "JPEG", quality=85)
    return out_path
