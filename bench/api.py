"""API benchmark: POST latency and throughput at 1, 10 and 50 concurrent clients; submit -> first progress
event; event -> WebSocket delivery for the in-asset path and for the run-event sensor path; 500 WebSocket
clients on one job.

    python bench/api.py

POST numbers come from bench/post_latency.py (its own stack with no daemon, so accepted runs stay queued and
the benchmark pays the whole launch path without rendering hundreds of videos). The WebSocket numbers use a
full stack (`badapple up`'s) and a real render."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from badapple_dagster.progress import ProgressReporter, redis_client_from_url  # noqa: E402
from badapple_dagster.stack import Stack, StackConfig, free_port  # noqa: E402
from badapple_dagster.store.jobs import JobStore, StageEvent  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def post_phase() -> list[tuple[int, dict]]:
    rows = []
    for clients in (1, 10, 50):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "post_latency.py"), "--clients", str(clients),
                              "--requests", "10" if clients > 1 else "50"], capture_output=True, text=True,
                             cwd=ROOT, timeout=900)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        rows.append((clients, json.loads(line[-1]) if line else {"error": out.stderr[-300:]}))
    return rows


async def follow(ws_url: str, t_submit: float, source: str = "asset") -> tuple[float | None, list[float]]:
    """(submit -> first update, delays from the event's own time to this client for updates from ``source``)."""
    from websockets.asyncio.client import connect

    first, delays = None, []
    async with connect(ws_url) as ws:
        async for raw in ws:
            now = time.time()
            msg = json.loads(raw)
            if msg.get("type") in ("progress", "status"):
                first = first or now - t_submit
                if msg.get("source") == source:
                    sent = datetime.fromisoformat(msg["timestamp"]).replace(tzinfo=UTC).timestamp()
                    delays.append(now - sent)
                if msg.get("status") in ("completed", "failed"):
                    break
    return first, delays


async def fan_out(ws_base: str, job_id: str, reporter: ProgressReporter, clients: int, events: int) -> tuple[int, int]:
    from websockets.asyncio.client import connect

    conns = [await connect(f"{ws_base}/ws/jobs/{job_id}", open_timeout=60) for _ in range(clients)]
    for c in conns:
        await c.recv()  # the initial "connected" message
    for i in range(events):
        reporter.emit(StageEvent(job_id, "script_gen", "progress", progress=i + 1, source="asset"))
        await asyncio.sleep(0.02)

    async def count(c) -> int:
        n = 0
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(c.recv(), timeout=5))
                n += msg.get("type") == "progress"
        except (TimeoutError, Exception):
            return n

    got = await asyncio.gather(*(count(c) for c in conns))
    for c in conns:
        await c.close()
    return sum(1 for g in got if g >= events), min(got)


def ws_phase() -> dict:
    base = Path(tempfile.mkdtemp(prefix="badapple-bench-api-"))
    cfg = StackConfig(data_dir=base, api_port=free_port(), dagster_port=free_port(), redis_port=free_port())
    with Stack(cfg):
        ws_base = cfg.api_url.replace("http", "ws", 1)
        t0 = time.time()
        job_id = httpx.post(f"{cfg.api_url}/api/generate", data={"product_name": "Bench Bottle", "style": "modern",
                                                                  "cta_text": "Buy Now!"}).json()["job_id"]
        first, delays = asyncio.run(follow(f"{ws_base}/ws/jobs/{job_id}", t0))
        store = JobStore(f"sqlite:///{base}/badapple.db", migrate=False)
        fan_job = "bench-fanout-job"
        store.create_job(fan_job, product_name="Fan out", style="modern", cta_text="Go")
        reporter = ProgressReporter(store, redis_client_from_url(cfg.effective_redis_url))
        all_ok, worst = asyncio.run(fan_out(ws_base, fan_job, reporter, 500, 20))
    return {"submit_to_first_event_s": first, "asset_delivery_ms": [d * 1000 for d in delays],
            "fanout_clients_all_events": all_ok, "fanout_min_events": worst}


def sensor_phase() -> dict:
    """The sensor path alone: a stack whose assets report nothing (BADAPPLE_ASSET_PROGRESS=off), so every update
    a client sees came from the event log through the sensor. The delay is from the Dagster event's own
    timestamp to the WebSocket client."""
    base = Path(tempfile.mkdtemp(prefix="badapple-bench-sensor-"))
    cfg = StackConfig(data_dir=base, api_port=free_port(), dagster_port=free_port(), redis_port=free_port(),
                      extra_env={"BADAPPLE_ASSET_PROGRESS": "off"})
    with Stack(cfg):
        t0 = time.time()
        job_id = httpx.post(f"{cfg.api_url}/api/generate", data={"product_name": "Bench Bottle", "style": "modern",
                                                                  "cta_text": "Buy Now!"}).json()["job_id"]
        _first, delays = asyncio.run(follow(f"{cfg.api_url.replace('http', 'ws', 1)}/ws/jobs/{job_id}", t0,
                                            source="sensor"))
        status = httpx.get(f"{cfg.api_url}/api/jobs/{job_id}").json()["status"]
    return {"sensor_delivery_s": delays, "status": status}


def main() -> int:
    rows = post_phase()
    print(f"{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for clients, r in rows:
        print(f"{clients:>8}{r.get('p50_ms', float('nan')):>9.1f}{r.get('p99_ms', float('nan')):>9.1f}"
              f"{r.get('throughput_rps', float('nan')):>9.1f}")
    ws = ws_phase()
    d = ws["asset_delivery_ms"]
    print(f"\nsubmit -> first progress event: {ws['submit_to_first_event_s']:.2f} s")
    if d:
        print(f"in-asset event -> WebSocket client: p50 {statistics.median(d):.1f} ms, p95 {pct(d, 0.95):.1f} ms "
              f"({len(d)} events)")
    print(f"500 WebSocket clients on one job, 20 events: {ws['fanout_clients_all_events']}/500 received all "
          f"(fewest received: {ws['fanout_min_events']})")
    sensor = sensor_phase()
    s = sensor["sensor_delivery_s"]
    if s:
        print(f"sensor path alone (in-asset reports off): event -> WebSocket client p50 {statistics.median(s):.2f} s, "
              f"p95 {pct(s, 0.95):.2f} s, max {max(s):.2f} s ({len(s)} events); job {sensor['status']}")
    else:
        print(f"sensor path alone: no updates received; job {sensor['status']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
