"""Palettes: dominant colours of generated product shots, style character and WCAG contrast."""

from __future__ import annotations

import colorsys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from badapple_dagster.media.models import RGB
from badapple_dagster.media.palette import contrast_ratio, dominant_colors, palette_for, relative_luminance
from badapple_dagster.media.styles import STYLES, resolve_style


def _product_shot(
    path: Path,
    product: tuple[int, ...],
    backdrop: tuple[int, ...] = (255, 255, 255),
    *,
    mode: str = "RGB",
    label: tuple[int, ...] | None = None,
) -> str:
    """A 'packshot': an ellipse product on a plain backdrop, optionally with a small label."""
    im = Image.new(mode, (400, 300), backdrop)
    draw = ImageDraw.Draw(im)
    draw.ellipse((130, 50, 270, 250), fill=product)
    if label is not None:
        draw.rectangle((175, 125, 225, 175), fill=label)
    im.save(path)
    return str(path)


def _hue_deg(rgb: RGB) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 360


def _is_reddish(rgb: RGB) -> bool:
    hue = _hue_deg(rgb)
    return (hue <= 20 or hue >= 340) and max(rgb) - min(rgb) >= 60


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("shots")
    return {
        "red_on_white": _product_shot(d / "red.png", (200, 30, 30)),
        "yellow_on_white": _product_shot(d / "yellow.jpg", (250, 210, 20)),
        "black_on_white": _product_shot(d / "black.png", (20, 20, 20)),
        "white_on_black": _product_shot(d / "white.png", (245, 245, 245), (5, 5, 5)),
        "blue_on_black": _product_shot(d / "blue.png", (30, 80, 220), (8, 8, 8)),
        "green_cutout": _product_shot(d / "green.png", (40, 180, 60, 255), (0, 0, 0, 0), mode="RGBA"),
        "navy_orange": _product_shot(d / "navy.png", (20, 30, 90), label=(255, 120, 0)),
        "pastel_on_grey": _product_shot(d / "pastel.png", (180, 200, 230), (128, 128, 128)),
    }


# -------------------------------------------------------------------------------------------- contrast


