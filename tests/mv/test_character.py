"""Character reference cards: 1:1 per flavor, a drawn figure (not a blank card), deterministic, embedded spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from badapple_dagster.mv.character import read_character_metadata, render_character_reference
from badapple_dagster.mv.flavors import load_flavor
from badapple_dagster.mv.traits import parse_character

DESC = "a silver robot in a red jacket holding a guitar"


@pytest.mark.parametrize("flavor", ["default", "concert", "example"])
def test_card_is_square_png_with_a_figure(tmp_path: Path, flavor: str) -> None:
    path = render_character_reference(DESC, flavor, str(tmp_path / "card.png"), seed=1)
    img = Image.open(path)
    assert img.format == "PNG" and img.size == (1024, 1024)
    arr = np.asarray(img.convert("RGB"), np.float32)
    assert arr.std() > 20  # not a flat card
    # A drawn figure in the middle: far more edges (outlines, limbs, face) there than in the backdrop beside it.
    grey = np.asarray(img.convert("L").resize((128, 128), Image.BOX), np.float32)
    edges = np.abs(np.diff(grey, axis=1))
    centre, side = edges[30:90, 50:78].mean(), edges[30:90, 4:32].mean()
    assert centre > 2 * side + 1, (centre, side)
    meta = read_character_metadata(path)
    assert meta is not None and meta["description"] == DESC and meta["flavor"] == flavor
    assert meta["spec"]["kind"] == "robot" and "guitar" in meta["spec"]["accessories"]


def test_flavor_look_noir_is_monochrome_concert_is_colourful(tmp_path: Path) -> None:
    noir = np.asarray(Image.open(render_character_reference(DESC, "example", str(tmp_path / "n.png"), 2)), np.int16)
    assert np.abs(noir[..., 0] - noir[..., 1]).max() <= 2 and np.abs(noir[..., 1] - noir[..., 2]).max() <= 2
    stage = np.asarray(Image.open(render_character_reference(DESC, "concert", str(tmp_path / "c.png"), 2)), np.int16)
    chroma = (stage.max(axis=2) - stage.min(axis=2)).mean()
    assert chroma > 20


def test_deterministic_per_seed_and_description(tmp_path: Path) -> None:
    a = render_character_reference(DESC, "default", str(tmp_path / "a.png"), seed=5)
    b = render_character_reference(DESC, "default", str(tmp_path / "b.png"), seed=5)
    c = render_character_reference(DESC, "default", str(tmp_path / "c.png"), seed=6)
    d = render_character_reference("a woman with long pink hair and a blue dress", "default",
                                   str(tmp_path / "d.png"), seed=5)
    pa, pb, pc, pd = (np.asarray(Image.open(p)) for p in (a, b, c, d))
    assert np.array_equal(pa, pb)
    assert not np.array_equal(pa, pc)
    assert np.abs(pa.astype(int) - pd.astype(int)).mean() > 3


def test_output_format_and_aspect_follow_the_flavor(flavor_root: Path, tmp_path: Path) -> None:
    folder = flavor_root / "wide_jpg"
    folder.mkdir()
    (folder / "image_params.yaml").write_text('aspect_ratio: "16:9"\noutput_format: jpg\n')
    flavor = load_flavor("wide_jpg", flavor_root)
    path = render_character_reference(DESC, flavor, str(tmp_path / "card.png"), seed=1)
    assert path.endswith(".jpg")
    img = Image.open(path)
    assert img.format == "JPEG" and img.size == (1408, 768)
    assert read_character_metadata(path)["spec"]["kind"] == "robot"


def test_description_words_become_traits() -> None:
    robot = parse_character("Silver metallic humanoid robot with a red scarf and a guitar", 0)
    assert robot.kind == "robot" and robot.skin == (192, 198, 206)
    assert robot.has("guitar") and robot.has("scarf") and robot.accessory_colors["scarf"] == (200, 38, 44)
    singer = parse_character('a woman with long pink hair in a red leather jacket and a shirt that says "LOUD"', 0)
    assert singer.hair_style == "long" and singer.hair == (238, 120, 170)
    assert singer.top_kind == "jacket" and singer.top == (200, 38, 44)
    assert singer.shirt_text == "LOUD" and singer.noun == "woman"


def test_empty_description_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_character_reference("  ", "default", str(tmp_path / "x.png"))
