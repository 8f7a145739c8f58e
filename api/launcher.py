"""Launch accepted jobs as Dagster runs, in the background of the API process.

``POST /api/generate`` only stores the job and hands it to ``Launcher.submit``; the launch (add the dynamic
partition, ``launchRun`` with the job's tags) happens here over async HTTP, so a slow or absent Dagster never
delays the 202. Dagster's run queue (QueuedRunCoordinator) is the job queue: this module builds no second one.

Policy (documented in docs/API.md):
* a failed attempt keeps the job ``pending`` and is retried with capped exponential backoff;
* every replica sweeps ``unlaunched_jobs()`` at startup and periodically, taking over jobs whose owner went
  silent for the lease time (see launch_claims.py), so jobs accepted while Dagster was down, or by a replica
  that died, still launch;
* before re-trying, the replica asks Dagster for a run tagged ``badapple/job_id`` so an attempt whose answer
  was lost (or a replica that died between launching and recording) never produces a second run;
* the job's kind picks what is launched (launch_targets.py): ``ad_video_job`` for ads, ``mv_video_job`` on
  the project × variant partition for music videos; a job of an unknown kind is failed, never guessed;
* a job whose launch attempts are still failing ``launch_deadline_seconds`` after it was accepted is failed
  with the reason, published like any other progress event so WebSocket clients see it (a job that was only
  waiting, in a backlog or while every replica was down, always gets an attempt first).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool

from badapple_dagster.progress import ProgressReporter
from badapple_dagster.store.jobs import JobRecord, StageEvent, utcnow

from .config import ApiConfig
from .dagster_client import DagsterClient, DagsterRefused, DagsterUnavailable
from .launch_claims import LaunchVersion, claim, read_version
from .launch_targets import UnlaunchableJob, launch_target
from .store_gate import GatedJobStore

log = logging.getLogger("badapple.api.launcher")


class Launcher:
    def __init__(self, store: GatedJobStore, dagster: DagsterClient, reporter: ProgressReporter, config: ApiConfig):
        self.store = store
        self.dagster = dagster
        self.reporter = reporter
        self.config = config
        self._drivers: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(config.launch_concurrency)
        self._sweeper: asyncio.Task[None] | None = None

    # ---- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="launch-sweeper")

    async def stop(self) -> None:
        tasks = [t for t in (self._sweeper, *self._drivers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        # Cancelled drivers leave their jobs pending with no run: the next process (or another replica)
        # picks them up after the lease, which is the same path as a crash.
        await asyncio.gather(*tasks, return_exceptions=True)
        self._drivers.clear()

    # ---- entry points ---------------------------------------------------------------------------------

    def submit(self, job: JobRecord) -> None:
        """Start launching a job this replica has just accepted (it owns the job from the start)."""
        self._start_driver(LaunchVersion.of(job), stale_before=None)

    async def sweep(self) -> int:
        """Take over unlaunched jobs nobody has touched for the lease time. Returns how many were taken."""
        candidates = await run_in_threadpool(self.store.unlaunched_jobs, 100)
        stale_before = utcnow() - timedelta(seconds=self.config.launch_lease_seconds)
        started = 0
        for job in candidates:
            if job.id in self._drivers or job.updated_at >= stale_before:
                continue  # ours already, or another replica is still working on it
            self._start_driver(LaunchVersion.of(job), stale_before=stale_before)
            started += 1
        return started

    # ---- internals ------------------------------------------------------------------------------------

    def _start_driver(self, version: LaunchVersion, *, stale_before: datetime | None) -> None:
        if version.job_id in self._drivers:
            return
        task = asyncio.create_task(self._drive(version, stale_before), name=f"launch-{version.job_id}")
        self._drivers[version.job_id] = task
        task.add_done_callback(lambda _t, job_id=version.job_id: self._drivers.pop(job_id, None))

    async def _sweep_forever(self) -> None:
        while True:
            try:
                taken = await self.sweep()
                if taken:
                    log.info("launch sweep took over %d unlaunched job(s)", taken)
            except Exception:
                log.exception("launch sweep failed; retrying at the next interval")
            await asyncio.sleep(self.config.launch_sweep_seconds)

    def _claim(self, version: LaunchVersion, stale_before: datetime | None) -> LaunchVersion | None:
        with self.store.writing():
            return claim(self.store.engine, version, stale_before=stale_before)

    def _backoff(self, attempt: int) -> float:
        base = min(self.config.launch_backoff_max_seconds, self.config.launch_backoff_initial_seconds * 2**attempt)
        return base * random.uniform(0.8, 1.2)  # jitter: replicas retrying together should not stay in step

    def _seconds_left(self, version: LaunchVersion) -> float:
        age = (utcnow() - version.created_at).total_seconds()
        return self.config.launch_deadline_seconds - age

    def _needs_claim(self, version: LaunchVersion, *, owner_fresh: bool) -> bool:
        # Only a job this replica stored moments ago may skip the claim: nobody else may touch it before
        # the lease runs out, and skipping the write keeps bursts of submissions cheap. A job that waited
        # long for a launch slot is claimed like any other, so a replica that took it over meanwhile wins.
        age = (utcnow() - version.updated_at).total_seconds()
        return not owner_fresh or age > self.config.launch_lease_seconds / 3

    async def _drive(self, version: LaunchVersion, stale_before: datetime | None) -> None:
        job_id = version.job_id
        taken_over = stale_before is not None
        owner_fresh = not taken_over
        attempt = 0
        last_error = ""
        try:
            while True:
                async with self._slots:
                    if self._needs_claim(version, owner_fresh=owner_fresh):
                        claimed = await run_in_threadpool(self._claim, version, stale_before)
                        if claimed is None:
                            return  # launched, failed or claimed by another replica meanwhile
                        version, stale_before = claimed, None  # ours from here on
                        # The deadline bounds how long a *failing* launch is retried: a job that was merely
                        # waiting (a backlog, every replica down) gets at least one attempt by this replica.
                        if attempt > 0 and self._seconds_left(version) <= 0:
                            await self._fail(job_id, last_error)
                            return
                    owner_fresh = False
                    try:
                        run_id = await self._launch(job_id, check_existing=taken_over or version.attempts > 0)
                    except UnlaunchableJob as exc:
                        # Retrying cannot help, and guessing a pipeline could render the wrong thing.
                        await self._fail(job_id, "", reason=f"Could not start rendering: {exc}")
                        return
                    except (DagsterUnavailable, DagsterRefused) as exc:
                        last_error = str(exc)
                        log.warning("launch of job %s failed (attempt %d): %s", job_id, attempt + 1, last_error)
                        await run_in_threadpool(self.store.record_launch, job_id, run_id=None, error=last_error)
                    else:
                        await run_in_threadpool(self.store.record_launch, job_id, run_id=run_id)
                        log.info("job %s launched as Dagster run %s", job_id, run_id)
                        return
                next_version = await run_in_threadpool(read_version, self.store.engine, job_id)
                if next_version is None:
                    return
                version = next_version
                # Never sleep past the deadline: the job must be failed on time.
                delay = min(self._backoff(attempt), max(0.0, self._seconds_left(version)) + 0.05)
                attempt += 1
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The job stays pending without a run; the sweep retries it once the lease has passed.
            log.exception("launching job %s stopped on an unexpected error", job_id)

    async def _launch(self, job_id: str, *, check_existing: bool) -> str:
        """One attempt; the caller holds a launch slot."""
        # The job's kind decides the Dagster job, partitions and tags (ad or music video): read from the
        # store, so jobs taken over by the sweep are launched exactly like freshly submitted ones.
        job = await run_in_threadpool(self.store.get_job, job_id)
        if job is None:
            raise UnlaunchableJob(f"job {job_id!r} is no longer in the job store")
        target = launch_target(job)
        if check_existing:
            # An earlier attempt may have launched the run and lost the answer (timeout, or a replica
            # that died before recording it): find that run instead of starting a second one.
            existing = await self.dagster.find_run(job_id, tags=target.lookup_tags)
            if existing is not None:
                log.info("job %s already has Dagster run %s (%s)", job_id, existing.run_id, existing.status)
                return existing.run_id
        # A run for a partition key that does not exist yet is accepted and fails at step time.
        for partitions_def, key in target.partitions:
            await self.dagster.add_partition(key, partitions_def)
        return await self.dagster.launch_job_run(job_id, job_name=target.job_name, tags=target.tags)

    async def _fail(self, job_id: str, last_error: str, *, reason: str | None = None) -> None:
        if reason is None:
            reason = (
                f"Could not start rendering: Dagster did not accept the run within "
                f"{self.config.launch_deadline_seconds:g} s of submission"
            )
            if last_error:
                reason += f" (last error: {last_error})"
        # Through the reporter rather than store.fail_job alone: the same store update, plus the Redis
        # publish, so WebSocket clients waiting on the job see it fail and get closed.
        event = StageEvent(job_id=job_id, stage=None, kind="failed", error=reason, source="api")
        await run_in_threadpool(self.reporter.emit, event)
        log.error("job %s failed: %s", job_id, reason)
