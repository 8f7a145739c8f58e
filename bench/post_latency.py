"""Benchmark: POST /api/generate latency with N concurrent clients, launching into a real Dagster webserver.

    python bench/post_latency.py [--clients 50] [--requests 10] [--interval 1.0] [--image]

``--interval 0`` (the default) is a closed loop: every client sends its next request as soon as the previous
one is answered, which measures saturation (latency = clients / throughput). ``--interval S`` paces every
client at one request per S seconds (with jitter), which measures the latency users see at that load.

Starts redis-server, dagster-webserver and the API (uvicorn, its own process) on free ports in a temporary
data dir. No dagster-daemon runs, so every launched run stays QUEUED: the benchmark pays the full launch
path (addDynamicPartition + launchRun + record_launch) without rendering hundreds of videos. The client
runs in this process. Prints one JSON line with the percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from badapple_dagster.stack import REPO_ROOT  # noqa: E402
from tests.conftest import distinct_free_ports  # noqa: E402

BRIEF = {"product_name": "Bench Bottle", "style": "modern", "cta_text": "Buy now"}


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


async def run_clients(api: str, clients: int, per_client: int, image: bytes | None,
                      interval: float) -> list[float]:
    latencies: list[float] = []
    files = {"product_image": ("p.png", image, "image/png")} if image else None

    async def one(http: httpx.AsyncClient) -> None:
        if interval:
            await asyncio.sleep(random.uniform(0, interval))  # clients start spread out, not in lockstep
        for _ in range(per_client):
            started = time.perf_counter()
            resp = await http.post("/api/generate", data=BRIEF, files=files)
            latencies.append(time.perf_counter() - started)
            if resp.status_code != 202:
                raise RuntimeError(resp.text)
            if interval:
                await asyncio.sleep(max(0.0, interval * random.uniform(0.8, 1.2) - (time.perf_counter() - started)))

    async with httpx.AsyncClient(base_url=api, timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.gather(*(one(http) for _ in range(min(clients, 5))))  # warm-up
        latencies.clear()
        await asyncio.gather(*(one(http) for _ in range(clients)))
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=10, help="requests per client")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between a client's requests (0: closed loop)")
    ap.add_argument("--image", action="store_true", help="attach a small PNG to every request")
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="badapple-bench-"))
    ports = dict(zip(("api", "dagster", "redis"), distinct_free_ports(3), strict=True))
    env = dict(os.environ, BADAPPLE_DATA_DIR=str(data_dir), DAGSTER_HOME=str(data_dir / "dagster"),
               REDIS_URL=f"redis://127.0.0.1:{ports['redis']}/0",
               BADAPPLE_DAGSTER_URL=f"http://127.0.0.1:{ports['dagster']}",
               BADAPPLE_PUBLIC_URL=f"http://127.0.0.1:{ports['api']}")
    (data_dir / "dagster").mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", data_dir / "dagster" / "dagster.yaml")
    subprocess.run([sys.executable, "-c", "from dagster import DagsterInstance; DagsterInstance.get().upgrade()"],
                   env=env, check=True, capture_output=True)
    logs = data_dir / "logs"
    logs.mkdir()
    procs = []
    try:
        for name, cmd in (
            ("redis", ["redis-server", "--port", str(ports["redis"]), "--save", "", "--appendonly", "no"]),
            ("dagster-webserver", [str(Path(sys.executable).parent / "dagster-webserver"), "-w",
                                   str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(ports["dagster"])]),
            ("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                     str(ports["api"]), "--no-access-log"]),
        ):
            procs.append(subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=open(logs / f"{name}.log", "wb"),  # noqa: SIM115
                                          stderr=subprocess.STDOUT))
            if name == "dagster-webserver":
                wait_http(f"http://127.0.0.1:{ports['dagster']}/server_info")
        api = f"http://127.0.0.1:{ports['api']}"
        wait_http(f"{api}/health")
        image = None
        if args.image:
            from tests.api.api_support import image_bytes

            image = image_bytes("PNG", (640, 480))
        started = time.perf_counter()
        latencies = asyncio.run(run_clients(api, args.clients, args.requests, image, args.interval))
        wall = time.perf_counter() - started
        launched_by = time.monotonic() + 120
        from badapple_dagster.store.jobs import JobStore

        store = JobStore(f"sqlite:///{data_dir}/badapple.db", migrate=False)
        while store.count_jobs("pending") and time.monotonic() < launched_by:
            if not store.unlaunched_jobs(1):
                break
            time.sleep(0.5)
        print(json.dumps({
            "clients": args.clients,
            "requests": len(latencies),
            "image": bool(args.image),
            "interval_s": args.interval,
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "throughput_rps": round(len(latencies) / wall, 1),
            "all_launched_s": round(time.perf_counter() - started, 1),
            "unlaunched_left": len(store.unlaunched_jobs(1000)),
        }))
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
