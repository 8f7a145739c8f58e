"""Flavor discovery, merging over default, validation errors that name file and key, and the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from badapple_dagster.mv.flavor_schema import SCENE_PLACEHOLDERS, all_keys
from badapple_dagster.mv.flavors import DEFAULT_FLAVOR, FlavorError, list_flavors, load_flavor, validate_all

REPO = Path(__file__).resolve().parents[2]


def write(root: Path, flavor: str, file: str, text: str) -> None:
    folder = root / flavor
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(text)


def test_shipped_flavors_are_listed_default_first_and_all_load() -> None:
    names = list_flavors()
    assert names[0] == DEFAULT_FLAVOR == "default"
    assert names[1:] == sorted(names[1:])
    assert {"default", "example", "concert"} <= set(names)
    assert validate_all() == {n: None for n in names}


def test_example_is_noir_short_film_and_inherits_the_rest() -> None:
    ex, default = load_flavor("example"), load_flavor("default")
    assert ex.parameters["video_type"] == "short film"
    assert ex.parameters["camera_angle"] == "wide"
    assert ex.number_of_scenes == 6
    assert "noir" in ex.parameters["video_characteristics"]
    assert "black and white" in ex.parameters["video_characteristics"]
    assert ex.local_render["monochrome"] is True
    # Not in example/: inherited from default, and recorded as such.
    assert ex.image_params == default.image_params
    assert ex.scene_prompts["scene_generation_prompt"] == default.scene_prompts["scene_generation_prompt"]
    assert ex.origins["parameters.number_of_scenes"] == "example"
    assert ex.origins["image_params.video_duration"] == "default"
    assert ex.origins["scene_prompts.scene_generation_prompt"] == "default"
    assert ex.origins["scene_prompts.local_writer.settings"] == "example"


def test_concert_is_a_stadium_show_clearly_different_from_default() -> None:
    concert, default = load_flavor("concert"), load_flavor("default")
    prompt = concert.scene_prompts["scene_generation_prompt"]
    assert "stadium" in prompt and "crowd" in prompt and "extreme close-up" in prompt
    assert concert.parameters["video_type"] == "music video"
    assert concert.local_render["lighting"] == "stage"
    diff = concert.diff_against(default)
    assert "scene_prompts.scene_generation_prompt" in diff
    assert "parameters.local_render.lighting" in diff
    assert not any(k.startswith("image_params.") for k in diff)
    assert load_flavor("mv1").name == "concert"  # the original system's name still resolves


def test_to_dict_is_json_and_digest_tracks_content() -> None:
    d = load_flavor("concert").to_dict()
    assert json.loads(json.dumps(d))["name"] == "concert"
    assert set(d) >= {"image_params", "image_prompts", "scene_prompts", "parameters", "origins", "digest"}
    assert load_flavor("concert").digest == load_flavor("concert").digest
    assert load_flavor("concert").digest != load_flavor("default").digest


def test_templates_render_with_every_placeholder() -> None:
    for name in list_flavors():
        f = load_flavor(name)
        text = f.scene_request("a robot learns to dance", "a silver robot", 3)
        assert "a robot learns to dance" in text and "a silver robot" in text and "3" in text
        assert "{" not in text.replace("{\"", "").replace("{{", "") or '"scenes"' in text
        assert "16:9" in f.video_rules()
        assert "a silver robot" in f.character_prompt("a silver robot")


def test_unknown_flavor_lists_the_valid_ones() -> None:
    with pytest.raises(FlavorError) as err:
        load_flavor("nope")
    assert "default" in str(err.value) and "concert" in str(err.value) and "example" in str(err.value)


def test_env_var_root_and_new_folders_are_picked_up_without_restart(
    flavor_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BADAPPLE_MV_CONFIGS", str(flavor_root))
    assert "late" not in list_flavors()
    write(flavor_root, "late", "parameters.yaml", "number_of_scenes: 3\n")
    assert "late" in list_flavors()
    assert load_flavor("late").number_of_scenes == 3


def test_partial_flavor_merges_key_by_key_and_nested(flavor_root: Path) -> None:
    write(flavor_root, "tiny", "parameters.yaml", "number_of_scenes: 2\nlocal_render:\n  grain: 0.9\n")
    write(flavor_root, "tiny", "image_params.yaml", 'video_aspect_ratio: "9:16"\n')
    tiny = load_flavor("tiny", flavor_root)
    default = load_flavor("default", flavor_root)
    assert tiny.number_of_scenes == 2
    assert tiny.video_aspect_ratio == "9:16"
    assert tiny.image_params["video_duration"] == default.image_params["video_duration"]
    assert tiny.local_render["grain"] == 0.9
    assert tiny.local_render["palette"] == default.local_render["palette"]  # sibling keys survive
    assert set(tiny.diff_against(default)) == {
        "image_params.video_aspect_ratio", "parameters.number_of_scenes", "parameters.local_render.grain",
    }


@pytest.mark.parametrize(
    ("file", "text", "key", "words"),
    [
        ("parameters.yaml", "number_of_scenes: six\n", "number_of_scenes", "whole number"),
        ("parameters.yaml", "number_of_scenes: 13\n", "number_of_scenes", "between 1 and 12"),
        ("parameters.yaml", "mood: happy\n", "mood", "unknown key"),
        ("parameters.yaml", "local_render:\n  glow: 1\n", "local_render.glow", "unknown key"),
        ("parameters.yaml", "local_render:\n  grain: 2\n", "local_render.grain", "between 0 and 1"),
        ("image_params.yaml", 'video_aspect_ratio: "4:5"\n', "video_aspect_ratio", "one of 16:9, 9:16, 1:1"),
        ("image_params.yaml", "video_aspect_ratio: 16:9\n", "video_aspect_ratio", "quote ratios"),
        ("image_params.yaml", "video_duration: 45\n", "video_duration", "between 1 and 30"),
        ("image_params.yaml", 'video_generate_audio: "yes"\n', "video_generate_audio", "true or false"),
        ("image_params.yaml", "video_rules_template: Be short.\n", "video_rules_template", "{aspect_ratio}"),
        ("image_prompts.yaml", "character_reference_prompt: A person\n", "character_reference_prompt",
         "{character_description}"),
        ("scene_prompts.yaml", "scene_generation_prompt: Write {number_of_scenes} scenes about {idea}.\n",
         "scene_generation_prompt", "missing placeholder"),
        ("scene_prompts.yaml", "local_writer:\n  shot_mix: [wide, dutch]\n", "local_writer.shot_mix[1]", "one of"),
        ("scene_prompts.yaml", "local_writer:\n  actions: [\"someone waves\"]\n", "local_writer.actions[0]",
         "{subject}"),
    ],
)
def test_broken_flavor_names_file_and_key(flavor_root: Path, file: str, text: str, key: str, words: str) -> None:
    write(flavor_root, "broken", file, text)
    with pytest.raises(FlavorError) as err:
        load_flavor("broken", flavor_root)
    e = err.value
    assert e.file == file and e.key == key, str(e)
    assert file in str(e) and key in str(e) and words in str(e)
    assert "broken" in list_flavors(flavor_root)  # still listed: the API can show it and its error
    assert validate_all(flavor_root)["broken"] is not None


def test_unknown_placeholder_and_stray_brace_are_rejected(flavor_root: Path) -> None:
    body = " ".join("{" + p + "}" for p in sorted(SCENE_PLACEHOLDERS))
    write(flavor_root, "b1", "scene_prompts.yaml", f"scene_generation_prompt: '{body} {{mood}}'\n")
    with pytest.raises(FlavorError, match=r"unknown placeholder\(s\) \{mood\}"):
        load_flavor("b1", flavor_root)
    write(flavor_root, "b2", "scene_prompts.yaml", f"scene_generation_prompt: '{body} JSON: {{\"a\": 1}}'\n")
    with pytest.raises(FlavorError, match="literal braces"):
        load_flavor("b2", flavor_root)


def test_unknown_file_duplicate_key_and_bad_yaml(flavor_root: Path) -> None:
    write(flavor_root, "b1", "paramters.yaml", "number_of_scenes: 2\n")
    with pytest.raises(FlavorError) as err:
        load_flavor("b1", flavor_root)
    assert err.value.file == "paramters.yaml" and "unknown flavor file" in str(err.value)
    write(flavor_root, "b2", "parameters.yaml", "number_of_scenes: 2\nnumber_of_scenes: 3\n")
    with pytest.raises(FlavorError, match="duplicate key"):
        load_flavor("b2", flavor_root)
    write(flavor_root, "b3", "parameters.yaml", "number_of_scenes: [2\n")
    with pytest.raises(FlavorError, match="not valid YAML") as err:
        load_flavor("b3", flavor_root)
    assert err.value.file == "parameters.yaml"


def test_a_broken_default_breaks_every_flavor(flavor_root: Path) -> None:
    (flavor_root / "default" / "image_prompts.yaml").unlink()
    with pytest.raises(FlavorError) as err:
        load_flavor("example", flavor_root)
    assert err.value.file == "image_prompts.yaml" and err.value.key == "character_reference_prompt"
    assert "required key is missing" in str(err.value)


def test_every_schema_key_is_documented() -> None:
    doc = (REPO / "docs" / "FLAVORS.md").read_text()
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)*)`", doc))
    missing = [k for k in all_keys() if k.split(".", 1)[1] not in documented and k.split(".")[-1] not in documented]
    assert not missing, f"undocumented flavor keys: {missing}"
