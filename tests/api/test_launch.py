"""Launching accepted jobs into Dagster from the API process: through an outage, against a deadline, and
with several replicas on one job store (no job launched twice, none forgotten).

Each test starts its own in-process API on the stack's database, Redis and artifact store (a second
replica, as far as the system can tell), pointed at the stack's real Dagster webserver, or at a port where
nothing listens ("Dagster is down"), or at a switchable TCP proxy in front of the webserver.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import connect

from api.dagster_client import DagsterClient
from badapple_dagster.stack import StackConfig
from badapple_dagster.store.jobs import JobRecord, JobStore
from tests.api.api_support import ClosedPort, TcpProxy, new_job, read_until_closed
from tests.api.conftest import stack_settings

BRIEF = {"product_name": "Launch Test Lamp", "style": "minimal", "cta_text": "Light it up"}
FAST_RETRY = {"launch_backoff_initial_seconds": 0.2, "launch_backoff_max_seconds": 1.0}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def runs_for_job(stack: StackConfig, job_id: str) -> list[dict[str, Any]]:
    """Every Dagster run tagged with the job id, straight from the webserver."""
    query = """query($filter: RunsFilter!) { runsOrError(filter: $filter) {
        ... on Runs { results { runId status tags { key value } } } } }"""
    variables = {"filter": {"tags": [{"key": "badapple/job_id", "value": job_id}]}}
    resp = httpx.post(f"{stack.dagster_url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    return resp.json()["data"]["runsOrError"]["results"]


def invalid_brief_job(store: JobStore) -> JobRecord:
    """A stored job whose run fails in its first step (unknown style), so launching it costs ~no render."""
    return new_job(store, str(uuid.uuid4()), style="not-a-style")


def test_job_accepted_while_dagster_is_down_launches_when_it_comes_back(
    stack: StackConfig, api_instance: Any, job_store: JobStore
) -> None:
    proxy = TcpProxy(stack.dagster_port)
    settings = stack_settings(stack, dagster_graphql_url=proxy.url)
    try:
        with api_instance(settings, **FAST_RETRY) as api:
            started = time.perf_counter()
            resp = httpx.post(f"{api.url}/api/generate", data=BRIEF, timeout=30)
            elapsed = time.perf_counter() - started
            assert resp.status_code == 202, resp.text
            assert elapsed < 2, "accepting must not wait for Dagster"
            job_id = resp.json()["job_id"]

            # Dagster down: the job waits, pending, while the launcher keeps trying.
            wait_for(lambda: job_store.get_job(job_id).launch_attempts >= 2, 15, "failed launch attempts")
            job = job_store.get_job(job_id)
            assert job.status == "pending" and job.dagster_run_id is None
            health = httpx.get(f"{api.url}/health", timeout=30).json()
            assert health["status"] == "degraded" and health["checks"]["dagster"].startswith("down")

            proxy.open()  # Dagster is back
            run_id = wait_for(lambda: job_store.get_job(job_id).dagster_run_id, 30, "the launch")
        runs = runs_for_job(stack, job_id)
        assert [r["runId"] for r in runs] == [run_id]
        tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
        assert tags["dagster/partition"] == job_id and tags["badapple/job_id"] == job_id
        # The run really renders this job: it leaves pending (the stack's own API and sensor report it).
        wait_for(lambda: job_store.get_job(job_id).status != "pending", 120, "the run to start")
    finally:
        proxy.close()


def test_job_that_cannot_be_launched_fails_after_the_deadline(stack: StackConfig, api_instance: Any) -> None:
    dead = ClosedPort()
    settings = stack_settings(stack, dagster_graphql_url=dead.url)

    async def scenario(api: Any) -> tuple[str, list[dict[str, Any]], int | None, float]:
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
            resp = await http.post("/api/generate", data=BRIEF)
            assert resp.status_code == 202, resp.text
            job_id = resp.json()["job_id"]
            started = time.monotonic()
            async with connect(f"{api.ws_url}/ws/jobs/{job_id}") as ws:
                messages, code = await read_until_closed(ws, timeout=30)
            return job_id, messages, code, time.monotonic() - started

    try:
        with api_instance(settings, launch_deadline_seconds=2, **FAST_RETRY) as api:
            job_id, messages, code, waited = asyncio.run(scenario(api))
            body = httpx.get(f"{api.url}/api/jobs/{job_id}", timeout=30).json()
    finally:
        dead.close()
    assert waited < 10
    assert code == 1000
    assert messages[0]["type"] == "connected" and messages[0]["status"] == "pending"
    assert messages[-1]["type"] == "status" and messages[-1]["status"] == "failed"
    assert body["status"] == "failed"
    assert "Could not start rendering" in body["error_message"] and "within 2 s" in body["error_message"]
    assert "unreachable" in body["error_message"]  # the last error says why
    assert runs_for_job(stack, job_id) == []


def test_replicas_take_over_orphaned_jobs_exactly_once(stack: StackConfig, api_instance: Any,
                                                         job_store: JobStore) -> None:
    """Jobs stored by a replica that then died (never launched) are launched by the survivors' sweeps,
    once each, although two replicas race for them."""
    jobs = [invalid_brief_job(job_store) for _ in range(3)]
    fast_sweep = {"launch_lease_seconds": 1.0, "launch_sweep_seconds": 0.3, **FAST_RETRY}
    with api_instance(stack_settings(stack), **fast_sweep), api_instance(stack_settings(stack), **fast_sweep):
        for job in jobs:
            wait_for(lambda job=job: job_store.get_job(job.id).dagster_run_id, 30, f"launch of {job.id}")
        time.sleep(1.5)  # several more sweeps of both replicas: nothing may be launched again
    for job in jobs:
        runs = runs_for_job(stack, job.id)
        assert [r["runId"] for r in runs] == [job_store.get_job(job.id).dagster_run_id], runs
    # The runs fail fast (invalid brief) and the failure reaches the store: the whole loop works.
    for job in jobs:
        wait_for(lambda job=job: job_store.get_job(job.id).status == "failed", 120, f"{job.id} to fail")


def test_launch_found_in_dagster_is_recorded_not_repeated(stack: StackConfig, api_instance: Any,
                                                          job_store: JobStore) -> None:
    """A replica launched the run and died before recording it: the next one finds the run by its tag."""
    job = invalid_brief_job(job_store)

    async def launch_behind_the_stores_back() -> str:
        client = DagsterClient(stack.dagster_url)
        try:
            await client.add_partition(job.id)
            return await client.launch_job_run(job.id)
        finally:
            await client.aclose()

    run_id = asyncio.run(launch_behind_the_stores_back())
    assert job_store.get_job(job.id).dagster_run_id is None
    with api_instance(stack_settings(stack), launch_lease_seconds=1.0, launch_sweep_seconds=0.3):
        recorded = wait_for(lambda: job_store.get_job(job.id).dagster_run_id, 30, "the run to be recorded")
    assert recorded == run_id
    assert [r["runId"] for r in runs_for_job(stack, job.id)] == [run_id]


def test_accepting_does_not_wait_for_dagster(quiet_api: Any) -> None:
    """50 clients submitting at once to an API whose Dagster is down: every brief is accepted, promptly,
    because launching happens in the background. (A smoke check: client and server share this process and
    the machine; the latency target is measured with tests/api/bench_post_latency.py, see docs/API.md.)"""
    latencies: list[float] = []

    async def one(http: httpx.AsyncClient) -> None:
        for _ in range(2):
            started = time.perf_counter()
            resp = await http.post("/api/generate", data=BRIEF)
            latencies.append(time.perf_counter() - started)
            assert resp.status_code == 202, resp.text

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=quiet_api.url, timeout=30, limits=httpx.Limits(max_connections=50)) as h:
            await asyncio.gather(*(one(h) for _ in range(50)))

    asyncio.run(scenario())
    latencies.sort()
    print(json.dumps({"requests": len(latencies), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
                      "max_ms": round(latencies[-1] * 1000, 1)}))
    assert latencies[len(latencies) // 2] < 0.5
