"""The whole ad chain materialized for one partition on a test instance, with real media, then probed."""

import json

import dagster as dg
import pytest
from PIL import Image, ImageChops, ImageStat

from badapple_dagster.artifacts import artifact_store_from_settings
from badapple_dagster.assets.ad import AD_ASSETS, compositing, script_gen, voice_gen
from badapple_dagster.definitions import build_definitions
from badapple_dagster.media.compositor import extract_frame
from badapple_dagster.media.ffmpeg import measure_loudness, probe
from badapple_dagster.media.models import END_CARD_SECONDS
from badapple_dagster.partitions import AD_JOBS
from tests.pipeline_env import make_job, product_png

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BADAPPLE_DATA_DIR", str(tmp_path))
    for var in ("DATABASE_URL", "REDIS_URL", "BADAPPLE_ARTIFACTS", "BADAPPLE_ARTIFACTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def materialize(instance, job_id, assets=AD_ASSETS, run_config=None, raise_on_error=True):
    instance.add_dynamic_partitions(AD_JOBS, [job_id])
    return dg.materialize(
        assets,
        partition_key=job_id,
        instance=instance,
        resources=build_definitions().resources,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def metadata_of(result, asset):
    mats = result.asset_materializations_for_node(asset.op.name)
    return {k: v.value for k, v in mats[-1].metadata.items()}


def frame(path, t, out):
    extract_frame(path, t, str(out))
    return Image.open(out).convert("RGB")


def test_full_chain_makes_a_real_ad(data_dir, instance, tmp_path):
    store, job = make_job(product_name="Volt Energy Drink", style="energetic", cta_text="Grab yours today",
                          image_bytes=product_png())
    result = materialize(instance, job.id)
    assert result.success

    arts = artifact_store_from_settings()
    video = arts.local_path(f"ads/{job.id}/compositing/ad.mp4")
    voice = arts.get_json(f"ads/{job.id}/voice_gen/manifest.json")["voice"]
    info = probe(video)
    expected = voice["duration"] + END_CARD_SECONDS
    assert abs(info.duration - expected) < 0.2, (info.duration, expected)
    assert 15.0 <= info.duration <= 30.0
    assert (info.width, info.height) == (1080, 1920)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert info.fps == pytest.approx(30.0)
    loud = measure_loudness(video)
    assert abs(loud.integrated_lufs - (-14.0)) < 1.5, loud  # audible and near the target, not silent

    # More than one distinct scene: frames from the middle of each scene window differ clearly.
    mids = [(w["start"] + w["end"]) / 2 for w in voice["windows"]]
    frames = [frame(video, t, tmp_path / f"f{i}.png") for i, t in enumerate(mids)]
    diffs = [ImageStat.Stat(ImageChops.difference(a, b)).mean for a, b in zip(frames, frames[1:], strict=False)]
    assert sum(1 for d in diffs if sum(d) / 3 > 8) >= 2, diffs

    # The job store tells the same story the API will tell.
    done = store.get_job(job.id)
    assert done.status == "completed" and done.progress == 100
    assert done.video_key == f"ads/{job.id}/compositing/ad.mp4"
    assert [s.status for s in done.stages] == ["completed"] * 4

    # Rich metadata an operator can judge the stage by.
    meta = metadata_of(result, script_gen)
    assert meta["provider"] == "local" and meta["cost_usd"] == 0.0 and "|" in meta["script"]
    meta = metadata_of(result, compositing)
    assert meta["sha256"] and meta["bytes"] > 100_000 and meta["video_uri"].startswith("file://")
    assert "data:image/jpeg;base64" in meta["poster"]


def test_rematerializing_voice_gen_reuses_the_stored_script(data_dir, instance):
    store, job = make_job(style="luxury")
    materialize(instance, job.id, assets=[script_gen, voice_gen])
    arts = artifact_store_from_settings()
    script_before = arts.get_bytes(f"ads/{job.id}/script_gen/manifest.json")
    voice_before = json.loads(arts.get_bytes(f"ads/{job.id}/voice_gen/manifest.json"))
    first_completed = store.get_job(job.id).stage("voice_gen").completed_at

    # Only voice_gen, with a different voice: upstream untouched, voice regenerated from the stored script.
    result = materialize(instance, job.id, assets=[voice_gen],
                         run_config={"ops": {"voice_gen": {"config": {"voice": "en-us+m3"}}}})
    assert result.success
    assert arts.get_bytes(f"ads/{job.id}/script_gen/manifest.json") == script_before
    voice_after = json.loads(arts.get_bytes(f"ads/{job.id}/voice_gen/manifest.json"))
    assert voice_after["voice"]["voice"] == "en-us+m3" != voice_before["voice"]["voice"]
    assert voice_after["wav"]["sha256"] != voice_before["wav"]["sha256"]
    assert store.get_job(job.id).stage("voice_gen").completed_at > first_completed


def test_partition_without_a_brief_fails_clearly(data_dir, instance):
    result = materialize(instance, "no-such-job", assets=[script_gen], raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "No brief is stored for job 'no-such-job'" in failure.event_specific_data.error.message
    # Permanent: no retry was attempted.
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_downstream_without_upstream_output_fails_clearly(data_dir, instance):
    store, job = make_job()
    result = materialize(instance, job.id, assets=[voice_gen], raise_on_error=False)
    assert not result.success
    failed = store.get_job(job.id)
    assert failed.status == "failed" and "Materialize script_gen" in failed.stage("voice_gen").error_message


def test_a_japanese_brief_renders_end_to_end(data_dir, instance):
    # The name becomes the type hero and the end-card title (no product image), the CTA the button: all drawn
    # with a fallback font that has the glyphs (tests/media/test_fonts.py checks they are not boxes).
    store, job = make_job(product_name="抹茶ラテ 限定版", style="modern", cta_text="今すぐ購入")
    assert materialize(instance, job.id).success
    done = store.get_job(job.id)
    assert done.status == "completed"
    info = probe(artifact_store_from_settings().local_path(done.video_key))
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (1080, 1920, "h264", "aac")
    assert 10.0 <= info.duration <= 30.0
    script = artifact_store_from_settings().get_json(f"ads/{job.id}/script_gen/manifest.json")["script"]
    assert script["product_name"] == "抹茶ラテ 限定版" and script["cta_text"] == "今すぐ購入"
