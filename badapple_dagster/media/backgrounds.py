"""Style backgrounds, rendered once per scene as an oversized still that ffmpeg pans over.

Each ``background_kind`` has its own painter; the scene role and the seed move the composition around so
consecutive scenes read as different shots of the same ad.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from .models import Palette
from .paint import (
    add_grain,
    blurred_blobs,
    linear_gradient,
    luminance,
    mix,
    radial_gradient,
    rgba,
    vignette,
)

Painter = Callable[[tuple[int, int], Palette, str, random.Random], Image.Image]

# Where the light / the main shape sits for each role, as frame fractions — a different "shot" per beat.
_ROLE_FOCUS = {
    "hook": (0.5, 0.35),
    "benefit": (0.28, 0.45),
    "proof": (0.72, 0.4),
    "cta": (0.5, 0.5),
    "end": (0.5, 0.42),
}


def _focus(role: str, rng: random.Random) -> tuple[float, float]:
    fx, fy = _ROLE_FOCUS.get(role, (0.5, 0.4))
    return fx + rng.uniform(-0.06, 0.06), fy + rng.uniform(-0.05, 0.05)


def _luxe_gradient(size: tuple[int, int], pal: Palette, role: str, rng: random.Random) -> Image.Image:
    w, h = size
    center = _focus(role, rng)
    img = radial_gradient(size, mix(pal.background_alt, pal.accent, 0.12), pal.background, center, 0.62, 1.25)
    # A faint warm haze: large, soft gold fields behind the subject.
    haze = blurred_blobs(
        size,
        (0, 0, 0),
        [(center[0] + rng.uniform(-0.3, 0.3), center[1] + rng.uniform(-0.2, 0.25), 0.18, pal.accent) for _ in range(3)],
        0.12,
    )
    img = Image.blend(img, Image.fromarray(_screen(img, haze)), 0.22)
    img = vignette(img, 0.62, 1.8)
    return _gold_hairlines(img, pal, role, rng)


def _screen(a: Image.Image, b: Image.Image) -> np.ndarray:
    """Photographic "screen" blend: brightens like light added to the scene, never clips to flat white."""
    x = np.asarray(a, np.float32) / 255
    y = np.asarray(b, np.float32) / 255
    return (255 * (1 - (1 - x) * (1 - y))).astype(np.uint8)


def _gold_hairlines(img: Image.Image, pal: Palette, role: str, rng: random.Random) -> Image.Image:
    w, h = img.size
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    gold = rgba(pal.accent, 0.55)
    lw = max(1, round(w / 900))
    inset = round(w * 0.085)
    d.rectangle([inset, round(h * 0.07), w - inset, h - round(h * 0.07)], outline=gold, width=lw)
    # A second, fainter frame a few pixels inside: the classic double rule of print luxury.
    i2 = inset + 4 * lw
    d.rectangle(
        [i2, round(h * 0.07) + 4 * lw, w - i2, h - round(h * 0.07) - 4 * lw], outline=rgba(pal.accent, 0.25), width=lw
    )
    # Sweeping diagonal hairlines, direction by role.
    sign = -1 if role in ("benefit", "cta") else 1
    for k in range(3):
        y0 = h * (0.15 + 0.22 * k + rng.uniform(-0.03, 0.03))
        d.line([(0, y0), (w, y0 + sign * h * 0.18)], fill=rgba(pal.accent, 0.16 + 0.06 * k), width=lw)
    return Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")


def _energy_shapes(size: tuple[int, int], pal: Palette, role: str, rng: random.Random) -> Image.Image:
    w, h = size
    angle = {"hook": 60, "benefit": 120, "proof": 30, "cta": 90}.get(role, 75) + rng.uniform(-10, 10)
    img = linear_gradient(size, pal.background, pal.background_alt, angle).convert("RGBA")
    over = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    tilt = math.tan(math.radians(rng.uniform(14, 24))) * (1 if role in ("hook", "proof") else -1)
    # Bold diagonal bands: a strong accent slash, a dark one for depth and a light one for sparkle.
    bands = [(pal.accent, 0.9, 0.09), (pal.muted, 0.55, 0.16), ((255, 255, 255), 0.18, 0.22), (pal.accent, 0.35, 0.04)]
    for col, alpha, thick in bands:
        y = rng.uniform(0.05, 0.95) * h
        t = thick * h * 0.5
        d.polygon(
            [
                (-w * 0.1, y - t),
                (w * 1.1, y - t + tilt * w * 1.2),
                (w * 1.1, y + t + tilt * w * 1.2),
                (-w * 0.1, y + t),
            ],
            fill=rgba(col, alpha),
        )
    # A big thin ring and a halftone patch: motion-graphics staples that give the pan something to track.
    cx, cy = rng.uniform(0.6, 0.9) * w, rng.uniform(0.1, 0.35) * h
    r = w * rng.uniform(0.25, 0.4)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=rgba((255, 255, 255), 0.35), width=max(3, w // 120))
    _halftone(d, (rng.uniform(0.05, 0.3) * w, rng.uniform(0.55, 0.85) * h), w * 0.3, rgba(pal.muted, 0.35), w)
    img = Image.alpha_composite(img, over).convert("RGB")
    return vignette(img, 0.25)


def _halftone(
    d: ImageDraw.ImageDraw, origin: tuple[float, float], span: float, fill: tuple[int, int, int, int], w: int
) -> None:
    step = max(8, w // 40)
    n = int(span // step)
    for i in range(n):
        for j in range(n):
            r = step * 0.32 * (1 - (i + j) / (2 * n))
            if r < 1:
                continue
            x, y = origin[0] + i * step, origin[1] + j * step
            d.ellipse([x - r, y - r, x + r, y + r], fill=fill)


def _clean_paper(size: tuple[int, int], pal: Palette, role: str, rng: random.Random) -> Image.Image:
    w, h = size
    img = linear_gradient(size, pal.background, mix(pal.background, pal.background_alt, 0.7), 80 + rng.uniform(-8, 8))
    img = img.convert("RGBA")
    over = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    rule = rgba(pal.muted, 0.55)
    lw = max(1, round(w / 1000))
    # Editorial grid: a header rule, a margin rule and a faint large circle — lots of air, nothing loud.
    top = h * rng.uniform(0.11, 0.14)
    d.line([(w * 0.08, top), (w * 0.92, top)], fill=rule, width=lw)
    d.line([(w * 0.08, h * 0.88), (w * 0.92, h * 0.88)], fill=rule, width=lw)
    mx = w * (0.9 if role in ("hook", "proof") else 0.1)
    d.line([(mx, h * 0.16), (mx, h * 0.84)], fill=rgba(pal.muted, 0.3), width=lw)
    fx, fy = _focus(role, rng)
    r = w * rng.uniform(0.32, 0.42)
    d.ellipse([fx * w - r, fy * h - r, fx * w + r, fy * h + r], outline=rgba(pal.muted, 0.22), width=lw)
    # One small accent mark: the only colour in the frame besides the product.
    s = w * 0.018
    ax, ay = w * 0.08, top + h * 0.02
    d.rectangle([ax, ay, ax + s, ay + s], fill=rgba(pal.accent, 0.9))
    img = Image.alpha_composite(img, over).convert("RGB")
    # Paper tooth. Kept light: every grain pixel is residual the mezzanine must carry and compose decode.
    return add_grain(img, 1.6, rng.randrange(1 << 30))


def _color_blocks(size: tuple[int, int], pal: Palette, role: str, rng: random.Random) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, pal.background)
    d = ImageDraw.Draw(img)
    alt, acc = pal.background_alt, pal.accent
    j = rng.uniform(-0.04, 0.04)
    if role == "hook":  # hard diagonal split
        d.polygon([(0, h * (0.58 + j)), (w, h * (0.38 + j)), (w, h), (0, h)], fill=alt)
        d.polygon([(0, h * (0.55 + j)), (w, h * (0.35 + j)), (w, h * (0.36 + j)), (0, h * (0.58 + j))], fill=acc)
    elif role == "benefit":  # vertical slab on the left plus a stripe
        d.rectangle([0, 0, w * (0.36 + j), h], fill=alt)
        d.rectangle([w * (0.36 + j), 0, w * (0.39 + j), h], fill=acc)
    elif role == "proof":  # horizontal band behind the product
        d.rectangle([0, h * (0.3 + j), w, h * (0.62 + j)], fill=alt)
        d.rectangle([0, h * (0.62 + j), w, h * (0.645 + j)], fill=acc)
    else:  # cta / end: big accent corner, red body
        img.paste(alt, [0, round(h * 0.45), w, h])
        d.polygon([(w * 0.55, 0), (w, 0), (w, h * 0.3)], fill=acc)
    # Thin white bars: the typographic "kicker" marks of poster design.
    for k in range(2):
        y = h * (0.12 + 0.76 * k) + rng.uniform(-8, 8)
        d.rectangle([w * 0.08, y, w * (0.22 + 0.1 * k), y + max(4, h // 300)], fill=(255, 255, 255))
    return img


def _soft_mesh(size: tuple[int, int], pal: Palette, role: str, rng: random.Random) -> Image.Image:
    fx, fy = _focus(role, rng)
    light = mix(pal.background_alt, (255, 255, 255), 0.3)
    cols = [pal.background_alt, pal.accent, light, pal.muted, mix(pal.accent, pal.background_alt, 0.5)]
    blobs = []
    for i, col in enumerate(cols):
        ang = rng.uniform(0, 2 * math.pi)
        dist = 0.05 if i == 0 else rng.uniform(0.25, 0.5)
        # The accent is a smaller, dimmer field: a tint, not a spotlight.
        r = rng.uniform(0.2, 0.3) if col != pal.accent else rng.uniform(0.11, 0.16)
        blobs.append((fx + dist * math.cos(ang), fy * 1.0 + dist * 1.4 * math.sin(ang), r, col))
    img = blurred_blobs(size, pal.background, blobs, 0.16)
    # Keep the mesh dark enough under white headline copy (palette text is contrasted against background).
    if luminance(pal.text) > 0.5:
        img = vignette(img, 0.35, 1.6)
    # No grain: the delivery encode (crf 23) would smooth it away anyway, after it cost bits everywhere.
    return img


PAINTERS: dict[str, Painter] = {
    "luxe_gradient": _luxe_gradient,
    "energy_shapes": _energy_shapes,
    "clean_paper": _clean_paper,
    "color_blocks": _color_blocks,
    "soft_mesh": _soft_mesh,
}


def render_background(kind: str, palette: Palette, size: tuple[int, int], role: str, seed: int) -> Image.Image:
    """An RGB still of ``size`` (already oversized by the caller for the camera move)."""
    painter = PAINTERS.get(kind, _soft_mesh)
    rng = random.Random(f"{kind}:{role}:{seed}")
    return painter(size, palette, role, rng)
