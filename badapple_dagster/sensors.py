"""The run-event sensor: Dagster's event log -> job store + Redis.

This is the authoritative (if slower, ~5 s daemon tick) reporting path. It is what makes runs started from
the Dagster UI, step retries, failures and crashed/canceled runs visible in the API, even when the in-asset
path never got to say anything (a worker killed mid-stage, a run that failed before its first step).

Cursor: ``{"updated_after": <run update timestamp>, "runs": {run_id: <event log cursor>}}``. Each tick looks
at runs updated since the last tick (with a little overlap) and reads each run's new step/run events from
its own event cursor, so no event is handled twice and none is skipped.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from .partitions import AD_JOBS
from .resources import JobStoreResource, ProgressResource
from .store.jobs import AD_STAGES, StageEvent
from .store.mv import MV_STAGES

STAGE_KEYS = (*AD_STAGES, *MV_STAGES)
FINAL_STAGES = (AD_STAGES[-1], MV_STAGES[-1])  # their materialization carries the video
EVENT_TYPES = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.RUN_FAILURE,
    DagsterEventType.RUN_CANCELED,
    DagsterEventType.ENGINE_EVENT,  # carries the crash explanation when a run worker dies
}
TERMINAL = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
OVERLAP = timedelta(seconds=2)  # run update timestamps are written outside our transaction: re-look a bit
MAX_RUNS_PER_TICK = 200


def _seq(timestamp: float) -> int:
    return int(timestamp * 1_000_000)


def _error_text(error: Any) -> str:
    """The most useful line of a Dagster SerializableErrorInfo: the user's exception, not the wrapper."""
    if error is None:
        return "unknown error"
    while getattr(error, "cause", None) is not None and "user code" in (error.message or ""):
        error = error.cause
    return (error.message or "").strip().splitlines()[0][:2000] if error.message else "unknown error"


def crash_explanation(record: Any) -> str | None:
    """The code server's note when a run worker process died (killed, OOM) before finishing its run."""
    entry = record.event_log_entry
    ev = entry.dagster_event
    if ev is not None and ev.event_type == DagsterEventType.ENGINE_EVENT:
        msg = entry.user_message or ev.message or ""
        if msg.startswith("Run execution process for"):
            return msg.strip().splitlines()[0][:500]
    return None


def run_will_be_retried(instance: Any, run: Any) -> bool:
    """Dagster's run retries re-run a run whose worker crashed. While a retry is coming, the job is not
    failed (clients would see `failed`, then `processing` again): it stays processing with a message."""
    if not instance.run_retries_enabled:
        return False
    retry_number = int(run.tags.get("dagster/retry_number", "0"))
    max_retries = int(run.tags.get("dagster/max_retries", instance.run_retries_max_retries))
    if retry_number >= max_retries:
        return False
    if not instance.run_retries_retry_on_asset_or_op_failure:
        step_failures = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_FAILURE).records
        if step_failures:
            return False
    return True


def event_to_stage_event(job_id: str, run_id: str, record: Any, crash: str | None = None) -> StageEvent | None:
    entry = record.event_log_entry
    ev = entry.dagster_event
    if ev is None:
        return None
    seq = _seq(entry.timestamp)
    base = {"job_id": job_id, "seq": seq, "run_id": run_id, "source": "sensor"}
    etype = ev.event_type
    if etype == DagsterEventType.STEP_START and ev.step_key in STAGE_KEYS:
        return StageEvent(stage=ev.step_key, kind="started", **base)
    if etype == DagsterEventType.ASSET_MATERIALIZATION:
        mat = ev.event_specific_data.materialization
        stage = mat.asset_key.to_user_string()
        if stage not in STAGE_KEYS:
            return None
        meta = {k: getattr(v, "value", v) for k, v in (mat.metadata or {}).items()}
        final = stage in FINAL_STAGES
        video_key = meta.get("video_key") if final else None
        data = {k: meta[k] for k in ("provider", "model", "duration_s", "cost_usd") if k in meta}
        cost = meta.get("cost_usd") if final else None
        return StageEvent(stage=stage, kind="completed", data=data, video_key=video_key,
                          cost_usd=cost, **base)
    if etype == DagsterEventType.STEP_FAILURE and ev.step_key in STAGE_KEYS:
        error = ev.event_specific_data.error if ev.event_specific_data else None
        return StageEvent(stage=ev.step_key, kind="failed", error=_error_text(error), **base)
    if etype == DagsterEventType.RUN_FAILURE:
        data = ev.event_specific_data
        reason = _error_text(data.error) if data is not None and getattr(data, "error", None) else (
            crash or entry.user_message or "run failed"
        )
        return StageEvent(stage=None, kind="failed", error=f"run failed: {reason}", **base)
    if etype == DagsterEventType.RUN_CANCELED:
        return StageEvent(stage=None, kind="failed", error="run was canceled", **base)
    return None


