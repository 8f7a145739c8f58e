"""End to end through Dagster: the script comes from a (fake) OpenAI, the clips are refused by a (fake) Replicate
on content-policy grounds and fall back to the local renderer. A real video is produced, the fallback is
visible on the stage and the job is ``degraded``; the job's cost is the ledger's sum."""

import dagster as dg
import pytest

from badapple_dagster.artifacts import artifact_store_from_settings
from badapple_dagster.assets.ad import AD_ASSETS
from badapple_dagster.definitions import build_definitions
from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.partitions import AD_JOBS
from badapple_dagster.providers.ledger import Ledger
from tests.pipeline_env import make_job

from .fakes import ReplicateFake, openai_fake

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("BADAPPLE_DATA_DIR", str(tmp_path))
    for var in ("DATABASE_URL", "REDIS_URL", "BADAPPLE_ARTIFACTS", "BADAPPLE_ARTIFACTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    openai = openai_fake(tmp=tmp_path)
    replicate = ReplicateFake(tmp_path)
    replicate.fail_with = "The input or output was flagged as sensitive. Please try again with different inputs."
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-e2e-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai.url}/v1")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_e2e_0123456789")
    monkeypatch.setenv("REPLICATE_BASE_URL", replicate.url)
    monkeypatch.setenv("REPLICATE_POLL_SECONDS", "0.05")
    monkeypatch.setenv("BADAPPLE_PROVIDER_POOLS", "replicate=1")
    yield openai, replicate
    openai.stop()
    replicate.stop()


def test_fallback_chain_produces_a_degraded_video(env):
    openai, replicate = env
    store, job = make_job(product_name="Volt Energy Drink", style="energetic", cta_text="Grab yours today")
    providers = {"script_provider": "openai:gpt-4o-mini,local", "video_provider": "replicate:minimax/video-01,local"}
    run_config = {"ops": {name: {"config": providers} for name in ("script_gen", "voice_gen", "video_gen",
                                                                   "compositing")}}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(AD_JOBS, [job.id])
        result = dg.materialize(AD_ASSETS, partition_key=job.id, instance=instance,
                                resources=build_definitions().resources, run_config=run_config)
        # Every paid call went through its provider's pool, and gave the slot back.
        pools = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert pools["provider/replicate"] == 1 and "provider/openai" in pools
        for name in ("provider/replicate", "provider/openai"):
            assert not instance.event_log_storage.get_concurrency_info(name).claimed_slots
    assert result.success

    done = store.get_job(job.id)
    assert done.status == "completed" and done.degraded is True
    video = artifact_store_from_settings().local_path(f"ads/{job.id}/compositing/ad.mp4")
    info = probe(video)
    assert info.video_codec == "h264" and 15.0 <= info.duration <= 30.0

    video_stage = done.stage("video_gen").stage_data
    assert video_stage["provider"] == "local" and video_stage["degraded"] is True
    assert video_stage["requested_provider"] == "replicate:minimax/video-01"
    assert {f["code"] for f in video_stage["fallbacks"]} == {"CONTENT_POLICY_VIOLATION"}
    script_stage = done.stage("script_gen").stage_data
    assert script_stage["provider"] == "openai:gpt-4o-mini" and script_stage["degraded"] is False
    assert openai.hits("/chat/completions") == 1 and replicate.creates() >= 1

    ledger = Ledger(store.engine)
    assert done.cost_usd == pytest.approx(ledger.cost(job.id)) and done.cost_usd > 0
    assert script_stage["cost_usd"] == pytest.approx(ledger.cost(job.id, "script_gen"))
    mats = result.asset_materializations_for_node("video_gen")
    meta = {k: v.value for k, v in mats[-1].metadata.items()}
    assert meta["degraded"] is True and meta["provider"] == "local"

    from api.job_views import job_view
    assert job_view(done, None)["degraded"] is True
