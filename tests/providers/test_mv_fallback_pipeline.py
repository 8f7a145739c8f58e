"""End to end through the real MV Dagster assets with the project's provider choice: scenes from a (fake) OpenAI,
the character reference refused by a (fake) Replicate image model and drawn offline instead, clips from a
(fake) Replicate video model. A real music video comes out, the fallback is visible on the stage and the variant
is ``degraded``; costs are the ledger's; re-materializing the clips pays for nothing again."""

import json

import dagster as dg
import pytest

from badapple_dagster.artifacts import artifact_store_from_settings
from badapple_dagster.assets.mv import MV_ASSETS, mv_clips
from badapple_dagster.definitions import build_definitions
from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.mv_submission import add_mv_partitions, create_mv_project
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.settings import get_settings
from badapple_dagster.store.jobs import JobStore
from badapple_dagster.store.mv import MvStore

from .fakes import ReplicateFake, openai_fake

pytestmark = pytest.mark.slow

SCENES = {"scenes": [
    {"description": "Wide shot, slow pan: a silver robot in a red scarf rolls down a neon street at night.",
     "negative_description": "text, watermark"},
    {"description": "Close-up, push-in: the same silver robot in the red scarf grins under a street lamp.",
     "negative_description": "blurry"},
]}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("BADAPPLE_DATA_DIR", str(tmp_path))
    for var in ("DATABASE_URL", "REDIS_URL", "BADAPPLE_ARTIFACTS", "BADAPPLE_ARTIFACTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    openai = openai_fake(lambda: json.dumps(SCENES), tmp=tmp_path)
    replicate = ReplicateFake(tmp_path)
    replicate.fail_models["google/imagen-4"] = "Prompt was flagged by the safety filter."
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-mv-e2e-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai.url}/v1")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_mv_e2e_0123456789")
    monkeypatch.setenv("REPLICATE_BASE_URL", replicate.url)
    monkeypatch.setenv("REPLICATE_POLL_SECONDS", "0.05")
    with dg.instance_for_test() as instance:
        yield instance, openai, replicate
    openai.stop()
    replicate.stop()


def materialize(instance, project_id, variant, assets=MV_ASSETS):
    key = dg.MultiPartitionKey({"project": project_id, "flavor": variant})
    return dg.materialize(assets, partition_key=key, instance=instance, resources=build_definitions().resources)


def meta(result, node):
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[-1].metadata.items()}


def test_project_providers_render_a_degraded_music_video(env):
    instance, openai, replicate = env
    jobs = JobStore(get_settings().database_url)
    arts = artifact_store_from_settings()
    providers = {"scene_provider": "openai:gpt-4o-mini,local", "image_provider": "replicate,local",
                 "clip_provider": "replicate:bytedance/seedance-1-pro,local"}
    project = create_mv_project(MvStore(jobs), arts, concept="Robot exploring Austin, Texas",
                                character_description="Silver metallic humanoid robot with a red scarf",
                                flavors=["default"], grid={"number_of_scenes": ["2"], "video_duration": ["2"]},
                                options=providers)
    add_mv_partitions(instance, project)
    (variant,) = project.variants
    result = materialize(instance, project.id, variant.variant)
    assert result.success

    done = jobs.get_job(variant.job.id)
    assert done.status == "completed" and done.degraded is True
    video = arts.local_path(f"mv/projects/{project.id}/{variant.variant}/music_video/music_video.mp4")
    info = probe(video)
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", 1920, 1080)
    assert 3.0 <= info.duration <= 5.0

    scenes = done.stage("mv_scenes").stage_data
    assert scenes["provider"] == "openai:gpt-4o-mini" and scenes["degraded"] is False
    image = done.stage("character_reference").stage_data
    # No model named: the flavor's image model was asked, refused, and the offline card stood in.
    assert image["requested_provider"] == "replicate:google/imagen-4" and image["provider"] == "local"
    assert image["degraded"] is True and [f["code"] for f in image["fallbacks"]] == ["CONTENT_POLICY_VIOLATION"]
    clips = done.stage("mv_clips").stage_data
    assert clips["provider"] == "replicate:bytedance/seedance-1-pro" and clips["degraded"] is False
    assert openai.hits("/chat/completions") == 1 and replicate.creates("bytedance/seedance-1-pro") == 2
    assert replicate.creates("google/imagen-4") == 1
    written = arts.get_json(f"mv/projects/{project.id}/{variant.variant}/mv_scenes/manifest.json")["scenes"]
    assert [s["prompt"] for s in written] == [s["description"] for s in SCENES["scenes"]]

    ledger = Ledger(jobs.engine)
    assert done.cost_usd == pytest.approx(ledger.cost(done.id)) and done.cost_usd > 0
    assert clips["cost_usd"] == pytest.approx(ledger.cost(done.id, "mv_clips")) and clips["cost_usd"] > 0
    m = meta(result, "character_reference")
    assert m["degraded"] is True and m["provider"] == "local" and m["requested_provider"] == image[
        "requested_provider"]
    assert meta(result, "mv_clips")["cost_usd"] == pytest.approx(clips["cost_usd"])
    assert meta(result, "music_video")["job_cost_usd"] == pytest.approx(done.cost_usd)

    # Re-materializing the clips (a UI click, a retry) restores the paid outputs instead of buying them again.
    again = materialize(instance, project.id, variant.variant, assets=[mv_clips])
    assert again.success and replicate.creates("bytedance/seedance-1-pro") == 2
    assert ledger.cost(done.id) == pytest.approx(done.cost_usd)
    assert [c.status for c in ledger.calls(done.id, "mv_clips")][-2:] == ["reused", "reused"]

    from api.job_views import job_view  # what the MV variant view shows of the job

    assert job_view(jobs.get_job(done.id), None)["degraded"] is True
