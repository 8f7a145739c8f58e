"""The code location loads and is shaped as operators expect."""

import dagster as dg

from badapple_dagster.assets.ad import AD_ASSETS
from badapple_dagster.config import AdConfig
from badapple_dagster.definitions import defs


def test_definitions_load_with_the_four_partitioned_assets():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    ad_keys = {"script_gen", "voice_gen", "video_gen", "compositing"}
    assert keys == ad_keys | {"mv_scenes", "character_reference", "mv_clips", "music_video"}
    for key in ad_keys:
        node = repo.asset_graph.get(dg.AssetKey(key))
        assert node.partitions_def.name == "ad_jobs"
    for asset in AD_ASSETS:  # retry policy and pool on the asset, so UI runs (implicit asset job) get them
        assert asset.op.retry_policy is not None and asset.op.retry_policy.max_retries >= 1
        assert asset.op.pool == "local_media"
    assert [p.to_user_string() for p in repo.asset_graph.get(dg.AssetKey("compositing")).parent_keys] == [
        "video_gen"]


def test_ad_video_job_uses_the_in_process_executor():
    job = defs.resolve_job_def("ad_video_job")
    assert job.executor_def.name == "in_process"
    assert job.partitions_def.name == "ad_jobs"
    assert {n.name for n in job.nodes} == {"script_gen", "voice_gen", "video_gen", "compositing"}


def test_run_config_needs_nothing():
    # Every field has a default, so a UI materialize needs no launchpad.
    AdConfig()


def test_progress_sensor_runs_by_default():
    sensor = defs.resolve_sensor_def("job_progress_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
