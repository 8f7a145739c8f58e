"""Frame geometry: platform safe zones, the caption band, per-layout boxes and measured text fitting.

Everything is in output pixels. The scene renderer places layers inside these boxes and the compositor burns
captions inside ``caption_band`` — both read the same numbers from here so the headline/hero never collide
with the captions.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from PIL import ImageFont


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def contains(self, other: Box) -> bool:
        return other.x >= self.x and other.y >= self.y and other.right <= self.right and other.bottom <= self.bottom

    def intersects(self, other: Box) -> bool:
        return not (other.right <= self.x or other.x >= self.right or other.bottom <= self.y or other.y >= self.bottom)

    def rows(self, *fractions: float, gap: int = 0) -> list[Box]:
        """Split top-to-bottom by fractions of the height (they are normalised), with ``gap`` px between."""
        return _split(self, fractions, gap, vertical=True)

    def cols(self, *fractions: float, gap: int = 0) -> list[Box]:
        """Split left-to-right by fractions of the width."""
        return _split(self, fractions, gap, vertical=False)

    def inset(self, dx: int, dy: int | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x + dx, self.y + dy, max(1, self.w - 2 * dx), max(1, self.h - 2 * dy))

    def place(self, w: int, h: int, *, ax: float = 0.5, ay: float = 0.5) -> Box:
        """A w×h box aligned inside this one (ax/ay = 0 left/top, 0.5 centre, 1 right/bottom)."""
        return Box(self.x + round((self.w - w) * ax), self.y + round((self.h - h) * ay), w, h)


def _split(box: Box, fractions: tuple[float, ...], gap: int, *, vertical: bool) -> list[Box]:
    total = sum(fractions)
    span = (box.h if vertical else box.w) - gap * (len(fractions) - 1)
    out: list[Box] = []
    pos = box.y if vertical else box.x
    for i, f in enumerate(fractions):
        # The last part absorbs rounding so the parts tile the box exactly.
        size = (
            round(span * f / total) if i < len(fractions) - 1 else (box.y + box.h if vertical else box.x + box.w) - pos
        )
        out.append(Box(box.x, pos, box.w, size) if vertical else Box(pos, box.y, size, box.h))
        pos += size + gap
    return out


@dataclass(frozen=True)
class SafeZones:
    """``content`` is where headline, hero and extras may go; ``caption_band`` is reserved for captions;
    ``title_safe`` is the whole area clear of platform UI (content + captions + the gap between)."""

    width: int
    height: int
    content: Box
    caption_band: Box
    title_safe: Box

    @property
    def landscape(self) -> bool:
        # By the frame, not the content box: a square's content area is wide too, but square feed ads read
        # best stacked (headline / product / CTA) — side by side squeezes type heroes into narrow columns.
        return self.width > self.height * 1.2


# Fractions of (width, height): left, top, right, bottom of the UI-safe area, and the caption band's top/bottom.
# 9:16 — Reels/TikTok/Shorts put the caption/handle stack in the bottom ~22 %, the action rail on the right ~8 %
# and the status/search bar in the top ~10 %.
_ZONES: dict[str, tuple[float, float, float, float, float, float]] = {
    "portrait": (0.06, 0.10, 0.92, 0.78, 0.62, 0.76),
    "square": (0.06, 0.06, 0.94, 0.90, 0.74, 0.88),
    "landscape": (0.05, 0.07, 0.95, 0.92, 0.78, 0.91),
}


def _kind(size: tuple[int, int]) -> str:
    w, h = size
    if h > w * 1.2:
        return "portrait"
    if w > h * 1.2:
        return "landscape"
    return "square"


@functools.lru_cache(maxsize=16)
def safe_zones(size: tuple[int, int]) -> SafeZones:
    w, h = size
    left, top, right, bottom, band_top, band_bottom = _ZONES[_kind(size)]
    # Round every edge inward so a zone never reaches even one pixel into the platform UI.
    x0, x1 = math.ceil(w * left), math.floor(w * right)
    y0, y1 = math.ceil(h * top), math.floor(h * bottom)
    b0, b1 = math.ceil(h * band_top), math.floor(h * band_bottom)
    gap = round(h * 0.015)  # breathing room between content and captions
    content = Box(x0, y0, x1 - x0, b0 - gap - y0)
    band = Box(x0, b0, x1 - x0, b1 - b0)
    title_safe = Box(x0, y0, x1 - x0, y1 - y0)
    return SafeZones(w, h, content, band, title_safe)


def caption_band(size: tuple[int, int]) -> Box:
    """The horizontal band where the compositor burns the word-synced captions."""
    return safe_zones(size).caption_band


# ----------------------------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class SceneBoxes:
    headline: Box
    hero: Box
    extra: Box | None  # proof badge (showcase) or CTA button (cta)
    headline_align: str  # "center" | "left"


def layout_boxes(layout: str, size: tuple[int, int]) -> SceneBoxes:
    """Where each layer of a scene goes. Every box lies inside the content area, so nothing touches the
    platform UI or the caption band."""
    z = safe_zones(size)
    c = z.content
    gap = round(min(z.width, z.height) * 0.03)
    if z.landscape:
        return _landscape_boxes(layout, c, gap)
    if layout == "statement":
        head, hero = c.rows(0.62, 0.38, gap=gap)
        return SceneBoxes(head, hero.inset(round(hero.w * 0.2), 0), None, "center")
    if layout == "showcase":
        head, hero, extra = c.rows(0.22, 0.62, 0.16, gap=gap)
        return SceneBoxes(head, hero, extra, "center")
    if layout == "cta":
        head, hero, extra = c.rows(0.20, 0.56, 0.24, gap=gap)
        return SceneBoxes(head, hero, extra.inset(round(extra.w * 0.08), 0), "center")
    head, hero = c.rows(0.24, 0.76, gap=gap)  # "hero" and anything unknown
    return SceneBoxes(head, hero, None, "center")


def _landscape_boxes(layout: str, c: Box, gap: int) -> SceneBoxes:
    if layout == "statement":
        head, hero = c.rows(0.64, 0.36, gap=gap)
        return SceneBoxes(head.inset(round(head.w * 0.08), 0), hero, None, "center")
    left, right = c.cols(0.48, 0.52, gap=gap * 2)
    if layout == "showcase":
        head, extra = left.rows(0.72, 0.28, gap=gap)
        return SceneBoxes(head, right, extra, "left")
    if layout == "cta":
        head, extra = left.rows(0.6, 0.4, gap=gap)
        return SceneBoxes(head, right, extra.inset(0, round(extra.h * 0.12)), "left")
    return SceneBoxes(left, right, None, "left")


# ------------------------------------------------------------------------------------------ text fitting


@functools.lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    """Ink-safe width: the larger of the advance and the ink box, so italic overhang is never clipped."""
    if not text:
        return 0
    left, _top, right, _bottom = font.getbbox(text)
    return int(max(font.getlength(text), right) - min(0, left)) + 1


def apply_case(text: str, case: str) -> str:
    if case == "upper":
        return text.upper()
    if case == "title":
        small = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
        words = text.split(" ")
        out = []
        for i, word in enumerate(words):
            # Only raise the first letter: brand casing like "EcoWater" or "iPhone" survives.
            keep_small = 0 < i < len(words) - 1 and word.lower() in small
            out.append(word if keep_small or not word else word[0].upper() + word[1:])
        return " ".join(out)
    return text


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    font_path: str
    size: int
    line_pitch: int  # baseline-to-baseline distance
    ascent: int
    descent: int
    width: int  # widest line, ink-safe
    height: int  # whole block, first ascender to last descender

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.font_path, self.size)


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, max_w: int) -> list[str] | None:
    """Greedy wrap by measured width; None when a single word is wider than the box."""
    lines: list[str] = []
    cur = ""
    for word in words:
        trial = f"{cur} {word}" if cur else word
        if text_width(font, trial) <= max_w:
            cur = trial
            continue
        if text_width(font, word) > max_w:
            return None
        lines.append(cur)
        cur = word
    if cur:
        lines.append(cur)
    return lines


def _break_long_words(words: list[str], font: ImageFont.FreeTypeFont, max_w: int) -> list[str]:
    """Last resort for a word wider than the box even at the smallest size: split it by characters."""
    out: list[str] = []
    for word in words:
        piece = ""
        for ch in word:
            if piece and text_width(font, piece + ch) > max_w:
                out.append(piece)
                piece = ch
            else:
                piece += ch
        if piece:
            out.append(piece)
    return out


def _block(lines: list[str], font_path: str, size: int, spacing: float) -> FittedText:
    font = load_font(font_path, size)
    ascent, descent = font.getmetrics()
    pitch = max(1, round((ascent + descent) * spacing))
    width = max((text_width(font, line) for line in lines), default=0)
    height = pitch * (len(lines) - 1) + ascent + descent
    return FittedText(tuple(lines), font_path, size, pitch, ascent, descent, width, height)


def _try_size(
    words: list[str], font_path: str, size: int, box_w: int, box_h: int, spacing: float, max_lines: int
) -> FittedText | None:
    lines = _wrap(words, load_font(font_path, size), box_w)
    if lines is None or len(lines) > max_lines:
        return None
    block = _block(lines, font_path, size, spacing)
    return block if block.height <= box_h and block.width <= box_w else None


def _balance(block: FittedText, words: list[str], box_w: int, spacing: float) -> FittedText:
    """Same line count, narrowest wrap width: avoids a lonely last word ("widow") under a long line."""
    if len(block.lines) < 2:
        return block
    font = block.font
    lo, hi = max(1, block.width // len(block.lines)), box_w
    best = list(block.lines)
    while lo < hi:
        mid = (lo + hi) // 2
        lines = _wrap(words, font, mid)
        if lines is not None and len(lines) <= len(block.lines):
            best, hi = lines, mid
        else:
            lo = mid + 1
    return _block(best, block.font_path, block.size, spacing)


def fit_text(
    text: str,
    font_path: str,
    box_w: int,
    box_h: int,
    *,
    max_size: int,
    min_size: int = 12,
    line_spacing: float = 1.05,
    max_lines: int = 4,
) -> FittedText:
    """Largest font size (≤ max_size) at which ``text``, wrapped by measured width, fits box_w × box_h.

    Below ``min_size`` the line limit is lifted and, if needed, over-long words are broken, so the result
    always fits: text is shrunk, never clipped. Text the font cannot draw switches to a fallback font that can
    (``fonts.cover``); the returned ``font_path`` is the one to draw with.
    """
    from .fonts import cover

    text, font_path = cover(text, font_path)
    words = text.split() or [""]
    lo, hi, best = min_size, max(min_size, max_size), None
    # Fit is monotonic in size (bigger glyphs never wrap into fewer lines), so bisect.
    while lo <= hi:
        mid = (lo + hi) // 2
        found = _try_size(words, font_path, mid, box_w, box_h, line_spacing, max_lines)
        if found:
            best, lo = found, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return _balance(best, words, box_w, line_spacing)
    for size in range(min(min_size, max_size), 3, -1):
        font = load_font(font_path, size)
        lines = _wrap(words, font, box_w) or _wrap(_break_long_words(words, font, box_w), font, box_w)
        if lines:
            block = _block(lines, font_path, size, line_spacing)
            if block.height <= box_h and block.width <= box_w:
                return block
    raise ValueError(f"cannot fit {len(text)} characters into {box_w}x{box_h}")


@dataclass(frozen=True)
class EndCardBoxes:
    name: Box  # product name (or tagline when the name is already the typographic hero)
    hero: Box
    button: Box


def end_card_boxes(size: tuple[int, int]) -> EndCardBoxes:
    """The end card carries no captions, so it may use the whole UI-safe area."""
    z = safe_zones(size)
    a = z.title_safe
    gap = round(min(z.width, z.height) * 0.03)
    if z.landscape:
        hero, right = a.cols(0.5, 0.5, gap=gap * 2)
        name, button = right.inset(0, round(right.h * 0.1)).rows(0.6, 0.4, gap=gap)
        return EndCardBoxes(name, hero, button)
    name, hero, button = a.rows(0.2, 0.56, 0.24, gap=gap)
    return EndCardBoxes(name, hero, button.inset(round(button.w * 0.06), round(button.h * 0.08)))
