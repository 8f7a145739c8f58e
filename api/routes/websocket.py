"""WebSocket /ws/jobs/{job_id}: live progress of one job."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from badapple_dagster.store.tables import jobs as jobs_table

from ..state import get_state
from ..ws_session import CLOSE_INTERNAL_ERROR, ClientSession, reject_unknown_job

router = APIRouter()
log = logging.getLogger("badapple.api.ws")

MAX_JOB_ID_CHARS = jobs_table.c.id.type.length  # longer ids cannot exist: skip the database


@router.websocket("/ws/jobs/{job_id}")
async def job_updates(websocket: WebSocket, job_id: str) -> None:
    state = get_state(websocket)
    try:
        exists = len(job_id) <= MAX_JOB_ID_CHARS and await run_in_threadpool(state.store.job_exists, job_id)
    except Exception:
        log.exception("job lookup failed for a WebSocket client of %s", job_id)
        await websocket.accept()
        await websocket.close(code=CLOSE_INTERNAL_ERROR, reason="Job store unavailable")
        return
    if not exists:
        await reject_unknown_job(websocket)
        return
    await websocket.accept()
    await ClientSession(websocket, job_id, state).run()
