"""Character references and scene clips on a fake Replicate: each model's inputs as the fake received them,
validated outputs, clips conformed like offline ones, and paid outputs reused instead of bought twice."""

import dataclasses

import pytest
from PIL import Image

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.mv.flavors import load_flavor
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.providers.mv_replicate import (
    ReplicateCharacterArtist,
    ReplicateClipRenderer,
    clip_input,
)
from badapple_dagster.providers.replicate import ReplicateClient

from .conftest import FAST_RETRY

CHARACTER = "Silver metallic humanoid robot with a red scarf"
REF_URI = "data:image/png;base64,AAAA"


def client(url):
    return ReplicateClient("r8_mvtest_0123456789", base_url=url, poll_interval=0.05, deadline=10, retry=FAST_RETRY)


def flavor_with(**image_params):
    f = load_flavor("default")
    return dataclasses.replace(f, image_params={**f.image_params, **image_params})


def scenes(n=2, duration=2.0):
    return [{"sequence": i + 1, "prompt": f"Wide shot, slow pan: the robot dances, take {i + 1}.",
             "negative_prompt": "text, watermark", "duration": duration, "shot": "wide", "camera_move": "pan",
             "setting": "city"} for i in range(n)]


def test_imagen_gets_the_flavor_prompt_and_image_params(replicate_server, tmp_path, meter_for, store):
    flavor = flavor_with(safety_filter_level="block_none", output_format="webp")
    artist = ReplicateCharacterArtist(client(replicate_server.url), "google/imagen-4",
                                      meter=meter_for("character_reference"))
    path = artist.render(CHARACTER, flavor, str(tmp_path / "out" / "character_reference.png"), seed=3)
    (inputs,) = replicate_server.inputs("google/imagen-4")
    # Replicate's Imagen knows block_only_high (not block_none) and returns png/jpg only; no person_generation.
    assert inputs == {"prompt": flavor.character_prompt(CHARACTER), "aspect_ratio": "1:1",
                      "safety_filter_level": "block_only_high", "output_format": "png"}
    assert path.endswith(".webp")  # stored in the flavor's format, like the offline card
    with Image.open(path) as im:
        assert im.format == "WEBP" and im.size == (512, 512)
    assert Ledger(store.engine).cost("job-1", "character_reference") == pytest.approx(0.04)


def test_flux_takes_seed_and_format_and_answers_a_list(replicate_server, tmp_path):
    flavor = flavor_with(aspect_ratio="9:16", output_format="jpg")
    artist = ReplicateCharacterArtist(client(replicate_server.url), "black-forest-labs/flux-schnell")
    path = artist.render(CHARACTER, flavor, str(tmp_path / "ref.png"), seed=8)
    (inputs,) = replicate_server.inputs("black-forest-labs/flux-schnell")
    assert inputs == {"prompt": flavor.character_prompt(CHARACTER), "aspect_ratio": "9:16", "num_outputs": 1,
                      "num_inference_steps": 4, "output_format": "jpg", "seed": 8}
    with Image.open(path) as im:
        assert im.format == "JPEG"


def test_image_that_is_not_an_image_is_refused(replicate_server, tmp_path):
    replicate_server.serve_html = True
    artist = ReplicateCharacterArtist(client(replicate_server.url), "google/imagen-4")
    with pytest.raises(Exception) as info:
        artist.render(CHARACTER, load_flavor("default"), str(tmp_path / "ref.png"), seed=1)
    assert info.value.code == "PROVIDER_ERROR" and "not a readable image" in info.value.message


def test_clip_inputs_follow_each_model_schema():
    flavor = load_flavor("default")  # 16:9, 8 s clips
    scene = {**scenes(1)[0], "duration": 8.0}
    rules = flavor.video_rules()
    veo, used = clip_input("google/veo-3.1", scene, flavor, seed=5, reference_uri=REF_URI)
    assert used == "reference_images" and veo == {
        "prompt": f"{scene['prompt']}\n\n{rules}", "aspect_ratio": "16:9", "duration": 8, "generate_audio": False,
        "seed": 5, "negative_prompt": "text, watermark", "reference_images": [REF_URI]}
    # Veo takes references only for 16:9 clips of 8 s; a 4 s clip goes without rather than being refused.
    short, used = clip_input("google/veo-3.1", {**scene, "duration": 3.0}, flavor, seed=5, reference_uri=REF_URI)
    assert used == "none" and short["duration"] == 4 and "reference_images" not in short
    minimax, used = clip_input("minimax/video-01", scene, flavor, seed=5, reference_uri=REF_URI)
    assert used == "subject_reference" and minimax["subject_reference"] == REF_URI
    assert "first_frame_image" not in minimax  # a character sheet is not the scene's first frame
    seedance, used = clip_input("bytedance/seedance-1-pro", scene, flavor_with(video_aspect_ratio="9:16"), seed=5,
                                reference_uri=REF_URI)
    assert used == "none" and "image" not in seedance
    assert (seedance["aspect_ratio"], seedance["duration"], seedance["seed"]) == ("9:16", 10, 5)