def process_runs(instance: dg.DagsterInstance, store: Any, reporter: Any, cursor: dict[str, Any]) -> int:
    """One pass over recently updated runs; returns how many events were applied. Mutates ``cursor``."""
    run_cursors: dict[str, str | None] = cursor.setdefault("runs", {})
    after = cursor.get("updated_after")
    filters = RunsFilter(updated_after=(datetime.fromtimestamp(after, UTC) - OVERLAP) if after else None)
    records = instance.get_run_records(filters=filters, limit=MAX_RUNS_PER_TICK, order_by="update_timestamp",
                                       ascending=True)
    # Also keep following runs we saw earlier that are still going (their update timestamp may not move
    # while steps run).
    seen = {r.dagster_run.run_id for r in records}
    pending = [rid for rid in run_cursors if rid not in seen]
    if pending:
        records = list(records) + list(instance.get_run_records(filters=RunsFilter(run_ids=pending)))
    applied = 0
    for rec in records:
        run = rec.dagster_run
        job_id = job_id_of_run(run.tags)
        # Runs of ad_video_job, mv_video_job and UI runs of the implicit asset job all carry partition tags;
        # the job store says whether the key is one of ours (a run already followed was checked before).
        if not job_id or (run.run_id not in run_cursors and not store.job_exists(job_id)):
            continue
        conn = instance.get_records_for_run(run.run_id, cursor=run_cursors.get(run.run_id), of_type=EVENT_TYPES)
        crash = None
        for record in conn.records:
            crash = crash_explanation(record) or crash
            ev = record.event_log_entry.dagster_event
            retrying = bool(ev and ev.event_type == DagsterEventType.RUN_FAILURE
                            and run_will_be_retried(instance, run))
            if retrying:
                sev = _retry_notice(store, job_id, run.run_id, record, crash)
            else:
                sev = event_to_stage_event(job_id, run.run_id, record, crash)
            if sev is not None and reporter.emit(sev) is not None:
                applied += 1
        if run.status in TERMINAL and not conn.has_more:
            run_cursors.pop(run.run_id, None)
        else:
            run_cursors[run.run_id] = conn.cursor or run_cursors.get(run.run_id)
        ts = rec.update_timestamp.timestamp() if rec.update_timestamp else None
        if ts and (after is None or ts > after):
            after = ts
    cursor["updated_after"] = after
    return applied


def _retry_notice(store: Any, job_id: str, run_id: str, record: Any, crash: str | None) -> StageEvent | None:
    job = store.get_job(job_id)
    stage = next((s for s in job.stages if s.status == "processing"), None) if job else None
    if stage is None:
        return None
    why = crash or "the run failed outside its steps"
    return StageEvent(job_id=job_id, stage=stage.stage_name, kind="progress", progress=stage.progress,
                      message=f"{why}; Dagster is retrying the run", seq=_seq(record.event_log_entry.timestamp),
                      run_id=run_id, source="sensor")


def job_id_of_run(tags: Any) -> str | None:
    """Ad runs: the partition key is the job id. MV runs: one job per project x flavor variant."""
    if "dagster/partition/project" in tags and "dagster/partition/flavor" in tags:
        from .store.mv import mv_job_id

        return mv_job_id(tags["dagster/partition/project"], tags["dagster/partition/flavor"])
    return tags.get("dagster/partition")


@dg.sensor(
    name="job_progress_sensor",
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Publishes step starts, materializations, failures and run failures of {AD_JOBS} partitions "
    "to the job store and Redis (what the API and WebSocket clients see).",
)
def job_progress_sensor(
    context: dg.SensorEvaluationContext, jobs: JobStoreResource, progress: ProgressResource
) -> dg.SkipReason:
    store = jobs.get()
    reporter = progress.publisher(store)
    cursor = json.loads(context.cursor) if context.cursor else {}
    applied = process_runs(context.instance, store, reporter, cursor)
    context.update_cursor(json.dumps(cursor))
    return dg.SkipReason(f"applied {applied} events; following {len(cursor.get('runs', {}))} runs")
