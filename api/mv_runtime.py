"""Per-process limits for the synchronous MV endpoints (character cards and scene clips).

A scene clip renders in about 1.1× its duration on 2 cores (ffmpeg's x264 already uses every core), and the
Dagster runs of projects and sweeps render on the same machine. So the API renders at most
``BADAPPLE_MV_RENDER_SLOTS`` clips at once (default 1), in worker threads so the event loop stays free, and
lets at most ``BADAPPLE_MV_RENDER_QUEUE`` more requests wait for a slot (default 4). Past that a burst is
refused at once with 503 ``ServerBusy`` and ``Retry-After`` instead of piling up threads, memory and
client time-outs. Character cards (~0.6 s of Pillow each) get their own, wider gate.

The runtime lives on ``app.state`` and is created on first use, so app wiring (main.py, state.py) stays
untouched. Limits are per API process; several replicas each apply their own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from .errors import ApiError


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


class RenderGate:
    """A semaphore with a bounded waiting line: callers beyond ``slots + queue`` are refused, not queued."""

    def __init__(self, name: str, slots: int, queue: int, retry_after_seconds: int) -> None:
        self.name = name
        self.slots = slots
        self.queue = queue
        self.retry_after_seconds = retry_after_seconds
        self._sem = asyncio.Semaphore(slots)
        self._admitted = 0  # running + waiting

    @property
    def admitted(self) -> int:
        return self._admitted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._admitted >= self.slots + self.queue:
            raise ApiError(
                503,
                "ServerBusy",
                f"Too many {self.name} requests at once; try again shortly",
                f"{self.slots} render at a time, {self.queue} may wait",
                headers={"Retry-After": str(self.retry_after_seconds)},
            )
        self._admitted += 1
        try:
            async with self._sem:
                yield
        finally:
            self._admitted -= 1


@dataclass
class MvRuntime:
    clips: RenderGate
    cards: RenderGate
    # Picking the next free scene number and storing the clip under it happen under this lock (in worker
    # threads), so two requests for one project never get the same number in this process.
    scene_numbers: threading.Lock = field(default_factory=threading.Lock)
    # Writing a finished sweep's report (in a worker thread): once, even when several clients poll at once.
    reports: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls) -> MvRuntime:
        return cls(
            clips=RenderGate("scene clip", _int_env("BADAPPLE_MV_RENDER_SLOTS", 1, 1),
                             _int_env("BADAPPLE_MV_RENDER_QUEUE", 4, 0), retry_after_seconds=15),
            cards=RenderGate("character reference", 2, 8, retry_after_seconds=2),
        )


def get_mv_runtime(conn: HTTPConnection) -> MvRuntime:
    """FastAPI dependency. Created lazily on the event loop thread (no await in between: no race)."""
    runtime = getattr(conn.app.state, "badapple_mv", None)
    if runtime is None:
        runtime = MvRuntime.from_env()
        conn.app.state.badapple_mv = runtime
    return runtime
