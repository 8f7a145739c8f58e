"""One WebSocket client of ``/ws/jobs/{job_id}``: initial snapshot, ordered forwarding, keepalive, closing.

Two tasks per client: a sender that is the only writer to the socket (forwarded updates and replies share
the client's outbox, so frames never interleave) and a receiver that answers pings, reports malformed
messages and notices silence. A third waiter fires if the outbox overflows (client too slow: close 1013).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketState

from .job_views import TERMINAL_STATUSES, connected_message
from .state import AppState
from .ws_hub import Outbox, order_key, snapshot_key

log = logging.getLogger("badapple.api.ws")

CLOSE_NORMAL = 1000
CLOSE_POLICY_VIOLATION = 1008  # the seed's code for an unknown job
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013  # too slow to keep up
# After a terminal progress message, how long to wait for the status message of the same event (it carries
# video_url / error_message) before closing anyway.
TERMINAL_STATUS_GRACE_SECONDS = 1.0
CLOSE_TIMEOUT_SECONDS = 10.0


async def _close(ws: WebSocket, code: int, reason: str = "") -> None:
    if ws.client_state == WebSocketState.DISCONNECTED or ws.application_state == WebSocketState.DISCONNECTED:
        return
    # A client that stopped reading can block the close frame too; don't wait for it forever.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code=code, reason=reason), CLOSE_TIMEOUT_SECONDS)


async def reject_unknown_job(ws: WebSocket) -> None:
    # Closing before accept() turns into an HTTP 403 for the handshake, which browsers report without any
    # code. Accepting first is the only way for the client to see 1008; nothing else is sent.
    await ws.accept()
    await _close(ws, CLOSE_POLICY_VIOLATION, "Job not found")


class ClientSession:
    def __init__(self, ws: WebSocket, job_id: str, state: AppState) -> None:
        self.ws = ws
        self.job_id = job_id
        self.state = state
        self.outbox = Outbox(state.config.ws_client_queue_size)
        self.last_key: tuple[int, int] = (-1, -1)

    async def run(self) -> None:
        hub = self.state.hub
        try:
            await hub.join(self.job_id, self.outbox)
        except Exception:
            log.exception("could not start updates for job %s", self.job_id)
            await self.state.hub.leave(self.job_id, self.outbox)
            await _close(self.ws, CLOSE_INTERNAL_ERROR, "Updates unavailable")
            return
        try:
            await self._serve()
        finally:
            await hub.leave(self.job_id, self.outbox)

    async def _serve(self) -> None:
        # Subscribed first (join), snapshot second: anything newer than the snapshot is already queued.
        job = await run_in_threadpool(self.state.store.get_job, self.job_id)
        if job is None:
            await _close(self.ws, CLOSE_POLICY_VIOLATION, "Job not found")
            return
        url = await run_in_threadpool(self.state.links.for_job, job)
        self.last_key = snapshot_key(job.seq)
        await self.ws.send_text(json.dumps(connected_message(job, url)))
        if job.status in TERMINAL_STATUSES:
            await _close(self.ws, CLOSE_NORMAL, f"Job {job.status}")
            return
        sender = asyncio.create_task(self._send_loop())
        receiver = asyncio.create_task(self._receive_loop())
        overflow = asyncio.create_task(self.outbox.overflowed.wait())
        tasks = {sender, receiver, overflow}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if overflow in done:
            log.warning("closing a slow WebSocket client of job %s (outbox full)", self.job_id)
            await _close(self.ws, CLOSE_TRY_AGAIN_LATER, "Client too slow; reconnect to resume")
        elif sender in done and not sender.cancelled() and sender.exception() is None:
            await _close(self.ws, CLOSE_NORMAL, "Job finished")

    async def _send_loop(self) -> None:
        queue = self.outbox.queue
        loop = asyncio.get_running_loop()
        grace_until: float | None = None
        while True:
            if grace_until is None:
                kind, message = await queue.get()
            else:
                try:
                    kind, message = await asyncio.wait_for(queue.get(), max(0.0, grace_until - loop.time()))
                except TimeoutError:
                    return
            if kind == "event":
                key = order_key(message)
                if key is None or key <= self.last_key:
                    continue  # already covered by the snapshot or an earlier message
                self.last_key = key
            await self.ws.send_text(json.dumps(message))
            if kind == "event" and message.get("status") in TERMINAL_STATUSES:
                if message.get("type") == "status":
                    return
                grace_until = loop.time() + TERMINAL_STATUS_GRACE_SECONDS

    async def _receive_loop(self) -> None:
        idle = self.state.config.ws_idle_ping_seconds
        while True:
            try:
                frame = await asyncio.wait_for(self.ws.receive(), idle)
            except TimeoutError:
                self.outbox.offer("control", {"type": "ping"})
                continue
            if frame["type"] == "websocket.disconnect":
                return
            reply = _reply_to(frame.get("text"), frame.get("bytes"))
            if reply is not None:
                self.outbox.offer("control", reply)


def _reply_to(text: str | None, data: bytes | None) -> dict[str, Any] | None:
    if text is None:
        return _error("Binary frames are not supported; send JSON text such as {\"type\": \"ping\"}")
    try:
        message = json.loads(text)
    except ValueError:
        return _error("Messages must be JSON, e.g. {\"type\": \"ping\"}")
    if not isinstance(message, dict):
        return _error("Messages must be JSON objects, e.g. {\"type\": \"ping\"}")
    kind = message.get("type")
    if kind == "ping":
        return {"type": "pong"}
    if kind == "pong":
        return None
    return _error(f"Unknown message type {str(kind)[:40]!r}; supported: ping, pong")


def _error(message: str) -> dict[str, Any]:
    return {"type": "error", "error": "InvalidMessage", "message": message}