def test_contrast_ratio_reference_values() -> None:
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((119, 119, 119), (119, 119, 119)) == pytest.approx(1.0)
    # #767676 on white is the classic "just passes AA" grey.
    assert contrast_ratio((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


def test_relative_luminance_bounds() -> None:
    assert relative_luminance((0, 0, 0)) == 0.0
    assert relative_luminance((255, 255, 255)) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------- dominant colours


def test_red_product_on_white_is_dominantly_red(shots: dict[str, str]) -> None:
    colours = dominant_colors(shots["red_on_white"], k=5)
    assert 1 <= len(colours) <= 5
    top, share = colours[0]
    assert _is_reddish(top)
    # The white backdrop covers ~70% of the frame but is down-weighted below the product.
    white_share = sum(s for c, s in colours if min(c) >= 230)
    assert share > white_share
    shares = [s for _c, s in colours]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) <= 1.0 + 1e-6


def test_transparent_pixels_are_ignored(shots: dict[str, str]) -> None:
    colours = dominant_colors(shots["green_cutout"], k=3)
    for colour, _share in colours:
        assert colour[1] > colour[0] and colour[1] > colour[2]  # only the green product, never "black"


def test_fully_transparent_image_has_no_colours(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(path)
    assert dominant_colors(str(path)) == []


def test_dominant_colors_is_deterministic(shots: dict[str, str]) -> None:
    assert dominant_colors(shots["navy_orange"]) == dominant_colors(shots["navy_orange"])


# ---------------------------------------------------------------------------------------------- palette


def test_without_image_the_style_colours_are_used() -> None:
    for style in STYLES.values():
        palette = palette_for(style, None)
        assert palette.source == "style"
        assert palette.background == style.background
        assert palette.background_alt == style.background_alt
        assert palette.accent == style.accent


@pytest.mark.parametrize("style_key", sorted(STYLES))
def test_red_product_gives_a_reddish_accent(style_key: str, shots: dict[str, str]) -> None:
    palette = palette_for(STYLES[style_key], shots["red_on_white"])
    assert palette.source == "image"
    if style_key == "bold":
        # Bold's red colour blocks already carry the product's red; its yellow accent is kept for punch.
        assert _is_reddish(palette.background_alt)
    else:
        assert _is_reddish(palette.accent), palette.to_dict()


def test_most_vivid_colour_wins_the_accent(shots: dict[str, str]) -> None:
    # Navy body with an orange label: the orange is the accent, the navy tints the background.
    palette = palette_for(resolve_style("luxury"), shots["navy_orange"])
    assert 15 <= _hue_deg(palette.accent) <= 45
    assert 200 <= _hue_deg(palette.background_alt) <= 260


def test_colourless_product_keeps_the_style_palette(shots: dict[str, str]) -> None:
    style = resolve_style("modern")
    palette = palette_for(style, shots["black_on_white"])
    assert palette.source == "style"
    assert palette.background == style.background


ALL_SHOTS = [None, "red_on_white", "yellow_on_white", "black_on_white", "white_on_black", "blue_on_black"]
ALL_SHOTS += ["green_cutout", "navy_orange", "pastel_on_grey"]


@pytest.mark.parametrize("style_key", sorted(STYLES))
@pytest.mark.parametrize("shot", ALL_SHOTS)
def test_text_contrast_is_wcag_aa(style_key: str, shot: str | None, shots: dict[str, str]) -> None:
    palette = palette_for(STYLES[style_key], shots[shot] if shot else None)
    for bg in (palette.background, palette.background_alt):
        assert contrast_ratio(palette.text, bg) >= 4.5, palette.to_dict()


@pytest.mark.parametrize("style_key", sorted(STYLES))
@pytest.mark.parametrize("shot", ALL_SHOTS)
def test_accent_stands_out_from_both_backgrounds(style_key: str, shot: str | None, shots: dict[str, str]) -> None:
    palette = palette_for(STYLES[style_key], shots[shot] if shot else None)
    for bg in (palette.background, palette.background_alt):
        assert contrast_ratio(palette.accent, bg) >= 1.5, palette.to_dict()
        assert palette.accent != bg


@pytest.mark.parametrize("shot", ALL_SHOTS)
def test_styles_keep_their_character(shot: str | None, shots: dict[str, str]) -> None:
    path = shots[shot] if shot else None

    def lightness(rgb: RGB) -> float:
        return colorsys.rgb_to_hls(*(c / 255 for c in rgb))[1]

    def saturation(rgb: RGB) -> float:
        return colorsys.rgb_to_hls(*(c / 255 for c in rgb))[2]

    luxury = palette_for(STYLES["luxury"], path)
    assert max(relative_luminance(luxury.background), relative_luminance(luxury.background_alt)) < 0.1
    bold = palette_for(STYLES["bold"], path)
    assert relative_luminance(bold.background) < 0.02  # near-black base, colour only in the blocks
    minimal = palette_for(STYLES["minimal"], path)
    assert min(lightness(minimal.background), lightness(minimal.background_alt)) > 0.8
    modern = palette_for(STYLES["modern"], path)
    assert lightness(modern.background) < 0.25
    energetic = palette_for(STYLES["energetic"], path)
    assert min(saturation(energetic.background), saturation(energetic.background_alt)) > 0.7


def test_palette_round_trips_through_json(shots: dict[str, str]) -> None:
    palette = palette_for(STYLES["energetic"], shots["blue_on_black"])
    assert type(palette).from_dict(palette.to_dict()) == palette


@pytest.mark.parametrize("style_key", sorted(STYLES))
def test_tiny_image_still_gives_a_valid_palette(style_key: str, tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (0, 120, 255)).save(path)
    palette = palette_for(STYLES[style_key], str(path))
    assert palette.source == "image"
    assert min(contrast_ratio(palette.text, bg) for bg in (palette.background, palette.background_alt)) >= 4.5
