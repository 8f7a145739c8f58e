"""Health endpoints: /health for the service and its dependencies, /ws/health for the WebSocket fan-out."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from ..schemas import Health, WsHealth
from ..state import AppState, get_state

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0


def _ping_database(state: AppState) -> None:
    with state.store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _check(coro: Any) -> str:
    try:
        await asyncio.wait_for(coro, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "down: timeout"
    except Exception as exc:
        # The exception type is enough to act on; messages can carry hosts and credentials.
        return f"down: {type(exc).__name__}"
    return "ok"


async def _redis_check(state: AppState) -> str:
    if state.redis_async is None:
        return "not_configured"
    return await _check(state.redis_async.ping())


@router.get("/health", response_model=Health, summary="Service health and its dependencies")
async def health(state: AppState = Depends(get_state)) -> dict[str, Any]:
    database, redis, dagster = await asyncio.gather(
        _check(run_in_threadpool(_ping_database, state)),
        _redis_check(state),
        _check(state.dagster.version()),
    )
    checks = {"database": database, "redis": redis, "dagster": dagster}
    # Always 200: the API itself is up and serves what it can (a dead Dagster only delays launches, a dead
    # Redis only coarsens live updates); "degraded" tells operators which dependency to look at.
    healthy = all(v in ("ok", "not_configured") for v in checks.values())
    return {
        "status": "healthy" if healthy else "degraded",
        "service": "badapple-api",
        "version": state.config.version,
        "checks": checks,
    }


@router.get("/ws/health", response_model=WsHealth, summary="WebSocket fan-out health")
async def ws_health(state: AppState = Depends(get_state)) -> dict[str, Any]:
    return {"status": "healthy", "websocket_server": "running", **state.hub.stats()}
