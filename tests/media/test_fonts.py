"""Non-Latin briefs: text a style's font cannot draw switches to an installed font that can (no tofu boxes),
and characters no font can draw are dropped rather than boxed."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from badapple_dagster.media.fonts import codepoints, cover, resolve_font
from badapple_dagster.media.layout import fit_text, load_font
from badapple_dagster.media.styles import resolve_style

LATIN_DISPLAY = resolve_font(("BebasNeue-Bold.otf",))


def glyph(font_path: str, ch: str) -> np.ndarray:
    font = load_font(font_path, 64)
    img = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(img).text((8, 8), ch, font=font, fill=255)
    return np.asarray(img)


@pytest.mark.parametrize("text", ["緑茶ボトル", "맛있는 차", "Ёлка Напиток", "Ελληνικός καφές", "मसाला चाय",
                                  "مشروب الطاقة"])
def test_every_character_is_drawable_after_cover(text):
    kept, path = cover(text, LATIN_DISPLAY)
    assert kept == text, "nothing was dropped: an installed font draws it all"
    assert {ord(c) for c in text if not c.isspace()} <= codepoints(path)


def test_latin_text_keeps_the_style_font():
    assert cover("Crème Brûlée Café", LATIN_DISPLAY) == ("Crème Brûlée Café", LATIN_DISPLAY)


def test_undrawable_symbols_are_dropped_not_boxed():
    kept, path = cover("Volt 🚀 Energy", LATIN_DISPLAY)
    assert kept == "Volt Energy"
    assert {ord(c) for c in kept if c != " "} <= codepoints(path)


def test_cjk_glyphs_render_as_distinct_shapes_not_boxes():
    # Two different missing characters render as the same .notdef box; real glyphs differ from each other.
    assert np.array_equal(glyph(LATIN_DISPLAY, "緑"), glyph(LATIN_DISPLAY, "茶")), "premise: the style font boxes both"
    fitted = fit_text("緑茶", LATIN_DISPLAY, 900, 300, max_size=120)
    assert fitted.font_path != LATIN_DISPLAY
    a, b = glyph(fitted.font_path, "緑"), glyph(fitted.font_path, "茶")
    assert a.any() and b.any() and not np.array_equal(a, b)


def test_every_style_headline_fits_a_japanese_product_name():
    for key in ("luxury", "energetic", "minimal", "bold", "modern"):
        style = resolve_style(key)
        fitted = fit_text("抹茶ラテ 限定版", resolve_font(style.headline_fonts), 900, 400, max_size=160)
        assert "".join(fitted.lines).replace(" ", "") == "抹茶ラテ限定版"
        assert {ord(c) for c in "抹茶ラテ限定版"} <= codepoints(fitted.font_path)
