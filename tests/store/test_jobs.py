"""The job store against a real SQLite file: creation, listing, and the event ordering rules."""

import uuid

import pytest

from badapple_dagster.store.jobs import AD_STAGES, JobStore, StageEvent, seq_now


@pytest.fixture
def store(tmp_path):
    return JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")


def new_job(store, **kw):
    args = {"product_name": "EcoWater Bottle", "style": "modern", "cta_text": "Buy Now!"} | kw
    return store.create_job(str(uuid.uuid4()), **args)


def test_create_job_stores_brief_and_four_pending_stages(store):
    job = new_job(store, options={"seed": 7})
    assert job.status == "pending" and job.progress == 0
    assert [s.stage_name for s in job.stages] == list(AD_STAGES)
    assert all(s.status == "pending" for s in job.stages)
    brief = store.get_brief(job.id)
    assert (brief.product_name, brief.style, brief.cta_text, brief.options) == (
        "EcoWater Bottle", "modern", "Buy Now!", {"seed": 7})


def test_stage_lifecycle_drives_job_status_and_progress(store):
    job = new_job(store)
    store.apply_event(StageEvent(job.id, "script_gen", "started"))
    assert store.get_job(job.id).status == "processing"
    for stage in AD_STAGES:
        store.apply_event(StageEvent(job.id, stage, "started"))
        store.apply_event(StageEvent(job.id, stage, "progress", progress=50))
        store.apply_event(StageEvent(job.id, stage, "completed",
                                     video_key="ads/x/compositing/ad.mp4" if stage == "compositing" else None))
    done = store.get_job(job.id)
    assert done.status == "completed" and done.progress == 100
    assert done.video_key == "ads/x/compositing/ad.mp4"
    assert all(s.started_at and s.completed_at for s in done.stages)


def test_stale_events_are_dropped_so_progress_never_goes_backwards(store):
    job = new_job(store)
    early = seq_now()
    assert store.apply_event(StageEvent(job.id, "voice_gen", "progress", progress=60, seq=early + 10)) is not None
    # The sensor reports the step start later, but it happened earlier: it must not reset the progress.
    assert store.apply_event(StageEvent(job.id, "voice_gen", "started", seq=early)) is None
    assert store.get_job(job.id).stage("voice_gen").progress == 60
    # The second report of the same completion changes nothing and is not re-published.
    assert store.apply_event(StageEvent(job.id, "voice_gen", "completed", seq=early + 20)) is not None
    assert store.apply_event(StageEvent(job.id, "voice_gen", "completed", seq=early + 30)) is None


def test_rematerializing_a_stage_reopens_it_then_completes_again(store):
    job = new_job(store)
    for stage in AD_STAGES:
        store.apply_event(StageEvent(job.id, stage, "completed", video_key="k/v.mp4"))
    assert store.get_job(job.id).status == "completed"
    store.apply_event(StageEvent(job.id, "voice_gen", "started"))
    mid = store.get_job(job.id)
    assert mid.status == "processing" and mid.stage("voice_gen").completed_at is None
    store.apply_event(StageEvent(job.id, "voice_gen", "completed"))
    assert store.get_job(job.id).status == "completed"


def test_stage_failure_fails_the_job_with_the_reason(store):
    job = new_job(store)
    store.apply_event(StageEvent(job.id, "script_gen", "completed"))
    store.apply_event(StageEvent(job.id, "voice_gen", "started"))
    store.apply_event(StageEvent(job.id, "voice_gen", "failed", error="unknown voice 'xx'"))
    failed = store.get_job(job.id)
    assert failed.status == "failed"
    assert failed.error_message == "voice_gen failed: unknown voice 'xx'"
    assert failed.stage("voice_gen").error_message == "unknown voice 'xx'"


def test_run_failure_without_step_failure_marks_running_stage(store):
    job = new_job(store)
    store.apply_event(StageEvent(job.id, "script_gen", "completed"))
    store.apply_event(StageEvent(job.id, "voice_gen", "started"))
    store.apply_event(StageEvent(job.id, None, "failed", error="run worker crashed"))
    job = store.get_job(job.id)
    assert job.status == "failed" and job.stage("voice_gen").error_message == "run worker crashed"
    assert job.stage("script_gen").status == "completed"


def test_fail_job_before_launch(store):
    job = new_job(store)
    store.fail_job(job.id, "Dagster unreachable for 600 s")
    job = store.get_job(job.id)
    assert job.status == "failed" and "Dagster unreachable" in job.error_message


def test_list_newest_first_with_filter_and_pagination(store):
    ids = [new_job(store).id for _ in range(5)]
    store.apply_event(StageEvent(ids[0], "script_gen", "started"))
    listed = [j.id for j in store.list_jobs(limit=10)]
    assert listed == list(reversed(ids))
    assert [j.id for j in store.list_jobs(limit=2, offset=1)] == list(reversed(ids))[1:3]
    assert [j.id for j in store.list_jobs(status="processing")] == [ids[0]]
    assert store.count_jobs() == 5 and store.count_jobs("pending") == 4


def test_unknown_job_events_are_ignored(store):
    assert store.apply_event(StageEvent("nope", "script_gen", "started")) is None
