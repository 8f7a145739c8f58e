"""Job status, job list and the finished video."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from badapple_dagster.artifacts import ArtifactKeyError
from badapple_dagster.store.jobs import JobRecord
from badapple_dagster.store.tables import jobs as jobs_table

from ..errors import ApiError, job_not_found
from ..job_views import job_view
from ..ranges import range_file_response
from ..schemas import ERROR_RESPONSES, NOT_FOUND, JobStatus, JobStatusValue
from ..state import AppState, get_state

router = APIRouter(tags=["jobs"])

MAX_JOB_ID_CHARS = jobs_table.c.id.type.length  # longer ids cannot exist: skip the database


def _load_job(state: AppState, job_id: str) -> JobRecord | None:
    return state.store.get_job(job_id) if len(job_id) <= MAX_JOB_ID_CHARS else None


def _job_response(state: AppState, job_id: str) -> dict[str, Any] | None:
    job = _load_job(state, job_id)
    return None if job is None else job_view(job, state.links.for_job(job))


@router.get("/api/jobs/{job_id}", response_model=JobStatus, responses={**NOT_FOUND, **ERROR_RESPONSES},
            summary="Get a job's status and progress")
async def get_job(job_id: str, state: AppState = Depends(get_state)) -> dict[str, Any]:
    # The job store is the source of truth (Redis holds only a hot copy), so Redis being down changes nothing.
    view = await run_in_threadpool(_job_response, state, job_id)
    if view is None:
        raise job_not_found(job_id)
    return view


def _list(state: AppState, limit: int, offset: int, status: str | None) -> tuple[list[dict[str, Any]], int]:
    jobs = state.store.list_jobs(limit=limit, offset=offset, status=status)
    total = state.store.count_jobs(status)
    return [job_view(j, state.links.for_job(j)) for j in jobs], total


@router.get("/api/jobs", response_model=list[JobStatus], responses=ERROR_RESPONSES,
            summary="List jobs, newest first")
async def list_jobs(
    response: Response,
    limit: int = Query(100, ge=1, le=1000, description="Maximum number of jobs to return"),
    offset: int = Query(0, ge=0, le=2**31 - 1, description="Number of jobs to skip"),
    status: JobStatusValue | None = Query(None, description="Only jobs with this status"),
    state: AppState = Depends(get_state),
) -> list[dict[str, Any]]:
    views, total = await run_in_threadpool(_list, state, limit, offset, status)
    # The seed's response is a bare list; the total for paging travels in a header.
    response.headers["X-Total-Count"] = str(total)
    return views


def _video_source(state: AppState, job_id: str) -> tuple[str, str]:
    """("redirect", presigned URL) for object storage, ("file", path) for the local store; raises 404s."""
    job = _load_job(state, job_id)
    if job is None:
        raise job_not_found(job_id)
    if job.status != "completed" or not job.video_key:
        raise ApiError(404, "VideoNotFound", f"Job '{job_id}' has no video yet", f"The job is {job.status}")
    missing = ApiError(404, "VideoNotFound", f"The video of job '{job_id}' is missing",
                       "The artifact store has no file under the job's video key")
    try:
        presigned = state.artifacts.presigned_url(job.video_key, state.config.settings.presign_expiry_seconds)
        if presigned:
            return "redirect", presigned
        path = state.artifacts.local_path(job.video_key)
    except ArtifactKeyError:
        raise missing from None
    if path is None:
        raise missing
    return "file", path


@router.api_route("/api/jobs/{job_id}/video", methods=["GET", "HEAD"], responses=NOT_FOUND,
                  response_class=FileResponse, summary="Download the finished video (supports Range)")
async def get_video(job_id: str, request: Request, state: AppState = Depends(get_state)) -> Response:
    kind, target = await run_in_threadpool(_video_source, state, job_id)
    if kind == "redirect":
        return RedirectResponse(target, status_code=307)
    path = target
    try:
        stat = await run_in_threadpool(os.stat, path)
    except FileNotFoundError:
        raise ApiError(404, "VideoNotFound", f"The video of job '{job_id}' is missing", "") from None
    # inline: play in the browser; downloading is the client's choice
    return range_file_response(request.headers.get("range"), path, stat, noun="video", media_type="video/mp4",
                               filename=f"{job_id}.mp4", content_disposition_type="inline")
