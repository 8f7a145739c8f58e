"""Find font files on disk (the project's install scripts put them there from Debian packages), and pick one
that can draw a given text.

A style's fonts are Latin display faces; a product name in Japanese, Russian or Arabic would come out as
boxes. ``cover`` keeps the style's font when it has every glyph, else falls back — for the whole text, so a
headline never mixes two typefaces mid-word — to the first fallback face that has them all (DejaVu, Noto,
WenQuanYi Zen Hei for CJK). Characters no installed font can draw (most emoji: colour-bitmap fonts do not
scale as text here) are dropped rather than drawn as boxes. Captions go through libass, which falls back per
glyph through fontconfig on its own.
"""

from __future__ import annotations

import functools
import os

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.local/share/fonts"))
FALLBACK_REGULAR = "DejaVuSans.ttf"
FALLBACK_BOLD = "DejaVuSans-Bold.ttf"


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        if not os.path.isdir(root):
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".otf", ".ttc")):
                    found.setdefault(name, os.path.join(dirpath, name))
    return found


def resolve_font(candidates: tuple[str, ...] | list[str]) -> str:
    """Return the path of the first candidate file installed; DejaVu as the last resort."""
    idx = _index()
    for name in (*candidates, FALLBACK_BOLD, FALLBACK_REGULAR):
        if name in idx:
            return idx[name]
    raise FileNotFoundError(
        f"None of the fonts {list(candidates)} nor DejaVu is installed; run scripts/bootstrap.sh"
    )



# Whole-text fallbacks, widest coverage of the scripts people write briefs in first; bold faces because most
# of what we draw is display text. Missing files are skipped.
FALLBACK_CHAIN = (
    "DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf", "NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf",
    "NotoSansDevanagari-Bold.ttf", "NotoSansBengali-Bold.ttf", "NotoSansThai-Bold.ttf", "NotoSansGeorgian-Bold.ttf",
    "NotoSansArmenian-Bold.ttf", "NotoSansEthiopic-Bold.ttf", "NotoSansTamil-Bold.ttf", "wqy-zenhei.ttc",
    "NotoSansCJK-Bold.ttc", "DroidSansFallbackFull.ttf", "NotoSansSymbols2-Regular.ttf",
)
_IGNORABLE = {0x200B, 0x200C, 0x200D, 0xFE0E, 0xFE0F}  # zero-width joiners and variation selectors


@functools.lru_cache(maxsize=64)
def codepoints(path: str) -> frozenset[int]:
    """The characters a font file maps (first face of a collection)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=0, lazy=True) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


def _needed(text: str) -> set[int]:
    return {ord(ch) for ch in text if not ch.isspace() and ord(ch) not in _IGNORABLE}


def cover(text: str, font_path: str) -> tuple[str, str]:
    """(text, font path) such that the font draws every character of the returned text."""
    needed = _needed(text)
    if needed <= codepoints(font_path):
        return text, font_path
    idx = _index()
    fallbacks = [idx[name] for name in FALLBACK_CHAIN if name in idx]
    for path in fallbacks:
        if needed <= codepoints(path):
            return text, path
    # Nothing draws it all: keep what the best-covering font can draw, drop the rest (no tofu boxes).
    best = max([font_path, *fallbacks], key=lambda p: len(needed & codepoints(p)))
    known = codepoints(best)
    kept = "".join(ch for ch in text if ch.isspace() or ord(ch) in known)
    return " ".join(kept.split()), best
