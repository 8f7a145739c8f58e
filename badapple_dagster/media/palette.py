"""Colours of an ad: the style's own palette, or one derived from the product image.

Image-derived palettes borrow the product's hues but keep the style's lightness and saturation, so a luxury ad
stays dark and a minimal ad stays light whatever the product looks like. Every palette leaving this module
meets WCAG AA (4.5:1) for the on-screen text against both background colours.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np
from PIL import Image

from .models import RGB, Palette
from .styles import StyleSpec

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

MIN_TEXT_CONTRAST = 4.5  # WCAG AA for normal text
_TEXT_TARGET = 4.6  # aim a little above the limit so 8-bit rounding never lands us at 4.49
# The accent marks the active caption word and the CTA button: WCAG's 3:1 for UI components, or else a clear
# hue difference (yellow on orange is obvious to the eye at only ~1.7:1, red on dark red at 2:1 is not).
_ACCENT_CONTRAST = 3.0
_ACCENT_MIN_CONTRAST = 1.5
_ACCENT_MIN_DISTANCE = 120.0
_ACCENT_MIN_HUE_GAP = 15 / 360
_INK: RGB = (24, 22, 28)  # dark text for saturated styles whose own palette has no dark enough colour
# A re-hued background that has to move further than this in lightness (or lands in the olive band) no
# longer looks like the style; the style's own colour is used for that role instead.
_MAX_LIGHTNESS_SHIFT = 0.15
_MUDDY_HUES = (45 / 360, 80 / 360)  # dark yellows and yellow-greens read as olive/khaki, not as colour

_THUMB_SIDE = 96  # ~9k pixels: enough for stable dominant colours, quantises in milliseconds
_ALPHA_MIN = 32  # pixels more transparent than this are cut-out background, not product
_BORDER = 2  # thumbnail border ring used to detect a studio backdrop
_BACKDROP_SHARE = 0.6  # share of the border that must be plain white/black to call it a backdrop
_BACKDROP_WEIGHT = 0.15  # how much a backdrop colour still counts
_MIN_ACCENT_CHROMA = 60  # below this a colour is too grey to be an accent
_MIN_HUE_CHROMA = 30  # below this a colour's hue is noise


# ------------------------------------------------------------------------------------------ colour maths


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 = black, 1 = white)."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours, from 1.0 (identical) to 21.0 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _chroma(rgb: RGB) -> int:
    return max(rgb) - min(rgb)


def _hls(rgb: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)


def _from_hls(h: float, l: float, s: float) -> RGB:  # noqa: E741 - HLS lightness is conventionally "l"
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(l, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def _distance(a: RGB, b: RGB) -> float:
    """'Redmean' colour distance: a cheap approximation of perceived difference, good enough to tell
    whether two colours read as different hues."""
    rmean = (a[0] + b[0]) / 2
    dr, dg, db = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return math.sqrt((2 + rmean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rmean) / 256) * db * db)


# ---------------------------------------------------------------------------------------- image analysis


def _is_plain_light(rgb: np.ndarray) -> np.ndarray:
    return (rgb.min(axis=-1) >= 215) & ((rgb.max(axis=-1) - rgb.min(axis=-1)) <= 25)


def _is_plain_dark(rgb: np.ndarray) -> np.ndarray:
    return rgb.max(axis=-1) <= 40


def _backdrop_kind(pixels: np.ndarray, opaque: np.ndarray) -> str | None:
    """'light' or 'dark' when the thumbnail's border is mostly a plain studio backdrop, else None."""
    ring = np.ones(opaque.shape, dtype=bool)
    ring[_BORDER:-_BORDER, _BORDER:-_BORDER] = False
    ring &= opaque
    if ring.sum() < 8:
        # Border is (mostly) transparent: a cut-out product, there is no backdrop to discount.
        return None
    border = pixels[ring][:, :3].astype(np.int16)
    if _is_plain_light(border).mean() >= _BACKDROP_SHARE:
        return "light"
    if _is_plain_dark(border).mean() >= _BACKDROP_SHARE:
        return "dark"
    return None


