"""Everything the API process holds for its lifetime, opened in the lifespan and closed on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from badapple_dagster.artifacts import ArtifactStore, artifact_store_from_settings
from badapple_dagster.progress import ProgressReporter, redis_client_from_url

from .config import ApiConfig
from .dagster_client import DagsterClient
from .estimates import CompletionEstimator
from .job_views import VideoLinks
from .launcher import Launcher
from .options import preload_voices
from .store_gate import GatedJobStore
from .ws_hub import FeedHub

log = logging.getLogger("badapple.api")

# Decoding an upload can take ~40 MP x 4 bytes of RAM and a core; more in parallel than there are cores only
# multiplies memory without finishing sooner.
IMAGE_DECODE_SLOTS = 2


def _async_redis(url: str) -> Any:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # No silent reconnect-and-resubscribe: a pub/sub reconnect would hide a gap in the stream, and the feed
    # needs to know about it to catch up from the store.
    return aioredis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=None, health_check_interval=15, retry=Retry(NoBackoff(), 0)
    )


@dataclass
class AppState:
    config: ApiConfig
    store: GatedJobStore
    artifacts: ArtifactStore
    links: VideoLinks
    redis_sync: Any | None
    redis_async: Any | None
    dagster: DagsterClient
    reporter: ProgressReporter
    launcher: Launcher
    hub: FeedHub
    estimator: CompletionEstimator
    image_slots: asyncio.Semaphore

    @classmethod
    async def open(cls, config: ApiConfig) -> AppState:
        s = config.settings
        # JobStore runs the migrations: blocking, and first, so a bad DATABASE_URL fails startup loudly.
        store = await run_in_threadpool(GatedJobStore, s.database_url)
        artifacts = await run_in_threadpool(artifact_store_from_settings, s)
        links = VideoLinks(artifacts, s.public_base_url, s.presign_expiry_seconds)
        redis_sync = redis_client_from_url(s.redis_url)
        redis_async = _async_redis(s.redis_url) if s.redis_url else None
        dagster = DagsterClient(s.dagster_graphql_url, timeout=config.dagster_timeout_seconds)
        reporter = ProgressReporter(store, redis_sync)
        await run_in_threadpool(preload_voices)
        return cls(
            config=config,
            store=store,
            artifacts=artifacts,
            links=links,
            redis_sync=redis_sync,
            redis_async=redis_async,
            dagster=dagster,
            reporter=reporter,
            launcher=Launcher(store, dagster, reporter, config),
            hub=FeedHub(store, links, config, (lambda: redis_async) if redis_async is not None else None),
            estimator=CompletionEstimator(store, config),
            image_slots=asyncio.Semaphore(IMAGE_DECODE_SLOTS),
        )

    async def start(self) -> None:
        await self.launcher.start()

    async def close(self) -> None:
        await self.launcher.stop()
        await self.hub.close()
        await self.dagster.aclose()
        if self.redis_async is not None:
            with contextlib.suppress(Exception):
                await self.redis_async.aclose()
        if self.redis_sync is not None:
            with contextlib.suppress(Exception):
                self.redis_sync.close()


def get_state(conn: HTTPConnection) -> AppState:
    """FastAPI dependency (works for HTTP requests and WebSockets alike)."""
    return conn.app.state.badapple
