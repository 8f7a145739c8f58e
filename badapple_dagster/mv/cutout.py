"""Cut the subject out of a foreign reference image (an upload, or a card whose metadata was stripped).

Reference images are usually a figure on a plain backdrop, so the backdrop colour is estimated from the
border and everything clearly different from it is kept (closed, feathered, cropped to the subject). If the
border is busy - a photo with a real background - no colour key can work, and the image is used as a
soft-edged oval portrait instead, which still reads as "that character" inside the scene.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MAX_SIDE = 1600  # enough for any framing; larger uploads are reduced before any pixel work


def cutout_subject(path: str) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        if im.mode == "RGBA" and im.getchannel("A").getextrema()[0] < 250:
            rgba = im.copy()  # already has transparency: trust it
            return _crop(_limit(rgba))
        rgb = _limit(im.convert("RGB"))
    arr = np.asarray(rgb, np.float32)
    h, w = arr.shape[:2]
    b = max(2, min(h, w) // 25)
    border = np.concatenate([arr[:b].reshape(-1, 3), arr[-b:].reshape(-1, 3), arr[:, :b].reshape(-1, 3),
                             arr[:, -b:].reshape(-1, 3)])
    key = np.median(border, axis=0)
    spread = float(np.percentile(np.linalg.norm(border - key, axis=1), 90))
    if spread > 40:
        return _oval(rgb)
    dist = np.linalg.norm(arr - key, axis=2)
    mask = Image.fromarray(((dist > max(28.0, spread * 2.5 + 12)) * 255).astype(np.uint8), "L")
    # Close small holes, drop speckles, then feather the edge by a pixel or two.
    k = max(3, (min(h, w) // 200) * 2 + 1)
    mask = mask.filter(ImageFilter.MaxFilter(k)).filter(ImageFilter.MinFilter(k))
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(1))
    if mask.getbbox() is None:
        return _oval(rgb)
    out = rgb.convert("RGBA")
    out.putalpha(mask)
    return _crop(out)


def _limit(img: Image.Image) -> Image.Image:
    scale = MAX_SIDE / max(img.size)
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    return img


def _crop(img: Image.Image) -> Image.Image:
    bbox = img.getchannel("A").getbbox()
    return img.crop(bbox) if bbox else img


def _oval(rgb: Image.Image) -> Image.Image:
    w, h = rgb.size
    mask = Image.new("L", rgb.size, 0)
    ImageDraw.Draw(mask).ellipse([w * 0.06, h * 0.04, w * 0.94, h * 0.98], fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(min(w, h) * 0.04))
    out = rgb.convert("RGBA")
    out.putalpha(mask)
    return out
