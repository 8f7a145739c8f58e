"""Replicate predictions (create, poll, fetch, validate) and the scene renderer, against a fake Replicate."""

import pytest

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.media.models import FPS, Brief, SceneWindow, VoiceTrack
from badapple_dagster.media.palette import palette_for
from badapple_dagster.media.script_writer import LocalScriptWriter
from badapple_dagster.media.styles import resolve_style
from badapple_dagster.media.timeline import scene_plan
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.providers.replicate import ReplicateClient, ReplicateSceneRenderer, build_input

from .conftest import FAST_RETRY
from .fakes import Resp

SIZE = (540, 960)  # small, to keep ffmpeg quick on a shared 2-core box


@pytest.fixture
def script():
    return LocalScriptWriter().write(Brief("Volt Energy Drink", "energetic", "Grab yours today"), seed=5,
                                     palette=palette_for(resolve_style("energetic"), None))


@pytest.fixture
def voice():
    bounds = [0.0, 3.0, 6.5, 10.0, 14.0]
    windows = [SceneWindow(i, a, b) for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]
    return VoiceTrack("", 14.0, 22050, "en-us", 175, [], windows)


def client(url):
    return ReplicateClient("r8_testtoken1234567890", base_url=url, poll_interval=0.05, deadline=10,
                           retry=FAST_RETRY)


def test_prediction_is_polled_until_it_succeeds(replicate_server):
    pred = client(replicate_server.url).run("minimax/video-01", {"prompt": "a can of soda"})
    assert pred.status == "succeeded" and pred.output.endswith("/output.mp4")
    assert replicate_server.server.hits(f"/v1/predictions/{pred.id}", "GET") == 2  # processing, then succeeded
    create = replicate_server.server.requests[0]
    assert create.path == "/v1/models/minimax/video-01/predictions"
    assert create.headers["authorization"] == "Bearer r8_testtoken1234567890"


def test_renderer_normalises_clips_and_records_costs(replicate_server, script, voice, tmp_path, meter_for, store):
    renderer = ReplicateSceneRenderer(client(replicate_server.url), "bytedance/seedance-1-pro",
                                      meter=meter_for("video_gen"))
    clips = renderer.render(script, voice, product_image=None, size=SIZE, out_dir=str(tmp_path / "out"), seed=9)
    plans = scene_plan(voice, resolve_style("energetic").transition_duration)
    assert len(clips) == 4
    for clip, plan in zip(clips, plans, strict=True):
        info = probe(clip.path)
        assert (info.width, info.height, info.fps, info.pix_fmt) == (*SIZE, FPS, "yuv420p")
        assert abs(info.duration - plan.frames / FPS) < 0.05
    inputs = [p["input"] for p in replicate_server.predictions.values()]
    assert all(i["aspect_ratio"] == "9:16" and i["duration"] in (5, 10) for i in inputs)
    assert sorted(i["seed"] for i in inputs) == [9, 10, 11, 12]
    ledger = Ledger(store.engine)
    # seedance is priced per second of output: 4 clips x 2 s (the fake's MP4) x $0.03
    assert ledger.cost("job-1", "video_gen") == pytest.approx(4 * 2.0 * 0.03, abs=0.01)
    # Re-rendering (a retry / re-materialization) reuses the stored clips: no new predictions, no new cost.
    renderer2 = ReplicateSceneRenderer(client(replicate_server.url), "bytedance/seedance-1-pro",
                                       meter=meter_for("video_gen"))
    renderer2.render(script, voice, product_image=None, size=SIZE, out_dir=str(tmp_path / "again"), seed=9)
    assert replicate_server.creates() == 4
    assert ledger.cost("job-1", "video_gen") == pytest.approx(4 * 2.0 * 0.03, abs=0.01)


def test_content_policy_refusal(replicate_server):
    replicate_server.fail_with = "NSFW content detected. Try running it again, or try a different prompt."
    with pytest.raises(Exception) as info:
        client(replicate_server.url).run("google/veo-3.1", {"prompt": "x"})
    assert info.value.code == "CONTENT_POLICY_VIOLATION" and not info.value.retryable
    assert replicate_server.creates() == 1


def test_invalid_download_is_rejected(replicate_server, script, voice, tmp_path):
    replicate_server.serve_html = True
    renderer = ReplicateSceneRenderer(client(replicate_server.url), "minimax/video-01", concurrency=1)
    with pytest.raises(Exception) as info:
        renderer.render(script, voice, product_image=None, size=SIZE, out_dir=str(tmp_path), seed=1)
    assert info.value.code == "PROVIDER_ERROR" and "not a readable video" in info.value.message


def test_create_rate_limited_then_accepted(replicate_server):
    replicate_server.server.queue("/predictions$", Resp(429, {"detail": "Request was throttled.", "status": 429},
                                                        {"retry-after": "0"}))
    assert client(replicate_server.url).run("minimax/video-01", {"prompt": "x"}).status == "succeeded"
    assert replicate_server.creates() == 2


def test_deadline_cancels_and_times_out(replicate_server):
    replicate_server.polls = 10_000
    c = ReplicateClient("r8_x" * 4, base_url=replicate_server.url, poll_interval=0.05, deadline=0.3,
                        retry=FAST_RETRY)
    with pytest.raises(Exception) as info:
        c.run("minimax/video-01", {"prompt": "x"})
    assert info.value.code == "TIMEOUT"
    assert replicate_server.server.hits("/cancel$", "POST") == 1


def test_per_model_inputs():
    veo = build_input("google/veo-3.1", prompt="p", aspect_ratio="1:1", duration=5.1, seed=3, image="data:x",
                      negative_prompt="blur")
    assert veo == {"prompt": "p", "aspect_ratio": "9:16", "duration": 6, "generate_audio": False, "seed": 3,
                   "negative_prompt": "blur", "reference_images": ["data:x"]}
    assert build_input("minimax/video-01", prompt="p", aspect_ratio="9:16", duration=5, image="data:y") == {
        "prompt": "p", "prompt_optimizer": True, "first_frame_image": "data:y"}
    assert build_input("bytedance/seedance-1-pro", prompt="p", aspect_ratio="16:9", duration=7)["duration"] == 10
    assert build_input("black-forest-labs/flux-schnell", prompt="p", aspect_ratio="9:16", duration=0,
                       seed=1)["num_inference_steps"] == 4
    assert build_input("google/imagen-4", prompt="p", aspect_ratio="1:1", duration=0)["safety_filter_level"]
    assert build_input("someone/new-model", prompt="p", aspect_ratio="1:1", duration=3) == {"prompt": "p"}
