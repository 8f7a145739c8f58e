"""Foreground layers of a scene, painted once with Pillow as tight RGBA images.

Every painter gets a target box and returns an image no larger than that box (text is fitted, shapes are
scaled), so the caller only has to place it. The look is keyed off ``StyleSpec.background_kind`` — the same
knob that picks the background — so a style's type treatment always matches its backdrop.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .fonts import resolve_font
from .layout import Box, FittedText, apply_case, fit_text, text_width
from .models import RGB, Palette
from .paint import drop_shadow, ink_on, luminance, mix, rgba, star_points, trim_alpha
from .styles import StyleSpec

PROOF_LABEL = "Loved by thousands"


@dataclass(frozen=True)
class Typography:
    headline: str
    body: str
    caption: str
    button: str


def typography(style: StyleSpec) -> Typography:
    caption = resolve_font(style.caption_fonts)
    # Poster styles keep their display face on the button; the rest use the (heavier) caption face, which
    # stays legible at button size where light body weights (Lato Light) would not.
    button = resolve_font(style.headline_fonts) if style.background_kind == "color_blocks" else caption
    return Typography(resolve_font(style.headline_fonts), resolve_font(style.body_fonts), caption, button)


def fit_into(img: Image.Image, w: int, h: int) -> Image.Image:
    """Guarantee a layer never exceeds its box (decorations may add a few px after fitting)."""
    if img.width <= w and img.height <= h:
        return img
    k = min(w / img.width, h / img.height)
    return img.resize((max(1, int(img.width * k)), max(1, int(img.height * k))), Image.LANCZOS)


def draw_text_block(fitted: FittedText, fill: tuple[int, int, int, int], align: str) -> Image.Image:
    img = Image.new("RGBA", (max(1, fitted.width), max(1, fitted.height)), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    font = fitted.font
    for i, line in enumerate(fitted.lines):
        lw = text_width(font, line)
        x = 0 if align == "left" else (fitted.width - lw) // 2
        left = min(0, font.getbbox(line)[0])
        d.text((x - left, i * fitted.line_pitch), line, font=font, fill=fill, anchor="la")
    return img


def _soft_shadow(img: Image.Image, size: int, opacity: float = 0.45) -> Image.Image:
    return drop_shadow(img, offset=(0, max(2, size // 22)), blur=max(2, size / 10), opacity=opacity)


# ---------------------------------------------------------------------------------------------- headline


def render_headline(
    text: str, style: StyleSpec, pal: Palette, box: Box, *, max_size: int, align: str = "center"
) -> Image.Image:
    text = apply_case(text.strip(), style.headline_case)
    font = typography(style).headline
    kind = style.background_kind
    if kind == "color_blocks":
        img = _headline_blocks(text, font, pal, box, max_size, align)
    elif kind == "energy_shapes":
        img = _headline_energy(text, font, pal, box, max_size, align)
    elif kind == "luxe_gradient":
        img = _headline_luxe(text, font, pal, box, max_size, align)
    elif kind == "clean_paper":
        img = _headline_paper(text, font, pal, box, max_size, align)
    else:
        fitted = fit_text(text, font, int(box.w * 0.94), int(box.h * 0.9), max_size=max_size, line_spacing=1.02)
        img = _soft_shadow(draw_text_block(fitted, rgba(pal.text), align), fitted.size, 0.5)
    return fit_into(trim_alpha(img, 2), box.w, box.h)


def _headline_luxe(text: str, font: str, pal: Palette, box: Box, max_size: int, align: str) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.92), int(box.h * 0.78), max_size=max_size, line_spacing=1.08)
    block = draw_text_block(fitted, rgba(pal.text), align)
    rule_gap = max(8, fitted.size // 3)
    canvas = Image.new("RGBA", (block.width, block.height + rule_gap + 12), (0, 0, 0, 0))
    canvas.alpha_composite(block, (0, 0))
    d = ImageDraw.Draw(canvas)
    # Gold hairline with a small lozenge: the under-title ornament of luxury print.
    rw = min(block.width, max(120, fitted.size * 3))
    x0 = 0 if align == "left" else (block.width - rw) // 2
    y = block.height + rule_gap
    d.line([(x0, y), (x0 + rw, y)], fill=rgba(pal.accent, 0.9), width=2)
    cx = x0 + rw // 2
    d.polygon([(cx, y - 6), (cx + 6, y), (cx, y + 6), (cx - 6, y)], fill=rgba(pal.accent))
    return _soft_shadow(canvas, fitted.size, 0.55)


def _headline_energy(text: str, font: str, pal: Palette, box: Box, max_size: int, align: str) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.86), int(box.h * 0.74), max_size=max_size, line_spacing=0.98)
    block = draw_text_block(fitted, rgba(pal.text), align)
    off = max(3, fitted.size // 14)
    # Hard offset shadow in the deep palette colour: sticker-like punch that reads on any saturated shape.
    # The palette may flip the copy to dark ink on light orange; a dark shadow under dark text reads as a
    # smudge, so the shadow takes the opposite side.
    shadow = pal.muted if luminance(pal.text) > 0.4 else (255, 255, 255)
    img = drop_shadow(block, offset=(off, off), blur=0, color=shadow, opacity=0.92)
    return img.rotate(4, resample=Image.BICUBIC, expand=True)


def _headline_paper(text: str, font: str, pal: Palette, box: Box, max_size: int, align: str) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.9), int(box.h * 0.8), max_size=max_size, line_spacing=1.1)
    block = draw_text_block(fitted, rgba(pal.text), align)
    bar_h, gap = max(4, fitted.size // 18), max(14, fitted.size // 3)
    canvas = Image.new("RGBA", (block.width, block.height + bar_h + gap), (0, 0, 0, 0))
    bar_w = max(48, fitted.size)
    x0 = 0 if align == "left" else (block.width - bar_w) // 2
    ImageDraw.Draw(canvas).rectangle([x0, 0, x0 + bar_w, bar_h], fill=rgba(pal.accent))
    canvas.alpha_composite(block, (0, bar_h + gap))
    return canvas


def _headline_blocks(text: str, font: str, pal: Palette, box: Box, max_size: int, align: str) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.84), int(box.h * 0.8), max_size=max_size, line_spacing=1.12)
    f = fitted.font
    pad_x, pad_y = max(10, fitted.size // 6), max(6, fitted.size // 12)
    ink = ink_on(pal.accent)
    width = fitted.width + 2 * pad_x
    img = Image.new("RGBA", (width, fitted.height + 2 * pad_y), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for i, line in enumerate(fitted.lines):
        # Each line sits on its own tight slab (measured from the ink box), like pasted poster strips.
        lw = text_width(f, line)
        x = pad_x if align == "left" else (width - lw) // 2
        y = pad_y + i * fitted.line_pitch
        _l, top, _r, bottom = f.getbbox(line, anchor="la")
        d.rectangle([x - pad_x, y + top - pad_y, x + lw + pad_x, y + bottom + pad_y], fill=rgba(pal.accent))
        d.text((x - min(0, f.getbbox(line)[0]), y), line, font=f, fill=rgba(ink), anchor="la")
    return drop_shadow(img, offset=(max(4, fitted.size // 12),) * 2, blur=0, color=(0, 0, 0), opacity=0.85)


# ------------------------------------------------------------------------------------------------- hero


def _soft_ellipse(size: tuple[int, int], bbox: tuple[float, ...], color: RGB, alpha: float, blur: float) -> Image.Image:
    """A blurred ellipse, painted at 1/4 scale because only its softness matters."""
    w, h = size
    q = 4
    small = Image.new("RGBA", (max(1, w // q), max(1, h // q)), (*color, 0))
    ImageDraw.Draw(small).ellipse([v / q for v in bbox], fill=rgba(color, alpha))
    small = small.filter(ImageFilter.GaussianBlur(blur / q))
    return small.resize((w, h), Image.BICUBIC)


def _rounded_if_opaque(prod: Image.Image) -> Image.Image:
    """A photo without transparency becomes a rounded card, so it reads as an object rather than a cut-out
    rectangle."""
    lo, _hi = prod.getchannel("A").getextrema()
    if lo < 250:
        return prod
    mask = Image.new("L", prod.size, 0)
    r = round(min(prod.size) * 0.06)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, prod.width - 1, prod.height - 1], radius=r, fill=255)
    prod.putalpha(mask)
    return prod


def _glow(canvas: Image.Image, pw: int, ph: int, color: RGB, alpha: float, reach: float = 0.62) -> None:
    """A soft light behind the product, sized so its blur fades out before the layer edge — a glow cut by
    the layer rectangle would show as a box."""
    w, h = canvas.size
    lim_x, lim_y = w / 2, h / 2
    rx, ry = min(lim_x * reach, pw * 0.85), min(lim_y * reach, ph * 0.62)
    cx, cy = w / 2, h / 2
    canvas.alpha_composite(
        _soft_ellipse(canvas.size, (cx - rx, cy - ry, cx + rx, cy + ry), color, alpha, min(lim_x, lim_y) * 0.16)
    )


def product_color(prod: Image.Image) -> RGB:
    """Mean colour of the product's opaque pixels (on a thumbnail: it only steers colour choices)."""
    small = np.asarray(prod.resize((48, max(1, round(48 * prod.height / max(1, prod.width))))), np.float32)
    opaque = small[..., 3] > 128
    if not opaque.any():
        return (128, 128, 128)
    mean = small[..., :3][opaque].mean(axis=0)
    return (int(mean[0]), int(mean[1]), int(mean[2]))


