"""A flavor's offline look (``parameters.local_render``) and the Pillow passes that apply it.

Lighting is applied to the flat-coloured figure as two cheap image passes instead of per-shape shading:
a key-light falloff across the body and a rim light along the silhouette (coloured stage washes for
``stage``, a hard white edge for ``noir``, a warm kiss for ``soft``). Grading maps the whole still toward
the flavor palette, or to high-contrast black and white.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from ..media.models import hex_to_rgb
from .traits import RGB

_DEFAULT = {
    "palette": {"shadow": "#1d2230", "base": "#5b6b82", "light": "#f2e6d0", "accent": "#e8a04a",
                "accent_alt": "#4fa3c7"},
    "lighting": "soft", "monochrome": False, "grain": 0.25, "vignette": 0.35, "motion": 0.5, "groove_bpm": 100,
    "transition": "cut", "crossfade_seconds": 0.3, "title_strip": True,
}


@dataclass(frozen=True)
class Look:
    shadow: RGB
    base: RGB
    light: RGB
    accent: RGB
    accent_alt: RGB
    lighting: str
    monochrome: bool
    grain: float
    vignette: float
    motion: float
    groove_bpm: int
    transition: str
    crossfade_seconds: float
    title_strip: bool

    @classmethod
    def from_local_render(cls, cfg: dict[str, Any] | None) -> Look:
        """Built-in defaults under the flavor's values, so a configs root without local_render still renders."""
        merged = {**_DEFAULT, **(cfg or {})}
        pal = {**_DEFAULT["palette"], **(cfg or {}).get("palette", {})}  # type: ignore[dict-item]
        return cls(
            shadow=hex_to_rgb(pal["shadow"]), base=hex_to_rgb(pal["base"]), light=hex_to_rgb(pal["light"]),
            accent=hex_to_rgb(pal["accent"]), accent_alt=hex_to_rgb(pal["accent_alt"]),
            lighting=str(merged["lighting"]), monochrome=bool(merged["monochrome"]), grain=float(merged["grain"]),
            vignette=float(merged["vignette"]), motion=float(merged["motion"]), groove_bpm=int(merged["groove_bpm"]),
            transition=str(merged["transition"]), crossfade_seconds=float(merged["crossfade_seconds"]),
            title_strip=bool(merged["title_strip"]),
        )


def look_of(flavor: Any) -> Look:
    return Look.from_local_render(getattr(flavor, "local_render", None))


def _rim(alpha: Image.Image, width: int, side: int) -> Image.Image:
    """Pixels of the silhouette lit from ``side``: inside the shape, but with empty space ``width`` px
    toward the light. A shift and a subtract: O(pixels) whatever the width, unlike a min filter."""
    shifted = ImageChops.offset(alpha, width * -side, 0)
    if side < 0:  # offset wraps around; blank the wrapped columns
        shifted.paste(0, (alpha.width - width, 0, alpha.width, alpha.height))
    else:
        shifted.paste(0, (0, 0, width, alpha.height))
    return ImageChops.subtract(alpha, shifted)


def light_figure(fig: Image.Image, look: Look, key_side: int = -1) -> Image.Image:
    """Key falloff plus rim light on an RGBA figure (width-relative, so it works at any scale)."""
    alpha = fig.getchannel("A")
    w, h = fig.size
    rgb = fig.convert("RGB")
    # Key light: the side away from the key drops to 72 % (noir: 45 %) — the form turns.
    dark = {"noir": 0.6, "stage": 0.62}.get(look.lighting, 0.74)
    bbox = alpha.getbbox() or (0, 0, w, h)
    # The falloff spans the figure's own width (not the canvas), so the turn is visible at any crop.
    xs = (np.arange(w, dtype=np.float32) - bbox[0]) / max(1, bbox[2] - bbox[0])
    ramp = np.clip(1 - xs if key_side < 0 else xs, 0, 1)
    k = dark + (1 - dark) * ramp
    arr = np.asarray(rgb, np.float32) * k[None, :, None]
    rgb = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    fig_w = bbox[2] - bbox[0]
    width = max(2, round(fig_w * (0.06 if look.lighting == "stage" else 0.04)))
    rims: list[tuple[RGB, int, float]]
    if look.lighting == "stage":
        rims = [(look.accent, -1, 0.95), (look.accent_alt, 1, 0.95)]
    elif look.lighting == "noir":
        rims = [((255, 255, 255), -key_side, 0.9)]
    else:
        rims = [(look.light, key_side, 0.55)]
    for color, side, strength in rims:
        mask = _rim(alpha, width, side).filter(ImageFilter.GaussianBlur(width * 0.35))
        mask = ImageChops.multiply(mask, alpha).point(lambda v, s=strength: round(v * s))
        rgb = Image.composite(Image.new("RGB", (w, h), color), rgb, mask)
    out = rgb.convert("RGBA")
    out.putalpha(alpha)
    return out


def grade(img: Image.Image, look: Look, strength: float = 0.22, *, lift: bool = False) -> Image.Image:
    """Tone-map toward the palette: shadows lean to ``shadow``, highlights to ``light`` (split toning);
    monochrome looks become contrasty black and white. Luminance comes from Pillow's C conversion and the
    mono curve is a 256-entry LUT, so grading a 5-megapixel pose layer stays cheap. ``lift`` (characters)
    raises the mono floor so dark skin and dark clothes keep their detail instead of going to silhouette."""
    rgb = img.convert("RGB")
    lum = rgb.convert("L")
    if look.monochrome:
        # An S-curve: crushed blacks and bright highlights, the noir print look.
        lut = []
        for v in range(256):
            x = 0.22 + 0.78 * v / 255 if lift else v / 255
            c = min(1.0, max(0.0, (x - 0.45) * 1.25 + 0.5))
            lut.append(round(255 * c * c * (3 - 2 * c)))
        out = lum.point(lut).convert("RGB")
    else:
        # out = x * (a + b * lum): a soft-light style blend of a shadow→light tone ramp, per channel.
        sh = np.array(look.shadow, np.float32) / 255
        hi = np.array(look.light, np.float32) / 255
        a = (1 - strength) + strength * (0.5 + sh)
        b = strength * (hi - sh) / 255
        arr = np.asarray(rgb, np.float32)
        ln = np.asarray(lum, np.float32)[..., None]
        out = Image.fromarray(np.clip(arr * (a + b * ln), 0, 255).astype(np.uint8), "RGB")
    if img.mode == "RGBA":
        out = out.convert("RGBA")
        out.putalpha(img.getchannel("A"))
    return out
