"""Small Pillow/numpy drawing primitives shared by the backgrounds, the scene layers and the end card."""

from __future__ import annotations

import functools
import math
import struct
import zlib

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .models import RGB


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def luminance(c: RGB) -> float:
    """WCAG relative luminance (0 black … 1 white)."""

    def lin(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(fill: RGB, dark: RGB = (16, 16, 20), light: RGB = (255, 255, 255)) -> RGB:
    """The more legible of a dark and a light ink on ``fill`` (button labels, badges)."""
    return dark if contrast(fill, dark) >= contrast(fill, light) else light


def rgba(c: RGB, alpha: float = 1.0) -> tuple[int, int, int, int]:
    return (c[0], c[1], c[2], round(255 * alpha))


# Smooth fields (gradients, vignettes) are computed at 1/4 scale and upscaled: they have no detail to lose and
# full-resolution numpy over ~2.6 Mpx per still would dominate the scene's paint time.
_SMOOTH = 4


def _small(size: tuple[int, int]) -> tuple[int, int]:
    return (max(2, size[0] // _SMOOTH), max(2, size[1] // _SMOOTH))


def linear_gradient(size: tuple[int, int], a: RGB, b: RGB, angle_deg: float) -> Image.Image:
    """Two-colour gradient along ``angle_deg`` (0 = left→right, 90 = top→bottom)."""
    w, h = _small(size)
    ang = math.radians(angle_deg)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    proj = xs * math.cos(ang) + ys * math.sin(ang)
    t = (proj - proj.min()) / max(1e-6, float(proj.max() - proj.min()))
    return _lerp_image(t, a, b).resize(size, Image.BILINEAR)


def radial_gradient(
    size: tuple[int, int], inner: RGB, outer: RGB, center: tuple[float, float], radius: float, power: float = 1.4
) -> Image.Image:
    """``center`` in 0..1 frame fractions, ``radius`` in fractions of the diagonal."""
    w, h = _small(size)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    diag = math.hypot(w, h)
    d = np.hypot(xs - center[0] * w, ys - center[1] * h) / (radius * diag)
    t = np.clip(d, 0, 1) ** power
    return _lerp_image(t, inner, outer).resize(size, Image.BILINEAR)


def _lerp_image(t: np.ndarray, a: RGB, b: RGB) -> Image.Image:
    a_arr = np.array(a, np.float32)
    b_arr = np.array(b, np.float32)
    img = a_arr + (b_arr - a_arr) * t[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


@functools.lru_cache(maxsize=16)
def _vignette_mask(size: tuple[int, int], strength: float, power: float) -> Image.Image:
    w, h = _small(size)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot((xs / w - 0.5) * 2, (ys / h - 0.5) * 2) / math.sqrt(2)
    k = 1 - strength * np.clip(d, 0, 1) ** power
    mask = Image.fromarray((k * 255).astype(np.uint8), "L").resize(size, Image.BILINEAR)
    return Image.merge("RGB", (mask, mask, mask))


def vignette(img: Image.Image, strength: float = 0.5, power: float = 2.2) -> Image.Image:
    return ImageChops.multiply(img, _vignette_mask(img.size, strength, power))


_GRAIN_TILE = 256


@functools.lru_cache(maxsize=8)
def _grain_tile(amount: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, amount, (_GRAIN_TILE, _GRAIN_TILE, 1)), -127, 127).astype(np.int16)


def add_grain(img: Image.Image, amount: float, seed: int) -> Image.Image:
    """Monochrome grain. Besides the paper look it dithers 8-bit gradients, which would band after yuv420p.
    A tiled 256² noise patch is indistinguishable from full-frame noise at this amplitude and ~10× cheaper."""
    w, h = img.size
    tile = _grain_tile(amount, seed % 4)
    reps = (h // _GRAIN_TILE + 1, w // _GRAIN_TILE + 1, 1)
    noise = np.tile(tile, reps)[:h, :w]
    arr = np.asarray(img, np.int16) + noise
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def blurred_blobs(
    size: tuple[int, int], base: RGB, blobs: list[tuple[float, float, float, RGB]], blur: float
) -> Image.Image:
    """Soft colour fields: (cx, cy, r) in fractions of the width, drawn at 1/8 scale, blurred and upscaled —
    a big Gaussian at full size would cost ~50× more for the same look."""
    w, h = size
    small = (max(8, w // 8), max(8, h // 8))
    img = Image.new("RGB", small, base)
    d = ImageDraw.Draw(img)
    for cx, cy, r, col in blobs:
        rr = r * small[0]
        d.ellipse([cx * small[0] - rr, cy * small[1] - rr, cx * small[0] + rr, cy * small[1] + rr], fill=col)
    img = img.filter(ImageFilter.GaussianBlur(blur * small[0]))
    return img.resize((w, h), Image.BILINEAR)


def drop_shadow(
    layer: Image.Image, *, offset: tuple[int, int], blur: float, color: RGB = (0, 0, 0), opacity: float = 0.5
) -> Image.Image:
    """Layer composited over its own blurred silhouette; the canvas grows so the shadow is never cut."""
    pad = int(blur * 2.2) + max(abs(offset[0]), abs(offset[1])) + 1
    w, h = layer.size
    canvas = Image.new("RGBA", (w + 2 * pad, h + 2 * pad), (0, 0, 0, 0))
    alpha = layer.getchannel("A").point(lambda v: round(v * opacity))
    shadow = Image.new("RGBA", layer.size, rgba(color))
    shadow.putalpha(alpha)
    canvas.alpha_composite(shadow, (pad + offset[0], pad + offset[1]))
    if blur > 0:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    canvas.alpha_composite(layer, (pad, pad))
    return canvas


def star_points(cx: float, cy: float, r_out: float, r_in: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def trim_alpha(img: Image.Image, pad: int = 0) -> Image.Image:
    """Crop a layer to its visible pixels (+pad) so ffmpeg overlays and scales as few pixels as possible."""
    bbox = img.getchannel("A").getbbox()
    if not bbox:
        return img
    x0, y0, x1, y1 = bbox
    return img.crop((max(0, x0 - pad), max(0, y0 - pad), min(img.width, x1 + pad), min(img.height, y1 + pad)))


def save_png(img: Image.Image, path: str) -> str:
    """Stills are read once by ffmpeg a moment later, so compression effort is wasted time.

    Big opaque backgrounds go through ``_write_stored_png`` (no row filters, stored deflate): Pillow's
    encoder picks a filter per row even at level 0, which makes a 1.2×2 k still cost ~70 ms instead of
    ~15 ms. The small, mostly transparent layers compress well and cheaply at level 1."""
    if img.mode == "RGB":
        _write_stored_png(img, path)
    else:
        img.save(path, format="PNG", compress_level=1)
    return path


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _write_stored_png(img: Image.Image, path: str) -> None:
    w, h = img.size
    rows = np.zeros((h, w * 3 + 1), np.uint8)  # column 0 = filter type 0 ("none") for every row
    rows[:, 1:] = np.asarray(img, np.uint8).reshape(h, w * 3)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_png_chunk(b"IHDR", header))
        f.write(_png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 0)))
        f.write(_png_chunk(b"IEND", b""))