def stage_color(pal: Palette, product: RGB) -> RGB:
    """The solid shape behind the product (energetic disc, bold block). An image-derived palette makes the
    accent the product's own colour, which would swallow the product, so pick the first palette colour that
    stands apart from it."""

    def dist(c: RGB) -> float:
        return float(np.linalg.norm(np.subtract(c, product, dtype=np.float32)))

    candidates = [pal.accent, pal.text, (255, 255, 255), pal.background_alt, (16, 16, 20)]
    for c in candidates:
        if dist(c) > 140:
            return c
    return max(candidates, key=dist)


def render_product_hero(image_path: str, style: StyleSpec, pal: Palette, box: Box) -> Image.Image:
    prod = _load_product(image_path)
    stage = stage_color(pal, product_color(prod))
    # At most 3× upscaling: past that a small upload turns to mush, and a smaller sharp product reads better.
    k = min(box.w * 0.86 / prod.width, box.h * 0.88 / prod.height, 3.0)
    prod = prod.resize((max(1, round(prod.width * k)), max(1, round(prod.height * k))), Image.LANCZOS)
    kind = style.background_kind
    canvas = Image.new("RGBA", (box.w, box.h), (0, 0, 0, 0))
    cx, cy = box.w / 2, box.h / 2
    pw, ph = prod.size
    d = ImageDraw.Draw(canvas)
    if kind == "luxe_gradient":
        _glow(canvas, pw, ph, pal.accent, 0.42)
        py = cy + ph / 2 - 4
        d.ellipse([cx - pw * 0.62, py - 9, cx + pw * 0.62, py + 9], outline=rgba(pal.accent, 0.75), width=2)
        shadowed = _soft_shadow(prod, ph // 4, 0.6)
    elif kind == "energy_shapes":
        rr = min(box.w, box.h) * 0.46
        d.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=rgba(stage, 0.95))
        d.ellipse(
            [cx - rr * 0.96 + 14, cy - rr * 0.96 - 12, cx + rr * 0.96 + 14, cy + rr * 0.96 - 12],
            outline=rgba((255, 255, 255), 0.9),
            width=6,
        )
        shadowed = drop_shadow(prod, offset=(14, 14), blur=3, color=pal.muted, opacity=0.8)
    elif kind == "color_blocks":
        rr = min(box.w, box.h) * 0.42
        d.rectangle([cx - rr + 24, cy - rr + 24, cx + rr + 24, cy + rr + 24], fill=(0, 0, 0, 230))
        d.rectangle([cx - rr, cy - rr, cx + rr, cy + rr], fill=rgba(stage))
        shadowed = drop_shadow(prod, offset=(16, 16), blur=0, color=(0, 0, 0), opacity=0.75)
    elif kind == "clean_paper":
        base = cy + ph / 2
        canvas.alpha_composite(
            _soft_ellipse(
                canvas.size,
                (cx - pw * 0.5, base - ph * 0.045, cx + pw * 0.5, base + ph * 0.045),
                pal.text,
                0.32,
                ph * 0.03,
            )
        )
        shadowed = _soft_shadow(prod, ph // 3, 0.2)
    else:
        # Modern: a glass disc with a crisp rim and a soft inner light.
        rr = min(box.w, box.h) * 0.44
        _glow(canvas, pw, ph, mix(pal.accent, (255, 255, 255), 0.3), 0.35, 0.7)
        d.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=(255, 255, 255, 22), outline=(255, 255, 255, 70), width=3)
        shadowed = _soft_shadow(prod, ph // 3, 0.5)
    canvas.alpha_composite(shadowed, (round(cx - shadowed.width / 2), round(cy - shadowed.height / 2)))
    return fit_into(trim_alpha(canvas, 2), box.w, box.h)


@functools.lru_cache(maxsize=4)
def _load_product_cached(image_path: str, mtime: float) -> Image.Image:
    return _rounded_if_opaque(trim_alpha(Image.open(image_path).convert("RGBA")))


def _load_product(image_path: str) -> Image.Image:
    """Decoded once per render (every scene and the end card use it); callers get a copy to paint on."""
    return _load_product_cached(image_path, os.path.getmtime(image_path)).copy()


def render_type_hero(name: str, style: StyleSpec, pal: Palette, box: Box) -> Image.Image:
    """Without a product image the product *name* is the hero, set in a style-specific badge."""
    text = apply_case(name.strip(), style.headline_case)
    fonts = typography(style)
    kind = style.background_kind
    max_size = round(min(box.w, box.h) * 0.34)
    if kind == "luxe_gradient":
        img = _type_hero_luxe(text, fonts.headline, pal, box, max_size)
    elif kind == "energy_shapes":
        img = _type_hero_sticker(text, fonts.headline, pal, box, max_size)
    elif kind == "color_blocks":
        img = _type_hero_block(text, fonts.headline, pal, box, max_size)
    elif kind == "clean_paper":
        img = _type_hero_paper(text, fonts.headline, pal, box, max_size)
    else:
        img = _type_hero_glass(text, fonts.headline, pal, box, max_size)
    return fit_into(trim_alpha(img, 2), box.w, box.h)


def _type_hero_luxe(text: str, font: str, pal: Palette, box: Box, max_size: int) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.72), int(box.h * 0.55), max_size=max_size, line_spacing=1.1)
    block = draw_text_block(fitted, rgba(pal.accent), "center")
    pad = max(30, fitted.size // 2)
    w, h = block.width + 2 * pad, block.height + 2 * pad
    img = Image.new("RGBA", (w + 8, h + 8), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rectangle([4, 4, w + 3, h + 3], fill=rgba(pal.background, 0.35), outline=rgba(pal.accent, 0.95), width=2)
    d.rectangle([14, 14, w - 7, h - 7], outline=rgba(pal.accent, 0.45), width=1)
    for cy in (4, h + 3):
        cx = (w + 8) // 2
        d.polygon([(cx, cy - 8), (cx + 8, cy), (cx, cy + 8), (cx - 8, cy)], fill=rgba(pal.accent))
    img.alpha_composite(block, (4 + pad, 4 + pad))
    return _soft_shadow(img, fitted.size, 0.5)


def _type_hero_sticker(text: str, font: str, pal: Palette, box: Box, max_size: int) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.7), int(box.h * 0.5), max_size=max_size, line_spacing=0.98)
    ink = ink_on(pal.accent, dark=pal.muted if ink_on(pal.accent) != (255, 255, 255) else (16, 16, 20))
    block = draw_text_block(fitted, rgba(ink), "center")
    pad_x, pad_y = max(28, fitted.size // 2), max(20, fitted.size // 3)
    w, h = block.width + 2 * pad_x, block.height + 2 * pad_y
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle([0, 0, w - 1, h - 1], radius=min(w, h) // 4, fill=rgba(pal.accent))
    img.alpha_composite(block, (pad_x, pad_y))
    img = drop_shadow(img, offset=(14, 14), blur=0, color=pal.muted, opacity=0.9)
    return img.rotate(-6, resample=Image.BICUBIC, expand=True)


def _type_hero_block(text: str, font: str, pal: Palette, box: Box, max_size: int) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.76), int(box.h * 0.6), max_size=round(max_size * 1.3), line_spacing=1.0)
    ink = ink_on(pal.accent)
    block = draw_text_block(fitted, rgba(ink), "center")
    pad = max(24, fitted.size // 4)
    w, h = block.width + 2 * pad, block.height + 2 * pad
    img = Image.new("RGBA", (w, h), rgba(pal.accent))
    img.alpha_composite(block, (pad, pad))
    return drop_shadow(img, offset=(22, 22), blur=0, color=mix(pal.background, (0, 0, 0), 0.5), opacity=1.0)


def _type_hero_paper(text: str, font: str, pal: Palette, box: Box, max_size: int) -> Image.Image:
    fitted = fit_text(
        text, font, int(box.w * 0.84), int(box.h * 0.6), max_size=round(max_size * 1.2), line_spacing=1.08
    )
    block = draw_text_block(fitted, rgba(pal.text), "center")
    gap = max(18, fitted.size // 3)
    img = Image.new("RGBA", (block.width, block.height + gap + 6), (0, 0, 0, 0))
    img.alpha_composite(block, (0, 0))
    rw = min(block.width, max(80, fitted.size * 2))
    x0 = (block.width - rw) // 2
    ImageDraw.Draw(img).rectangle([x0, block.height + gap, x0 + rw, block.height + gap + 5], fill=rgba(pal.accent))
    return img


def _type_hero_glass(text: str, font: str, pal: Palette, box: Box, max_size: int) -> Image.Image:
    fitted = fit_text(text, font, int(box.w * 0.7), int(box.h * 0.5), max_size=max_size, line_spacing=1.04)
    block = draw_text_block(fitted, rgba(pal.text), "center")
    pad_x, pad_y = max(40, fitted.size // 2), max(36, fitted.size // 2)
    w, h = block.width + 2 * pad_x, block.height + 2 * pad_y
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    radius = min(w, h) // 5
    d.rounded_rectangle(
        [0, 0, w - 1, h - 1], radius=radius, fill=(255, 255, 255, 34), outline=(255, 255, 255, 110), width=3
    )
    dot = max(10, fitted.size // 6)
    d.ellipse(
        [w // 2 - dot, pad_y // 2 - dot // 2, w // 2 + dot, pad_y // 2 + dot // 2 + dot // 2], fill=rgba(pal.accent)
    )
    img.alpha_composite(block, (pad_x, pad_y))
    return _soft_shadow(img, fitted.size, 0.35)


# --------------------------------------------------------------------------------------------- extras


def render_proof_badge(style: StyleSpec, pal: Palette, box: Box) -> Image.Image:
    """★★★★★ + a short social-proof line in a pill. Stars are drawn, not typed: not every font has ★."""
    fonts = typography(style)
    h = min(round(box.h * 0.8), round(box.w * 0.2))  # 20 % spare for the soft shadow
    star_r = h * 0.2
    stars_w = round(star_r * 2.1 * 5)
    pad = round(h * 0.32)
    label = apply_case(PROOF_LABEL, "upper" if style.headline_case == "upper" else "as_is")
    fitted = fit_text(
        label, fonts.caption, int(box.w - stars_w - 3 * pad), int(h * 0.42), max_size=round(h * 0.34), max_lines=1
    )
    w = min(box.w, stars_w + fitted.width + 3 * pad)
    kind = style.background_kind
    fill, outline, ink, star = _badge_colors(kind, pal)
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    radius = 0 if kind == "color_blocks" else h // 2
    d.rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, fill=fill, outline=outline, width=2 if outline else 0)
    for i in range(5):
        d.polygon(star_points(pad + star_r + i * star_r * 2.1, h / 2, star_r, star_r * 0.45), fill=star)
    img.alpha_composite(draw_text_block(fitted, ink, "left"), (pad * 2 + stars_w, round((h - fitted.height) / 2)))
    return fit_into(_soft_shadow(img, h, 0.3), box.w, box.h)


def _badge_colors(kind: str, pal: Palette) -> tuple:
    accent = rgba(pal.accent)
    if kind == "luxe_gradient":
        return rgba(pal.background, 0.7), rgba(pal.accent, 0.8), rgba(pal.text), accent
    if kind == "energy_shapes":
        return (255, 255, 255, 245), None, rgba(pal.muted), rgba(mix(pal.background, (0, 0, 0), 0.1))
    if kind == "clean_paper":
        return (255, 255, 255, 235), rgba(pal.muted, 0.5), rgba(pal.text), accent
    if kind == "color_blocks":
        return (10, 10, 12, 255), None, (255, 255, 255, 255), accent
    return (255, 255, 255, 38), (255, 255, 255, 90), rgba(pal.text), accent


def render_cta_button(text: str, style: StyleSpec, pal: Palette, box: Box) -> Image.Image:
    """The accent button carrying the CTA text, with a drawn chevron (fonts rarely agree on arrows)."""
    fonts = typography(style)
    kind = style.background_kind
    text = apply_case(text.strip(), "upper" if style.headline_case == "upper" else "as_is")
    bh_max = box.h
    fitted = fit_text(
        text, fonts.button, int(box.w * 0.74), int(bh_max * 0.5), max_size=round(bh_max * 0.42), max_lines=2
    )
    pad_y = max(12, round(fitted.height * 0.45))
    bh = fitted.height + 2 * pad_y
    pad_x = round(bh * 0.45)
    chevron = 0 if kind in ("luxe_gradient", "clean_paper") else round(bh * 0.32)
    bw = fitted.width + 2 * pad_x + (chevron + pad_x // 2 if chevron else 0)
    fill = pal.accent
    ink = ink_on(fill)
    img = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    radius = {"color_blocks": 0, "clean_paper": bh // 6}.get(kind, bh // 2)
    if kind == "luxe_gradient":
        # Gold leaf: a two-tone fill reads as metal rather than flat yellow.
        grad = Image.new("RGBA", (bw, bh))
        gd = ImageDraw.Draw(grad)
        for y in range(bh):
            gd.line(
                [(0, y), (bw, y)], fill=rgba(mix(mix(fill, (255, 255, 255), 0.35), mix(fill, (0, 0, 0), 0.15), y / bh))
            )
        mask = Image.new("L", (bw, bh), 0)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, bw - 1, bh - 1], radius=radius, fill=255)
        img.paste(grad, (0, 0), mask)
    else:
        d.rounded_rectangle([0, 0, bw - 1, bh - 1], radius=radius, fill=rgba(fill))
    img.alpha_composite(draw_text_block(fitted, rgba(ink), "center"), (pad_x, pad_y))
    if chevron:
        cx = bw - pad_x - chevron // 2
        s = chevron / 2
        d.line(
            [(cx - s / 2, bh / 2 - s), (cx + s / 2, bh / 2), (cx - s / 2, bh / 2 + s)],
            fill=rgba(ink),
            width=max(3, bh // 14),
            joint="curve",
        )
    if kind == "color_blocks":
        img = drop_shadow(img, offset=(10, 10), blur=0, color=(0, 0, 0), opacity=0.9)
    elif kind == "energy_shapes":
        img = drop_shadow(img, offset=(9, 9), blur=0, color=pal.muted, opacity=0.9)
    else:
        img = _soft_shadow(img, bh, 0.45)
    return fit_into(trim_alpha(img, 2), box.w, box.h)


def headline_max_size(layout: str, size: tuple[int, int]) -> int:
    """Upper bound of the headline size per layout (the fitter may go smaller, never larger)."""
    base = min(size)
    if size[0] > size[1] * 1.2:
        # Landscape gives the headline a whole column beside the product: let it be poster-sized.
        k = {"statement": 0.17, "hero": 0.14, "showcase": 0.12, "cta": 0.12}.get(layout, 0.13)
    else:
        k = {"statement": 0.15, "hero": 0.1, "showcase": 0.095, "cta": 0.085}.get(layout, 0.1)
    return round(base * k)
