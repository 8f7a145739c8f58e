"""How jobs look on the wire: the seed's JobStatusResponse, its stage list, video URLs and the WebSocket
messages built from a stored job. Timestamps are UTC, ISO 8601 without offset (the seed's format)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from badapple_dagster.artifacts import ArtifactKeyError, ArtifactStore
from badapple_dagster.progress import STAGE_MESSAGES
from badapple_dagster.store.jobs import JobRecord, StageRecord

TERMINAL_STATUSES = frozenset({"completed", "failed"})


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


class VideoLinks:
    """Where a client downloads a finished video: the API's own range-capable endpoint for the local
    artifact store, a presigned URL (minted per read, so it never expires in the database) for S3."""

    def __init__(self, artifacts: ArtifactStore, public_base_url: str, presign_expiry_seconds: int) -> None:
        self.artifacts = artifacts
        self.public_base_url = public_base_url.rstrip("/")
        self.expiry = presign_expiry_seconds

    def for_key(self, job_id: str, video_key: str | None) -> str | None:
        """Blocking for S3 (presigning reads credentials): call from a worker thread."""
        if not video_key:
            return None
        try:
            presigned = self.artifacts.presigned_url(video_key, self.expiry)
        except ArtifactKeyError:
            return None
        return presigned or f"{self.public_base_url}/api/jobs/{quote(job_id, safe='')}/video"

    def for_job(self, job: JobRecord) -> str | None:
        return self.for_key(job.id, job.video_key) if job.status == "completed" else None


def stage_view(stage: StageRecord) -> dict[str, Any]:
    return {
        "id": stage.id,
        "stage_name": stage.stage_name,
        "status": stage.status,
        "progress": stage.progress,
        "started_at": iso(stage.started_at),
        "completed_at": iso(stage.completed_at),
        "error_message": stage.error_message,
        **provider_view(stage.stage_data or {}),
    }


def provider_view(data: dict[str, Any]) -> dict[str, Any]:
    """Who produced the stage, what it cost, and any fallback: never silent (None until the stage is done)."""
    return {
        "provider": data.get("provider"),
        "requested_provider": data.get("requested_provider"),
        "fallbacks": data.get("fallbacks") or [],
        "cost_usd": data.get("cost_usd"),
        "error_code": data.get("error_code"),
    }


def job_view(job: JobRecord, video_url: str | None) -> dict[str, Any]:
    """The seed's JobStatusResponse, field for field."""
    return {
        "job_id": job.id,
        "status": job.status,
        "progress": job.progress,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "product_name": job.product_name,
        "style": job.style,
        "cta_text": job.cta_text,
        "video_url": video_url,
        "error_message": job.error_message,
        "cost_usd": job.cost_usd,
        "degraded": job.degraded,
        "error_code": next((s.stage_data.get("error_code") for s in job.stages
                            if s.status == "failed" and s.stage_data and s.stage_data.get("error_code")), None),
        "stages": [stage_view(s) for s in job.stages],
    }


def current_stage(job: JobRecord) -> str:
    """The stage a person would say the job is at."""
    for wanted in ("processing", "failed"):
        stage = next((s for s in job.stages if s.status == wanted), None)
        if stage is not None:
            return stage.stage_name
    pending = next((s for s in job.stages if s.status != "completed"), None)
    if pending is not None:
        return pending.stage_name
    return job.stages[-1].stage_name if job.stages else "job"


def describe(job: JobRecord, stage: str) -> str:
    if job.status == "pending":
        return "Waiting for a render slot"
    if job.status == "processing":
        return STAGE_MESSAGES.get(stage, f"{stage} in progress")
    if job.status == "completed":
        return "Video ready"
    return job.error_message or "Job failed"


def connected_message(job: JobRecord, video_url: str | None) -> dict[str, Any]:
    """The first WebSocket message: where the job stands, with the seq the stream continues from."""
    stage = current_stage(job)
    return {
        "type": "connected",
        "job_id": job.id,
        "status": job.status,
        "progress": job.progress,
        "stage": stage,
        "message": describe(job, stage),
        "timestamp": iso(job.updated_at),
        "seq": job.seq,
        "stages": [stage_view(s) for s in job.stages],
        "video_url": video_url,
        "error_message": job.error_message,
    }


def snapshot_messages(job: JobRecord, video_url: str | None) -> list[dict[str, Any]]:
    """Progress (and, at the end, status) messages rebuilt from the store, used when pub/sub messages may
    have been missed (Redis unavailable or reconnecting). Same shapes and seq as the live messages."""
    stage = current_stage(job)
    stage_rec = job.stage(stage)
    messages: list[dict[str, Any]] = [
        {
            "type": "progress",
            "job_id": job.id,
            "stage": stage,
            "progress": job.progress,
            "status": job.status,
            "message": describe(job, stage),
            "timestamp": iso(job.updated_at),
            "seq": job.seq,
            "stage_status": stage_rec.status if stage_rec else None,
            "stage_progress": stage_rec.progress if stage_rec else None,
            "source": "store",
        }
    ]
    if job.status in TERMINAL_STATUSES:
        messages.append(
            {
                "type": "status",
                "job_id": job.id,
                "status": job.status,
                "progress": job.progress,
                "stage": stage,
                "error_message": job.error_message,
                "video_url": video_url,
                "timestamp": iso(job.updated_at),
                "seq": job.seq,
                "source": "store",
            }
        )
    return messages
