"""Throughput of the whole stack: a burst of default ads submitted through the API, at several
max-concurrent-runs settings, on SQLite and on PostgreSQL.

    python bench/throughput.py                       # 20 jobs x concurrency 1,2,4 x sqlite,postgres
    python bench/throughput.py --jobs 6 --concurrency 1,2 --storage sqlite

For each configuration it starts a fresh stack (redis, dagster webserver + daemon, API; PostgreSQL too when
asked), submits the burst at once, follows every job to the end and prints jobs/minute, submit -> completed
p50/p95 and the stack's peak memory (RSS of the whole process tree, sampled)."""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from badapple_dagster.stack import Stack, StackConfig, free_port  # noqa: E402
from badapple_dagster.testing_services import postgres_server  # noqa: E402


def tree_rss(root_pids: list[int]) -> int:
    """Sum RSS (bytes) of the given processes and all their descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            children.setdefault(int(stat[1]), []).append(int(d))
            rss[int(d)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, list(root_pids)
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_config(storage: str, concurrency: int, jobs: int) -> dict[str, float]:
    base = Path(tempfile.mkdtemp(prefix="badapple-bench-"))
    with ExitStack() as stack_ctx:
        db = stack_ctx.enter_context(postgres_server(base / "pg")) if storage == "postgres" else None
        cfg = StackConfig(data_dir=base / "data", api_port=free_port(), dagster_port=free_port(),
                          redis_port=free_port(), database_url=db,
                          extra_env={"BADAPPLE_MAX_CONCURRENT_RUNS": str(concurrency)})
        stack = stack_ctx.enter_context(Stack(cfg))
        peak, stop = [0], threading.Event()

        def sample() -> None:
            pids = [p.pid for _n, p in stack.procs]
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(pids))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = httpx.Client(base_url=cfg.api_url, timeout=60)

        def submit(i: int) -> tuple[str, float]:
            t0 = time.monotonic()
            r = client.post("/api/generate", data={"product_name": f"Bench Bottle {i}", "style": "modern",
                                                   "cta_text": "Buy Now!"})
            r.raise_for_status()
            return r.json()["job_id"], t0

        start = time.monotonic()
        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            submitted = list(pool.map(submit, range(jobs)))
        done: dict[str, float] = {}
        failed = 0
        while len(done) + failed < jobs:
            for job_id, _t0 in submitted:
                if job_id in done:
                    continue
                status = client.get(f"/api/jobs/{job_id}").json()["status"]
                if status == "completed":
                    done[job_id] = time.monotonic()
                elif status == "failed":
                    failed += 1
                    done[job_id] = float("nan")
            time.sleep(0.5)
        wall = time.monotonic() - start
        stop.set()
        sampler.join()
        latencies = [done[j] - t0 for j, t0 in submitted if done[j] == done[j]]
        return {"jobs_per_min": len(latencies) / wall * 60, "p50": statistics.median(latencies),
                "p95": percentile(latencies, 0.95), "peak_mb": peak[0] / 2**20, "failed": failed, "wall": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--concurrency", default="1,2,4")
    ap.add_argument("--storage", default="sqlite,postgres")
    args = ap.parse_args()
    rows = []
    for storage in args.storage.split(","):
        for conc in (int(c) for c in args.concurrency.split(",")):
            print(f"... {storage}, max_concurrent_runs={conc}, {args.jobs} jobs", flush=True)
            rows.append((storage, conc, run_config(storage, conc, args.jobs)))
    print(f"\n{'storage':<10}{'runs':>5}{'jobs/min':>10}{'p50 s':>8}{'p95 s':>8}{'peak MB':>9}{'failed':>7}")
    for storage, conc, r in rows:
        print(f"{storage:<10}{conc:>5}{r['jobs_per_min']:>10.2f}{r['p50']:>8.1f}{r['p95']:>8.1f}"
              f"{r['peak_mb']:>9.0f}{r['failed']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