@pytest.mark.slow
def test_clips_are_conformed_and_never_paid_twice(replicate_server, tmp_path, meter_for, store):
    flavor = flavor_with(video_duration=2, video_model="bytedance/seedance-1-pro")
    ref = tmp_path / "ref.png"
    ref.write_bytes(replicate_server.png)
    renderer = ReplicateClipRenderer(client(replicate_server.url), "bytedance/seedance-1-pro",
                                     meter=meter_for("mv_clips"))
    clips = renderer.render(scenes(), str(ref), flavor, str(tmp_path / "clips"), seed=40)
    assert [c.path.rsplit("/", 1)[1] for c in clips] == ["scene_001.mp4", "scene_002.mp4"]
    for clip in clips:
        info = probe(clip.path)
        assert (info.width, info.height, info.fps, info.video_codec, info.pix_fmt) == (
            1920, 1080, 30, "h264", "yuv420p")
        assert abs(info.duration - 2.0) < 0.1 and info.audio_codec == "aac"  # like an offline clip
    inputs = replicate_server.inputs("bytedance/seedance-1-pro")
    assert sorted(i["seed"] for i in inputs) == [41, 42] and all(i["duration"] == 5 for i in inputs)
    assert all(i["prompt"].endswith(flavor.video_rules()) for i in inputs)
    ledger = Ledger(store.engine)
    paid = ledger.cost("job-1", "mv_clips")
    assert paid == pytest.approx(2 * 2.0 * 0.03, abs=0.01)  # per second of the fake's 2 s output

    silent = flavor_with(video_duration=2, video_generate_audio=False)
    again = ReplicateClipRenderer(client(replicate_server.url), "bytedance/seedance-1-pro",
                                  meter=meter_for("mv_clips")).render(scenes(), str(ref), silent,
                                                                      str(tmp_path / "again"), seed=40)
    assert replicate_server.creates() == 2 and ledger.cost("job-1", "mv_clips") == paid
    assert [c.status for c in ledger.calls("job-1", "mv_clips")] == ["succeeded"] * 2 + ["reused"] * 2
    assert probe(again[0].path).audio_codec is None


def test_a_refused_clip_is_classified(replicate_server, tmp_path):
    replicate_server.fail_models["google/veo-3.1"] = "The input was flagged as sensitive (E005)."
    ref = tmp_path / "ref.png"
    ref.write_bytes(replicate_server.png)
    renderer = ReplicateClipRenderer(client(replicate_server.url), "google/veo-3.1")
    with pytest.raises(Exception) as info:
        renderer.render(scenes(1), str(ref), flavor_with(video_duration=2), str(tmp_path / "c"), seed=1)
    assert info.value.code == "CONTENT_POLICY_VIOLATION" and not info.value.retryable


@pytest.mark.slow
def test_the_reference_travels_as_a_compact_subject_image(replicate_server, tmp_path):
    import base64
    import io

    ref = tmp_path / "card.png"
    Image.new("RGB", (1400, 2000), (90, 120, 200)).save(ref)
    renderer = ReplicateClipRenderer(client(replicate_server.url), "minimax/video-01")
    (clip,) = renderer.render(scenes(1), str(ref), flavor_with(video_duration=2), str(tmp_path / "c"), seed=1)
    (inputs,) = replicate_server.inputs("minimax/video-01")
    head, _, b64 = inputs["subject_reference"].partition(",")
    assert head == "data:image/jpeg;base64" and "first_frame_image" not in inputs
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        assert max(im.size) == 1024  # shrunk for the request; the stored reference is untouched
    assert clip.reference_used == "subject_reference" and abs(probe(clip.path).duration - 2.0) < 0.1
