"""Fan-out of job updates to WebSocket clients: one Redis subscription per job, shared by its clients.

Each watched job has a ``JobFeed``: a task subscribed (redis.asyncio) to ``job_updates:{job_id}``, the
per-job channel ProgressReporter publishes on, that hands every message to each client's bounded outbox.
The feed starts with the first client of a job and stops (unsubscribing) when the last one leaves.

Ordering: a client session subscribes (joins the feed) *before* it reads the job's snapshot from the store,
so no update can fall between the snapshot and the stream; messages already contained in the snapshot are
then dropped by their order key ``(seq, rank)`` (see ``order_key``). Nothing a client receives ever moves
status or progress backwards.

If Redis is unavailable the feed polls the store instead (and, once Redis is back, catches up from the store
before streaming again), so progress keeps flowing, just coarser and later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from badapple_dagster.progress import job_channel
from badapple_dagster.store.jobs import JobRecord, JobStore

from .config import ApiConfig
from .job_views import VideoLinks, snapshot_messages

log = logging.getLogger("badapple.api.ws")

# A status message and the progress message of the same event share a seq; the status one comes second.
_RANK = {"progress": 0, "status": 1}
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
REDIS_RETRY_SECONDS = 5.0


def snapshot_key(seq: int) -> tuple[int, int]:
    """A store snapshot at ``seq`` already contains every message of that seq, the status one included."""
    return seq, max(_RANK.values())


def order_key(message: dict[str, Any]) -> tuple[int, int] | None:
    seq = message.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return seq, _RANK.get(str(message.get("type")), 0)


@dataclass(eq=False)  # compared and hashed by identity: each is one client
class Outbox:
    """One client's bounded queue. A client that cannot keep up is flagged, never waited for: the feed
    must not slow down for anyone."""

    maxsize: int
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(init=False)
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.maxsize)

    def offer(self, kind: str, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((kind, message))
        except asyncio.QueueFull:
            self.overflowed.set()


class RedisUnavailable(Exception):
    pass


class JobFeed:
    def __init__(self, hub: FeedHub, job_id: str) -> None:
        self.hub = hub
        self.job_id = job_id
        self.clients: set[Outbox] = set()
        self.ready = asyncio.Event()  # set once updates cannot be missed (subscribed, or polling)
        self.mode = "starting"  # "redis" | "polling"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"feed-{self.job_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def broadcast(self, message: dict[str, Any]) -> None:
        for client in list(self.clients):
            client.offer("event", message)

    async def _run(self) -> None:
        resubscribing = False
        while True:
            try:
                await self._stream_from_redis(catch_up=resubscribing)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.hub.redis_factory is not None:
                    log.warning("updates for job %s: Redis unavailable (%s); polling the store", self.job_id, exc)
            resubscribing = True
            await self._poll_store(REDIS_RETRY_SECONDS if self.hub.redis_factory is not None else None)

    async def _stream_from_redis(self, *, catch_up: bool) -> None:
        if self.hub.redis_factory is None:
            raise RedisUnavailable("no REDIS_URL configured")
        pubsub = self.hub.redis_factory().pubsub()
        try:
            await pubsub.subscribe(job_channel(self.job_id))
            # The subscription is live only once Redis confirms it; before that a publish could be missed.
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                while True:
                    msg = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
                    if msg is not None and msg.get("type") == "subscribe":
                        break
            self.mode = "redis"
            if catch_up:
                # Messages published while we were not subscribed are lost; the store has their effect.
                await self._broadcast_snapshot()
            self.ready.set()
            while True:
                # A finite timeout keeps redis-py's health checks (PING when idle) running.
                msg = await pubsub.get_message(timeout=5.0)
                if msg is not None and msg.get("type") == "message":
                    await self._dispatch(msg["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _poll_store(self, retry_redis_after: float | None) -> None:
        self.mode = "polling"
        self.ready.set()
        loop = asyncio.get_running_loop()
        give_up_at = None if retry_redis_after is None else loop.time() + retry_redis_after
        last_seq: int | None = None
        while give_up_at is None or loop.time() < give_up_at:
            try:
                job = await run_in_threadpool(self.hub.store.get_job, self.job_id)
                if job is not None and job.seq != last_seq:
                    last_seq = job.seq
                    await self._broadcast_job(job)
            except Exception as exc:
                log.warning("updates for job %s: store poll failed: %s", self.job_id, exc)
            await asyncio.sleep(self.hub.config.ws_poll_seconds)

    async def _broadcast_snapshot(self) -> None:
        job = await run_in_threadpool(self.hub.store.get_job, self.job_id)
        if job is not None:
            await self._broadcast_job(job)

    async def _broadcast_job(self, job: JobRecord) -> None:
        url = await run_in_threadpool(self.hub.links.for_job, job)
        for message in snapshot_messages(job, url):
            self.broadcast(message)

    async def _dispatch(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("updates for job %s: ignoring a non-JSON message", self.job_id)
            return
        if not isinstance(message, dict) or message.get("job_id") != self.job_id:
            return
        if message.get("type") == "status":
            # The store keeps artifact keys; clients get a URL they can download from.
            key = message.pop("video_key", None)
            message["video_url"] = (
                await run_in_threadpool(self.hub.links.for_key, self.job_id, key)
                if message.get("status") == "completed" else None
            )
        self.broadcast(message)


class FeedHub:
    def __init__(
        self,
        store: JobStore,
        links: VideoLinks,
        config: ApiConfig,
        redis_factory: Callable[[], Any] | None,
    ) -> None:
        self.store = store
        self.links = links
        self.config = config
        self.redis_factory = redis_factory
        self._feeds: dict[str, JobFeed] = {}
        self._lock = asyncio.Lock()

    async def join(self, job_id: str, client: Outbox) -> JobFeed:
        """Register ``client`` for ``job_id``; returns once no later update can be missed."""
        async with self._lock:
            feed = self._feeds.get(job_id)
            if feed is None:
                feed = JobFeed(self, job_id)
                self._feeds[job_id] = feed
                feed.start()
            feed.clients.add(client)
        await asyncio.wait_for(feed.ready.wait(), timeout=SUBSCRIBE_TIMEOUT_SECONDS * 2)
        return feed

    async def leave(self, job_id: str, client: Outbox) -> None:
        async with self._lock:
            feed = self._feeds.get(job_id)
            if feed is None:
                return
            feed.clients.discard(client)
            if feed.clients:
                return
            del self._feeds[job_id]
        await feed.stop()  # outside the lock: a new client of the same job starts a fresh feed meanwhile

    def stats(self) -> dict[str, int]:
        return {
            "active_jobs": len(self._feeds),
            "total_connections": sum(len(f.clients) for f in self._feeds.values()),
        }

    async def close(self) -> None:
        async with self._lock:
            feeds = list(self._feeds.values())
            self._feeds.clear()
        await asyncio.gather(*(f.stop() for f in feeds), return_exceptions=True)