def _load_thumbnail(image_path: str) -> np.ndarray:
    with Image.open(image_path) as im:
        if im.format == "JPEG":
            im.draft("RGB", (_THUMB_SIDE * 2, _THUMB_SIDE * 2))
        rgba = im.convert("RGBA")
    rgba.thumbnail((_THUMB_SIDE, _THUMB_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(rgba)


def dominant_colors(image_path: str, k: int = 5) -> list[tuple[RGB, float]]:
    """The ``k`` most prominent colours of an image as ``(rgb, share)``, most prominent first.

    Transparent pixels are ignored, and a plain white/black studio backdrop (detected on the image border)
    only counts for a fraction of its area: otherwise every packshot would be "mostly white". Shares are
    relative to the weighted total, so they sum to at most 1. Empty when the image is fully transparent.
    """
    pixels = _load_thumbnail(image_path)
    opaque = pixels[..., 3] >= _ALPHA_MIN
    if not opaque.any():
        return []
    backdrop = _backdrop_kind(pixels, opaque)
    rgb = pixels[opaque][:, :3]
    # Quantise only the opaque pixels (as a 1-pixel-high strip) so transparency cannot become a "colour".
    strip = Image.fromarray(np.ascontiguousarray(rgb.reshape(1, -1, 3)), "RGB")
    # A few spare clusters so the backdrop and its shadows do not crowd out the product's colours.
    quantized = strip.quantize(colors=k + 3, method=Image.Quantize.MEDIANCUT)
    flat = quantized.getpalette() or []
    weighted: list[tuple[RGB, float]] = []
    for count, index in quantized.getcolors() or []:
        colour: RGB = (flat[3 * index], flat[3 * index + 1], flat[3 * index + 2])
        weight = float(count)
        if backdrop is not None and _matches_backdrop(colour, backdrop):
            weight *= _BACKDROP_WEIGHT
        weighted.append((colour, weight))
    total = sum(w for _c, w in weighted) or 1.0
    ranked = sorted(weighted, key=lambda cw: (-cw[1], cw[0]))
    return [(colour, round(w / total, 4)) for colour, w in ranked[:k]]


def _matches_backdrop(colour: RGB, backdrop: str) -> bool:
    arr = np.array(colour, dtype=np.int16)
    return bool(_is_plain_light(arr) if backdrop == "light" else _is_plain_dark(arr))


# ------------------------------------------------------------------------------------------------ palette


def _style_palette(style: StyleSpec) -> Palette:
    return Palette(
        background=style.background,
        background_alt=style.background_alt,
        text=style.text,
        accent=style.accent,
        muted=style.muted,
        source="style",
    )


def _most_vivid(colours: list[tuple[RGB, float]]) -> RGB | None:
    """The colour that pops most; a tiny speck of saturated colour should not beat the product body."""
    candidates = [(c, s) for c, s in colours if s >= 0.02 and _chroma(c) >= _MIN_ACCENT_CHROMA]
    if not candidates:
        return None
    return max(candidates, key=lambda cs: _chroma(cs[0]) * cs[1] ** 0.25)[0]


def _key_hue(colours: list[tuple[RGB, float]]) -> float | None:
    """Hue of the most prominent colour that has a hue at all (greys and the backdrop have none)."""
    for colour, _share in colours:
        if _chroma(colour) >= _MIN_HUE_CHROMA:
            return _hls(colour)[0]
    return None


def _rehue(colour: RGB, hue: float) -> RGB:
    """``colour`` with its hue replaced and lightness/saturation kept: the style's character survives."""
    _h, l, s = _hls(colour)  # noqa: E741
    return _from_hls(hue, l, s)


def _hue_gap(a: RGB, b: RGB) -> float:
    d = abs(_hls(a)[0] - _hls(b)[0])
    return min(d, 1.0 - d)


def _lightness_shift(a: RGB, b: RGB) -> float:
    return abs(_hls(a)[1] - _hls(b)[1])


def _hue_offset(style: StyleSpec) -> float:
    """Hue step between the style's two background colours (energetic: pink -> orange), reused so an
    image-derived gradient keeps the same kind of movement. Zero when either colour is near grey."""
    h1, _l1, s1 = _hls(style.background)
    h2, _l2, s2 = _hls(style.background_alt)
    if min(s1, s2) < 0.15 or min(_chroma(style.background), _chroma(style.background_alt)) < 12:
        return 0.0
    return (h2 - h1 + 0.5) % 1.0 - 0.5


def _is_flexible(style: StyleSpec) -> bool:
    """Saturated mid-tone backgrounds (energetic) can carry light or dark text; every other style has a side
    (luxury/bold/modern dark, minimal light) that is part of its look."""
    return all(0.3 <= _hls(c)[1] <= 0.8 for c in (style.background, style.background_alt))


def _meets(text: RGB, backgrounds: tuple[RGB, ...], target: float) -> bool:
    return all(contrast_ratio(text, bg) >= target for bg in backgrounds)


def _fit_background(bg: RGB, text: RGB) -> RGB:
    """Move ``bg`` away from the text's lightness (keeping hue and saturation) until the text reads on it."""
    h, l, s = _hls(bg)  # noqa: E741
    step = -0.01 if relative_luminance(text) > 0.5 else 0.01
    candidate = bg
    for _ in range(100):
        if contrast_ratio(text, candidate) >= _TEXT_TARGET:
            break
        l = min(max(l + step, 0.0), 1.0)  # noqa: E741
        candidate = _from_hls(h, l, s)
    return candidate


def _is_muddy(colour: RGB) -> bool:
    h, l, s = _hls(colour)  # noqa: E741
    return l < 0.35 and s >= 0.3 and _MUDDY_HUES[0] <= h <= _MUDDY_HUES[1]


def _keep_character(derived: RGB, own: RGB, text: RGB) -> RGB:
    """``derived`` made readable under ``text``, or the style's ``own`` colour when that would mean a big
    lightness change or a muddy result (a yellow product cannot give a bold ad a dark yellow block)."""
    fitted = _fit_background(derived, text)
    if _lightness_shift(derived, fitted) > _MAX_LIGHTNESS_SHIFT or _is_muddy(fitted):
        return _fit_background(own, text)
    return fitted


def _text_sides(style: StyleSpec) -> tuple[RGB, RGB]:
    """The style's light and dark text options."""
    if relative_luminance(style.text) > 0.5:
        dark = style.muted if relative_luminance(style.muted) < 0.05 else _INK
        return style.text, dark
    return WHITE, style.text


def _choose_text_side(style: StyleSpec, backgrounds: tuple[RGB, RGB]) -> tuple[RGB, tuple[RGB, RGB]]:
    """For flexible styles: light or dark text, whichever needs the smaller change to the backgrounds."""
    options = []
    for rank, text in enumerate(_text_sides(style)):
        fitted = (_fit_background(backgrounds[0], text), _fit_background(backgrounds[1], text))
        shift = sum(_lightness_shift(a, b) for a, b in zip(backgrounds, fitted, strict=True))
        prefer_own = 0 if text == style.text else 1
        options.append((round(shift, 3), prefer_own, rank, text, fitted))
    _shift, _own, _rank, text, fitted = min(options)
    return text, fitted


def ensure_text_contrast(text: RGB, backgrounds: tuple[RGB, ...]) -> RGB:
    """Nudge ``text`` toward white or black (the smallest step that works) until it reaches 4.5:1 against
    every background. Returns the better of white/black if no blend is enough (backgrounds straddle)."""
    if _meets(text, backgrounds, _TEXT_TARGET):
        return text
    for i in range(1, 21):
        t = i / 20
        blends = (_mix(text, WHITE, t), _mix(text, BLACK, t))
        passing = [c for c in blends if _meets(c, backgrounds, _TEXT_TARGET)]
        if passing:
            return max(passing, key=lambda c: min(contrast_ratio(c, bg) for bg in backgrounds))
    return max((WHITE, BLACK), key=lambda c: min(contrast_ratio(c, bg) for bg in backgrounds))


def _distinguishable(colour: RGB, bg: RGB) -> bool:
    ratio = contrast_ratio(colour, bg)
    if ratio >= _ACCENT_CONTRAST:
        return True
    different_hue = min(_chroma(colour), _chroma(bg)) >= _MIN_HUE_CHROMA and _hue_gap(colour, bg) >= _ACCENT_MIN_HUE_GAP
    return different_hue and ratio >= _ACCENT_MIN_CONTRAST and _distance(colour, bg) >= _ACCENT_MIN_DISTANCE


def _fit_accent(colour: RGB, backgrounds: tuple[RGB, ...], max_shift: float) -> RGB | None:
    """The smallest lightness change (hue and saturation kept) that makes ``colour`` stand out from every
    background, or None if more than ``max_shift`` would be needed."""
    h, l, s = _hls(colour)  # noqa: E741
    steps = int(round(max_shift / 0.025))
    for i in range(steps + 1):
        for candidate_l in sorted({l + i * 0.025, l - i * 0.025}):
            if not 0.08 <= candidate_l <= 0.95:
                continue
            candidate = colour if i == 0 else _from_hls(h, candidate_l, s)
            if all(_distinguishable(candidate, bg) for bg in backgrounds):
                return candidate
    return None


def _pick_accent(candidates: list[tuple[RGB, float]], backgrounds: tuple[RGB, ...], text: RGB) -> RGB:
    """First candidate that can be made visible within its allowed lightness shift; the text colour (already
    4.5:1 against both backgrounds) is the last resort."""
    for colour, max_shift in candidates:
        fitted = _fit_accent(colour, backgrounds, max_shift)
        if fitted is not None:
            return fitted
    return text


def _finish(palette: Palette, accent_candidates: list[tuple[RGB, float]]) -> Palette:
    """Enforce the guarantees every palette leaves with: text contrast, visible accent."""
    backgrounds = (palette.background, palette.background_alt)
    text = ensure_text_contrast(palette.text, backgrounds)
    if not _meets(text, backgrounds, MIN_TEXT_CONTRAST):
        # Only reachable when the two backgrounds sit on opposite sides of mid-grey: pull them together.
        backgrounds = (_fit_background(backgrounds[0], text), _fit_background(backgrounds[1], text))
    accent = _pick_accent(accent_candidates, backgrounds, text)
    return Palette(
        background=backgrounds[0],
        background_alt=backgrounds[1],
        text=text,
        accent=accent,
        muted=palette.muted,
        source=palette.source,
    )


def _image_palette(style: StyleSpec, colours: list[tuple[RGB, float]]) -> Palette | None:
    vivid = _most_vivid(colours)
    hue = _key_hue(colours)
    if vivid is None and hue is None:
        return None  # a grey/black/white product: nothing in the image to build colours from
    flexible = _is_flexible(style)
    accent = vivid
    if accent is not None and flexible:
        # Loud styles get the product's own colour at full saturation.
        h, l, s = _hls(accent)  # noqa: E741
        accent = _from_hls(h, min(max(l, 0.45), 0.6), max(s, 0.85))
    if hue is None:
        background, background_alt, muted = style.background, style.background_alt, style.muted
    else:
        if flexible and vivid is not None:
            # A saturated background in the product's own hue would swallow the product: use the opposite
            # hue so product and accent pop.
            hue = _hls(vivid)[0] + 0.5
        background = _rehue(style.background, hue)
        background_alt = _rehue(style.background_alt, hue + _hue_offset(style))
        muted = _rehue(style.muted, hue)
    if flexible:
        text, (background, background_alt) = _choose_text_side(style, (background, background_alt))
    else:
        text = style.text
        background = _keep_character(background, style.background, text)
        background_alt = _keep_character(background_alt, style.background_alt, text)
    return Palette(
        background=background,
        background_alt=background_alt,
        text=text,
        accent=accent or style.accent,
        muted=muted,
        source="image",
    )


def palette_for(style: StyleSpec, image_path: str | None) -> Palette:
    """The palette of one ad. Without an image (or with a colourless one) the style's own colours
    (``source="style"``); otherwise hues from the product image in the style's character (``"image"``)."""
    if image_path:
        colours = dominant_colors(image_path, k=6)
        palette = _image_palette(style, colours) if colours else None
        if palette is not None:
            # The product's colour gets a small lightness nudge at most; beyond that the style's accent
            # (which suits the style) beats a washed-out or murky version of the product colour.
            candidates = [(palette.accent, 0.2), (style.accent, 0.3)]
            return _finish(palette, candidates)
    palette = _style_palette(style)
    if _is_flexible(style):
        # The style's own colours stay; only the text side is chosen (energetic's white fails on orange).
        palette.text, _unchanged = _choose_text_side(style, (style.background, style.background_alt))
    return _finish(palette, [(style.accent, 0.3)])
