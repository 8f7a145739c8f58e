"""The run-event sensor rebuilds a job's story from Dagster's event log alone.

The assets report into one job store; the sensor is pointed at a second, fresh store holding only the brief,
so everything it shows there came from the event log (as for a UI run whose in-asset reports were lost, or
a worker that died before it could report).
"""

import dagster as dg
import pytest

from badapple_dagster.assets.ad import script_gen, voice_gen
from badapple_dagster.definitions import build_definitions
from badapple_dagster.partitions import AD_JOBS
from badapple_dagster.progress import ProgressReporter
from badapple_dagster.sensors import process_runs
from badapple_dagster.store.jobs import JobStore
from tests.pipeline_env import make_job


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("BADAPPLE_DATA_DIR", str(tmp_path))
    for var in ("DATABASE_URL", "REDIS_URL", "BADAPPLE_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    with dg.instance_for_test() as instance:
        yield instance, tmp_path


def shadow_store(tmp_path, job):
    shadow = JobStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    shadow.create_job(job.id, product_name=job.product_name, style=job.style, cta_text=job.cta_text)
    return shadow


def run(instance, job_id, assets, run_config=None):
    instance.add_dynamic_partitions(AD_JOBS, [job_id])
    return dg.materialize(assets, partition_key=job_id, instance=instance, resources=build_definitions().resources,
                          run_config=run_config, raise_on_error=False)


def test_sensor_reports_step_starts_and_materializations(env):
    instance, tmp = env
    _store, job = make_job()
    assert run(instance, job.id, [script_gen, voice_gen]).success
    shadow = shadow_store(tmp, job)
    cursor: dict = {}
    applied = process_runs(instance, shadow, ProgressReporter(shadow), cursor)
    seen = shadow.get_job(job.id)
    assert applied == 4  # two step starts, two materializations
    assert [s.status for s in seen.stages] == ["completed", "completed", "pending", "pending"]
    assert seen.stage("voice_gen").started_at <= seen.stage("voice_gen").completed_at
    assert seen.status == "processing"
    # The cursor moved past everything: a second tick applies nothing.
    assert process_runs(instance, shadow, ProgressReporter(shadow), cursor) == 0


def test_sensor_reports_a_failed_stage_with_its_reason(env):
    instance, tmp = env
    _store, job = make_job()
    assert run(instance, job.id, [script_gen]).success
    bad = {"ops": {"voice_gen": {"config": {"voice": "xx-no-such-voice"}}}}
    assert not run(instance, job.id, [voice_gen], run_config=bad).success
    shadow = shadow_store(tmp, job)
    process_runs(instance, shadow, ProgressReporter(shadow), {})
    seen = shadow.get_job(job.id)
    assert seen.status == "failed"
    assert seen.stage("voice_gen").status == "failed"
    assert "xx-no-such-voice" in seen.stage("voice_gen").error_message
    assert seen.error_message.startswith("voice_gen failed:")


@pytest.mark.slow
def test_with_in_asset_reporting_off_the_sensor_alone_completes_the_job(env):
    from badapple_dagster.artifacts import artifact_store_from_settings
    from badapple_dagster.assets.ad import AD_ASSETS
    from badapple_dagster.media.ffmpeg import probe
    from badapple_dagster.resources import ProgressResource

    instance, _tmp = env
    store, job = make_job()
    instance.add_dynamic_partitions(AD_JOBS, [job.id])
    progress = ProgressResource(in_asset=False)
    resources = {**build_definitions().resources, "progress": progress}
    assert dg.materialize(AD_ASSETS, partition_key=job.id, instance=instance, resources=resources).success
    assert store.get_job(job.id).status == "pending", "the assets reported nothing"

    # The sensor reports through the same resource's publisher, which is never silenced.
    assert process_runs(instance, store, progress.publisher(store), {}) == 8  # 4 starts, 4 materializations
    done = store.get_job(job.id)
    assert done.status == "completed" and all(s.status == "completed" for s in done.stages)
    info = probe(artifact_store_from_settings().local_path(done.video_key))
    assert info.video_codec == "h264" and info.duration > 10
