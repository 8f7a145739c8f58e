"""WebSocket /ws/jobs/{job_id} against real Redis pub/sub: events published through ProgressReporter (the
pipeline's own reporting path) must reach every client of the job, in seq order, without stale repeats."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from websockets.asyncio.client import connect

from badapple_dagster.progress import ProgressReporter, job_channel
from badapple_dagster.stack import StackConfig
from badapple_dagster.store.jobs import AD_STAGES, JobStore, StageEvent
from tests.api.api_support import ClosedPort, RawWebSocket, complete_job, new_job, read_until_closed
from tests.api.conftest import stack_settings

TERMINAL = ("completed", "failed")


@pytest.fixture(scope="module")
def redis_client(stack: StackConfig) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.effective_redis_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def reporter(job_store: JobStore, redis_client: redis.Redis) -> ProgressReporter:
    return ProgressReporter(job_store, redis_client)


@pytest.fixture
def job_id(job_store: JobStore) -> Iterator[str]:
    job_id = str(uuid.uuid4())
    new_job(job_store, job_id)
    yield job_id
    job = job_store.get_job(job_id)
    if job is not None and job.status not in TERMINAL:
        job_store.fail_job(job_id, "test finished")  # so the stack's launcher never picks it up


def pipeline_events(job_id: str) -> list[StageEvent]:
    """What a successful render reports, stage by stage (seq assigned when each event is created)."""
    events = []
    for stage in AD_STAGES:
        events.append(StageEvent(job_id, stage, "started"))
        events.append(StageEvent(job_id, stage, "progress", progress=50, message=f"{stage} half way"))
        last = stage == AD_STAGES[-1]
        events.append(StageEvent(job_id, stage, "completed",
                                 video_key=f"ads/{job_id}/compositing/final.mp4" if last else None))
    return events


def keys(messages: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(m["seq"], 1 if m["type"] == "status" else 0) for m in messages]


async def emit(reporter: ProgressReporter, ev: StageEvent) -> None:
    # Fresh seq at emit time, like the pipeline (events are stamped when they happen).
    ev.seq = StageEvent(ev.job_id, ev.stage, ev.kind).seq
    assert await asyncio.to_thread(reporter.emit, ev) is not None


def test_two_clients_get_every_event_in_order(ws_url: str, api_url: str, job_id: str, reporter: ProgressReporter,
                                              redis_client: redis.Redis) -> None:
    events = pipeline_events(job_id)

    async def scenario() -> tuple[list[list[dict[str, Any]]], list[int | None], dict[str, Any]]:
        async with connect(f"{ws_url}/ws/jobs/{job_id}") as a, connect(f"{ws_url}/ws/jobs/{job_id}") as b:
            hellos = [json.loads(await a.recv()), json.loads(await b.recv())]
            async with httpx.AsyncClient(base_url=api_url) as http:
                ws_health = (await http.get("/ws/health")).json()
            for ev in events[:6]:
                await emit(reporter, ev)
            # A late duplicate and an ancient message, as a slow second reporting path could publish them.
            stale = {"type": "progress", "job_id": job_id, "stage": "script_gen", "progress": 0,
                     "status": "pending", "message": "stale", "timestamp": "2020-01-01T00:00:00"}
            await asyncio.sleep(0.2)  # let the newer messages be forwarded first
            redis_client.publish(job_channel(job_id), json.dumps(stale | {"seq": events[1].seq}))
            redis_client.publish(job_channel(job_id), json.dumps(stale | {"seq": 1}))
            for ev in events[6:]:
                await emit(reporter, ev)
            (ra, ca), (rb, cb) = await asyncio.gather(read_until_closed(a), read_until_closed(b))
        return [hellos[0:1] + ra, hellos[1:2] + rb], [ca, cb], ws_health

    streams, codes, ws_health = asyncio.run(scenario())
    assert ws_health["active_jobs"] >= 1 and ws_health["total_connections"] >= 2
    assert codes == [1000, 1000]
    assert streams[0] == streams[1], "both clients must see the same stream"
    stream = streams[0]
    hello, updates = stream[0], stream[1:]
    assert hello["type"] == "connected" and hello["status"] == "pending" and hello["seq"] == 0
    assert [s["stage_name"] for s in hello["stages"]] == list(AD_STAGES)
    # Strictly increasing order keys: nothing repeated, nothing out of order, the stale messages dropped.
    assert keys(updates) == sorted(set(keys(updates)))
    assert all(m.get("message") != "stale" for m in updates)
    # Every event arrived, as a progress message in the seed's format (plus seq).
    progress = [m for m in updates if m["type"] == "progress"]
    assert [m["seq"] for m in progress] == [ev.seq for ev in events]
    for m in progress:
        assert {"job_id", "stage", "progress", "status", "message", "timestamp", "seq"} <= set(m)
        assert m["job_id"] == job_id
    values = [m["progress"] for m in updates]
    assert values == sorted(values), "progress never goes backwards"
    last = updates[-1]
    assert last["type"] == "status" and last["status"] == "completed" and last["progress"] == 100
    assert job_id in last["video_url"]  # the API's /video URL, or a presigned one on S3
    assert "video_key" not in last


def test_late_joiner_starts_from_the_snapshot(ws_url: str, job_id: str, reporter: ProgressReporter) -> None:
    events = pipeline_events(job_id)

    async def scenario() -> tuple[list[dict[str, Any]], int | None]:
        for ev in events[:4]:
            await emit(reporter, ev)
        async with connect(f"{ws_url}/ws/jobs/{job_id}") as ws:
            hello = json.loads(await ws.recv())
            for ev in events[4:]:
                await emit(reporter, ev)
            rest, code = await read_until_closed(ws)
        return [hello, *rest], code

    stream, code = asyncio.run(scenario())
    hello = stream[0]
    assert hello["type"] == "connected" and hello["status"] == "processing"
    assert hello["seq"] == events[3].seq and hello["stage"] == "voice_gen"
    assert {s["stage_name"]: s["status"] for s in hello["stages"]}["script_gen"] == "completed"
    assert [m["seq"] for m in stream[1:] if m["type"] == "progress"] == [ev.seq for ev in events[4:]]
    assert code == 1000


def test_ping_pong_and_malformed_messages(ws_url: str, job_id: str, reporter: ProgressReporter) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
        async with connect(f"{ws_url}/ws/jobs/{job_id}") as ws:
            await ws.recv()
            replies = []
            for frame in ('{"type": "ping"}', "not json", "[1, 2]", '{"type": "dance"}', b"\x00\x01",
                          '{"type": "ping"}'):
                await ws.send(frame)
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            await asyncio.to_thread(reporter.emit, StageEvent(job_id, None, "failed", error="stopped by the test"))
            rest, code = await read_until_closed(ws)
        return replies, rest, code

    replies, rest, code = asyncio.run(scenario())
    assert [r["type"] for r in replies] == ["pong", "error", "error", "error", "error", "pong"]
    assert all(r["error"] == "InvalidMessage" and r["message"] for r in replies if r["type"] == "error")
    assert rest[-1]["type"] == "status" and rest[-1]["status"] == "failed"
    assert "stopped by the test" in rest[-1]["error_message"]
    assert code == 1000


def test_terminal_job_gets_snapshot_and_close(ws_url: str, job_store: JobStore) -> None:
    job_id = str(uuid.uuid4())
    new_job(job_store, job_id)
    complete_job(job_store, job_id, f"ads/{job_id}/compositing/final.mp4")

    async def scenario() -> tuple[list[dict[str, Any]], int | None]:
        async with connect(f"{ws_url}/ws/jobs/{job_id}") as ws:
            return await read_until_closed(ws)

    messages, code = asyncio.run(scenario())
    assert code == 1000 and len(messages) == 1
    assert messages[0]["type"] == "connected" and messages[0]["status"] == "completed"
    assert messages[0]["progress"] == 100
    assert job_id in messages[0]["video_url"]


def test_server_pings_a_silent_client(stack: StackConfig, api_instance: Any, job_id: str) -> None:
    async def scenario(url: str) -> dict[str, Any]:
        async with connect(f"{url}/ws/jobs/{job_id}") as ws:
            await ws.recv()
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    with api_instance(stack_settings(stack), ws_idle_ping_seconds=0.5) as api:
        assert asyncio.run(scenario(api.ws_url)) == {"type": "ping"}


def test_slow_client_is_dropped_without_holding_back_others(stack: StackConfig, api_instance: Any, job_id: str,
                                                            redis_client: redis.Redis) -> None:
    count, padding = 300, "x" * 65536  # ~20 MB: far more than the socket buffers between server and client

    async def scenario(api: Any) -> tuple[Any, Any]:
        slow = RawWebSocket("127.0.0.1", api.port, f"/ws/jobs/{job_id}")  # connects, then stops reading
        async with connect(f"{api.ws_url}/ws/jobs/{job_id}", max_size=None) as fast:
            await fast.recv()
            fast_reader = asyncio.create_task(read_until_closed(fast, timeout=60))
            for i in range(count):
                message = {"type": "progress", "job_id": job_id, "stage": "video_gen", "progress": 50,
                           "status": "processing", "message": padding, "timestamp": "", "seq": 10 + i}
                await asyncio.to_thread(redis_client.publish, job_channel(job_id), json.dumps(message))
            final = {"type": "status", "job_id": job_id, "status": "failed", "progress": 50, "stage": "job",
                     "error_message": "end of test", "video_key": None, "timestamp": "", "seq": 10 + count}
            await asyncio.to_thread(redis_client.publish, job_channel(job_id), json.dumps(final))
            try:
                # Only now does the stuck client start reading again: it must find a 1013 at the end.
                return await asyncio.gather(fast_reader, asyncio.to_thread(slow.read_until_close))
            finally:
                slow.close()

    with api_instance(stack_settings(stack), ws_client_queue_size=8) as api:
        (fast_messages, fast_code), (slow_messages, slow_code) = asyncio.run(scenario(api))
    # The fast client got everything, in order, while the other one was stuck.
    assert [m["seq"] for m in fast_messages] == list(range(10, 11 + count))
    assert fast_code == 1000
    # The stuck one was dropped with 1013 (try again later) after what its buffers held, not the whole stream.
    assert slow_code == 1013
    assert len(slow_messages) < count


def test_updates_without_redis_fall_back_to_the_store(stack: StackConfig, api_instance: Any, job_store: JobStore,
                                                      job_id: str) -> None:
    """Redis down: GET endpoints keep working (the store is the truth), /health says degraded, and
    WebSocket clients still get every status change, from the store instead of pub/sub."""
    store_only = ProgressReporter(job_store, None)
    events = pipeline_events(job_id)

    async def scenario(api: Any) -> tuple[list[dict[str, Any]], int | None, dict[str, Any], int]:
        async with httpx.AsyncClient(base_url=api.url) as http:
            health = (await http.get("/health")).json()
            status_code = (await http.get(f"/api/jobs/{job_id}")).status_code
        async with connect(f"{api.ws_url}/ws/jobs/{job_id}") as ws:
            await ws.recv()
            for ev in events:
                ev.seq = StageEvent(job_id, ev.stage, ev.kind).seq
                await asyncio.to_thread(store_only.emit, ev)
                await asyncio.sleep(0.05)
            messages, code = await read_until_closed(ws)
        return messages, code, health, status_code

    dead = ClosedPort()
    try:
        with api_instance(stack_settings(stack, redis_url=f"redis://127.0.0.1:{dead.port}/0"),
                          ws_poll_seconds=0.2) as api:
            messages, code, health, status_code = asyncio.run(scenario(api))
    finally:
        dead.close()
    assert status_code == 200
    assert health["status"] == "degraded" and health["checks"]["redis"].startswith("down")
    assert health["checks"]["database"] == "ok"
    assert code == 1000
    assert keys(messages) == sorted(set(keys(messages)))
    assert messages[-1]["type"] == "status" and messages[-1]["status"] == "completed"
