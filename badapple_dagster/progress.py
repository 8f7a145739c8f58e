"""One way to report a job's progress, used by both reporting paths.

The in-asset path (fine-grained, milliseconds) and the run-event sensor (authoritative, seconds) both build
``StageEvent``s and hand them to ``ProgressReporter.emit``: the job store applies the event only if it is
newer than what it knows (sequence numbers are the time the thing happened), and only an applied event is
written to the Redis hot-status hash and published on the seed's pub/sub channels. So status and progress
never go backwards, whichever path reports first.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from .store.jobs import JobRecord, JobStore, StageEvent, seq_to_datetime

log = logging.getLogger(__name__)

STATUS_CHANNEL = "job_status_updates"
PROGRESS_CHANNEL = "job_progress_updates"
HOT_STATUS_TTL_SECONDS = 24 * 3600


def job_channel(job_id: str) -> str:
    """Every message about one job is also published here, so a WebSocket server subscribes per job and
    does not have to filter the firehose of the seed's global channels."""
    return f"job_updates:{job_id}"

STAGE_MESSAGES = {
    "script_gen": "Writing the script...",
    "voice_gen": "Recording the voiceover...",
    "video_gen": "Generating video scenes...",
    "compositing": "Compositing the final video...",
}


def hot_key(job_id: str) -> str:
    return f"job:{job_id}"


def progress_message(job: JobRecord, ev: StageEvent) -> dict[str, Any]:
    """The seed's progress message (job_id, stage, progress, status, message, timestamp) plus extras:
    ``seq`` for ordering, ``stage_status``/``stage_progress`` for the stage itself."""
    stage = job.stage(ev.stage) if ev.stage else None
    message = ev.message or (ev.error if ev.kind == "failed" else None)
    if not message and ev.stage:
        message = {
            "started": STAGE_MESSAGES.get(ev.stage, f"{ev.stage} started"),
            "completed": f"{ev.stage} completed",
        }.get(ev.kind, STAGE_MESSAGES.get(ev.stage, ""))
    return {
        "type": "progress",
        "job_id": job.id,
        "stage": ev.stage or "job",
        "progress": job.progress,
        "status": job.status,
        "message": message or "",
        "timestamp": seq_to_datetime(ev.seq).isoformat(),
        "seq": ev.seq,
        "stage_status": stage.status if stage else None,
        "stage_progress": stage.progress if stage else None,
        "event": ev.kind,
        "source": ev.source,
    }


def status_message(job: JobRecord, ev: StageEvent) -> dict[str, Any]:
    return {
        "type": "status",
        "job_id": job.id,
        "status": job.status,
        "progress": job.progress,
        "stage": ev.stage or "job",
        "error_message": job.error_message,
        "video_key": job.video_key,
        "timestamp": seq_to_datetime(ev.seq).isoformat(),
        "seq": ev.seq,
        "source": ev.source,
    }


class ProgressReporter:
    def __init__(self, store: JobStore, redis_client: Any | None = None) -> None:
        self.store = store
        self.redis = redis_client

    def emit(self, ev: StageEvent) -> JobRecord | None:
        job = self.store.apply_event(ev)
        if job is None:
            return None
        if self.redis is not None:
            try:
                # previous_status was read under the job row's lock, so two writers cannot both (or neither)
                # announce the same status change.
                self._publish(job, ev, status_changed=job.status != job.previous_status)
            except Exception as exc:  # Redis down must not fail a render; the store already has the truth
                log.warning("could not publish progress for %s: %s", ev.job_id, exc)
        return job

    def _publish(self, job: JobRecord, ev: StageEvent, *, status_changed: bool) -> None:
        prog = progress_message(job, ev)
        prog_json = json.dumps(prog)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(
            hot_key(job.id),
            mapping={
                "id": job.id,
                "status": job.status,
                "progress": job.progress,
                "stage": prog["stage"],
                "message": prog["message"],
                "seq": ev.seq,
                "updated_at": datetime.now(UTC).isoformat(),
                "data": prog_json,
            },
        )
        pipe.expire(hot_key(job.id), HOT_STATUS_TTL_SECONDS)
        pipe.publish(PROGRESS_CHANNEL, prog_json)
        pipe.publish(job_channel(job.id), prog_json)
        if status_changed or ev.kind in ("completed", "failed"):
            status = json.dumps(status_message(job, ev))
            pipe.publish(STATUS_CHANNEL, status)
            pipe.publish(job_channel(job.id), status)
        pipe.execute()


def redis_client_from_url(url: str | None) -> Any | None:
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)
