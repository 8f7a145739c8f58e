"""Offline character reference: a stylised full-body character card painted with Pillow.

The card is what the original system asked Imagen for (one figure, front-facing, head to toe, neutral
backdrop), drawn from the description's words (see traits.py) in the flavor's look: soft studio light by
default, coloured stage spots for ``stage``, blinds-and-hard-key monochrome for ``noir``. The description
runs along the bottom as a caption.

The card embeds its character spec as metadata (PNG text chunk, JPEG comment or WebP XMP), so the clip
renderer can redraw exactly this character in motion. Any other image still works as a reference: the clip
renderer then cuts the subject out of it instead.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

from ..media.fonts import resolve_font
from ..media.layout import fit_text
from ..media.paint import add_grain, mix, radial_gradient, vignette
from .figure import draw_figure, figure_canvas
from .flavors import ResolvedFlavor, load_flavor
from .look import Look, grade, light_figure, look_of
from .poses import reference_pose
from .traits import CharacterSpec, parse_character

META_KEY = "badapple:character"
# Pixel sizes per image aspect (the sizes Imagen-class models return for these ratios).
CARD_SIZES = {"1:1": (1024, 1024), "16:9": (1408, 768), "9:16": (768, 1408), "4:3": (1280, 896), "3:4": (896, 1280)}
IMAGE_FORMATS = {"png": ("PNG", ".png"), "jpg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}
CAPTION_FONTS = ("Lato-Semibold.ttf", "OpenSans-Semibold.ttf", "DejaVuSans-Bold.ttf")
LABEL_FONTS = ("Lato-Bold.ttf", "DejaVuSans-Bold.ttf")


def render_character_reference(
    description: str,
    flavor: ResolvedFlavor | str | None,
    out_png: str,
    seed: int = 0,
) -> str:
    """Paint the card for ``description`` and write it in the flavor's image format and aspect.

    The file extension follows ``image_params.output_format``: if ``out_png`` ends differently the suffix is
    replaced, and the path actually written is returned."""
    if not description or not description.strip():
        raise ValueError("character description must not be empty")
    flav = flavor if isinstance(flavor, ResolvedFlavor) else load_flavor(flavor)
    look = look_of(flav)
    size = CARD_SIZES[flav.image_params["aspect_ratio"]]
    fmt, ext = IMAGE_FORMATS[flav.image_params["output_format"]]
    spec = parse_character(description, seed)
    rng = random.Random(f"card:{description}:{seed}:{flav.digest}")

    card = paint_card(spec, look, size, rng, flav.name, seed)
    out = Path(out_png)
    if out.suffix.lower() != ext and not (ext == ".jpg" and out.suffix.lower() == ".jpeg"):
        out = out.with_suffix(ext)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"v": 1, "description": description.strip(), "seed": seed, "flavor": flav.name,
                       "spec": spec.to_dict()}, separators=(",", ":"))
    _save(card, out, fmt, meta)
    return str(out)


def paint_card(spec: CharacterSpec, look: Look, size: tuple[int, int], rng: random.Random, flavor: str,
               seed: int) -> Image.Image:
    w, h = size
    caption_h = round(h * 0.13)
    floor_y = round((h - caption_h) * 0.9)
    fig_h = (h - caption_h) * 0.74
    bg = _backdrop(size, look, floor_y, rng)

    fw, fh, (sx, sy) = figure_canvas(fig_h)
    fig = grade(light_figure(draw_figure(spec, reference_pose(spec), fig_h), look, key_side=-1), look, lift=True)
    ox, oy = round(w / 2 - sx), round(floor_y - sy)
    _contact_shadow(bg, w / 2, floor_y, fig_h, look)
    # Backdrop and figure are graded separately: the figure gets the lifted curve (see look.grade).
    bg = grade(bg, look).convert("RGBA")
    bg.alpha_composite(fig, (ox, oy)) if ox >= 0 and oy >= 0 else bg.paste(fig, (ox, oy), fig)
    img = bg.convert("RGB")
    img = vignette(img, 0.2 + 0.4 * look.vignette)
    img = add_grain(img, 1.5 + 9 * look.grain, seed)
    _caption(img, spec.description, look, caption_h, flavor)
    if look.monochrome:  # captions and labels are drawn in colour-neutral inks, but make it exact
        img = img.convert("L").convert("RGB")
    return img


# ------------------------------------------------------------------------------------------------ backdrops

def _backdrop(size: tuple[int, int], look: Look, floor_y: int, rng: random.Random) -> Image.Image:
    w, h = size
    if look.lighting == "stage":
        return _stage_backdrop(size, look, floor_y, rng)
    if look.lighting == "noir":
        return _noir_backdrop(size, look, floor_y, rng)
    # Soft studio: a warm grey sweep, brighter behind the subject, a slightly darker floor.
    wall = mix((196, 194, 190), look.light, 0.35)
    img = radial_gradient(size, mix(wall, (255, 255, 255), 0.35), mix(wall, look.base, 0.3), (0.5, 0.42), 0.75, 1.3)
    floor = Image.new("RGB", (w, h - floor_y), mix(wall, look.base, 0.22))
    fade = Image.linear_gradient("L").resize((w, h - floor_y)).point(lambda v: 255 - v // 3)
    img.paste(floor, (0, floor_y), fade)
    return img


def _stage_backdrop(size: tuple[int, int], look: Look, floor_y: int, rng: random.Random) -> Image.Image:
    w, h = size
    img = radial_gradient(size, mix(look.base, look.shadow, 0.35), look.shadow, (0.5, 0.45), 0.7, 1.1)
    beams = Image.new("RGB", size, (0, 0, 0))
    d = ImageDraw.Draw(beams)
    # Two spot beams from the truss corners, crossing on the performer, plus a pool on the floor.
    for x_src, col in ((w * 0.08, look.accent), (w * 0.92, look.accent_alt)):
        spread = w * rng.uniform(0.1, 0.16)
        d.polygon([(x_src - w * 0.02, -10), (x_src + w * 0.02, -10), (w / 2 + spread, floor_y),
                   (w / 2 - spread, floor_y)], fill=mix(col, (0, 0, 0), 0.45))
    d.ellipse([w * 0.28, floor_y - h * 0.035, w * 0.72, floor_y + h * 0.05], fill=mix(look.light, look.accent, 0.3))
    beams = beams.filter(ImageFilter.GaussianBlur(w * 0.02))
    img = Image.fromarray(_screen(img, beams))
    # Haze: a few faint light blobs drifting through the beams.
    haze = Image.new("RGB", size, (0, 0, 0))
    hd = ImageDraw.Draw(haze)
    for _ in range(6):
        cx, cy, r = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.6) * h, rng.uniform(0.08, 0.18) * w
        hd.ellipse([cx - r, cy - r, cx + r, cy + r], fill=mix(look.base, look.light, 0.25))
    haze = haze.filter(ImageFilter.GaussianBlur(w * 0.06))
    img = Image.blend(img, Image.fromarray(_screen(img, haze)), 0.5)
    d2 = ImageDraw.Draw(img)
    for k in range(1, 4):  # stage-floor board lines receding toward the back
        y = floor_y + (h - floor_y) * (k / 4) ** 1.6
        d2.line([(0, y), (w, y)], fill=mix(look.shadow, look.base, 0.3), width=max(1, w // 900))
    return img


def _noir_backdrop(size: tuple[int, int], look: Look, floor_y: int, rng: random.Random) -> Image.Image:
    w, h = size
    img = radial_gradient(size, (128, 128, 128), (40, 40, 40), (0.42, 0.4), 0.8, 1.2)
    light = Image.new("L", size, 0)
    d = ImageDraw.Draw(light)
    # Venetian-blind slats: parallel diagonal bands of hard light thrown across the wall.
    slope = rng.uniform(0.35, 0.5)
    gap, band = h * 0.075, h * 0.04
    y = -w * slope
    while y < floor_y:
        d.polygon([(0, y), (w, y + w * slope), (w, y + w * slope + band), (0, y + band)], fill=110)
        y += gap
    light = light.filter(ImageFilter.GaussianBlur(w * 0.003))
    img = Image.composite(Image.new("RGB", size, (225, 225, 225)), img, light.point(lambda v: v // 2))
    ImageDraw.Draw(img).rectangle([0, floor_y, w, h], fill=(30, 30, 30))
    return img


def _screen(a: Image.Image, b: Image.Image) -> np.ndarray:
    x = np.asarray(a, np.float32) / 255
    y = np.asarray(b, np.float32) / 255
    return (255 * (1 - (1 - x) * (1 - y))).astype(np.uint8)


def _contact_shadow(img: Image.Image, cx: float, floor_y: float, fig_h: float, look: Look) -> None:
    w, h = img.size
    mask = Image.new("L", img.size, 0)
    rx, ry = fig_h * 0.2, fig_h * 0.028
    ImageDraw.Draw(mask).ellipse([cx - rx, floor_y - ry, cx + rx, floor_y + ry], fill=150)
    mask = mask.filter(ImageFilter.GaussianBlur(fig_h * 0.015))
    img.paste(Image.new("RGB", img.size, mix(look.shadow, (0, 0, 0), 0.5)), (0, 0), mask)


def _caption(img: Image.Image, description: str, look: Look, band_h: int, flavor: str) -> None:
    w, h = img.size
    text = description.strip()
    if len(text) > 180:
        text = text[:177].rsplit(" ", 1)[0] + "…"
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    top = h - band_h
    ink_bg = (12, 12, 14) if not look.monochrome else (8, 8, 8)
    d.rectangle([0, top, w, h], fill=(*ink_bg, 215))
    accent = (235, 235, 235) if look.monochrome else look.accent
    d.rectangle([0, top, w, top + max(2, h // 300)], fill=(*accent, 255))
    pad = round(w * 0.045)
    fitted = fit_text(text, resolve_font(CAPTION_FONTS), w - 2 * pad, round(band_h * 0.62),
                      max_size=round(band_h * 0.34), min_size=10, max_lines=2)
    y = top + (band_h - fitted.height) / 2 + fitted.ascent
    for line in fitted.lines:
        d.text((pad, y), line, font=fitted.font, fill=(245, 245, 242, 255), anchor="ls")
        y += fitted.line_pitch
    label_font = fit_text("CHARACTER REFERENCE", resolve_font(LABEL_FONTS), w, h, max_size=max(10, h // 60)).font
    d.text((pad, round(h * 0.045)), "CHARACTER REFERENCE", font=label_font, fill=(*_label_ink(img), 200), anchor="ls")
    d.text((w - pad, round(h * 0.045)), flavor.upper(), font=label_font, fill=(*_label_ink(img), 150), anchor="rs")
    img.paste(Image.alpha_composite(img.convert("RGBA"), over).convert("RGB"))


def _label_ink(img: Image.Image) -> tuple[int, int, int]:
    corner = np.asarray(img.crop((0, 0, img.width // 4, img.height // 12)).convert("L"), np.float32).mean()
    return (20, 20, 24) if corner > 140 else (235, 235, 235)


def _save(img: Image.Image, path: Path, fmt: str, meta: str) -> None:
    if fmt == "PNG":
        info = PngInfo()
        info.add_text(META_KEY, meta, zip=True)
        img.save(path, format="PNG", pnginfo=info, optimize=False, compress_level=6)
    elif fmt == "JPEG":
        img.save(path, format="JPEG", quality=92, comment=(META_KEY + "=" + meta).encode())
    else:
        xmp = f'<badapple:character xmlns:badapple="urn:badapple">{meta}</badapple:character>'
        img.save(path, format="WEBP", quality=92, xmp=xmp.encode())


def read_character_metadata(path: str) -> dict[str, Any] | None:
    """The spec a card embedded, or None for any other image (or a card whose metadata was stripped)."""
    try:
        with Image.open(path) as im:
            raw: Any = None
            if im.format == "PNG":
                raw = getattr(im, "text", {}).get(META_KEY)
            elif im.format == "JPEG":
                com = im.info.get("comment", b"")
                com = com.decode(errors="replace") if isinstance(com, bytes) else str(com)
                raw = com.split("=", 1)[1] if com.startswith(META_KEY + "=") else None
            elif im.format == "WEBP":
                xmp = im.info.get("xmp", b"")
                xmp = xmp.decode(errors="replace") if isinstance(xmp, bytes) else str(xmp)
                if "<badapple:character" in xmp:
                    raw = xmp.split(">", 1)[1].rsplit("</badapple:character>", 1)[0]
        return json.loads(raw) if raw else None
    except (OSError, ValueError):
        return None
