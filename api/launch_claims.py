"""Conditional updates that make launching safe with several API replicas on one job store.

A launch attempt is made only by the replica holding the job's *claim*. A claim is a compare-and-set on the
job row's ``(launch_attempts, updated_at)`` pair while the job is still pending and has no Dagster run:

* the replica that accepted the job, or that made the previous attempt, claims with the exact pair it last
  saw (it *owns* the job); any write by someone else changes the pair and its claim fails;
* any other replica may claim only when the row has not been touched for the lease time (its owner died or
  hung), which is how jobs accepted by a replica that went away still get launched.

A successful claim moves ``updated_at`` forward, so concurrent claimers cannot both win: the database
serialises the UPDATEs and the loser's WHERE no longer matches. Claims need no extra column; the pair
changes on every launch attempt anyway because ``JobStore.record_launch`` bumps both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from badapple_dagster.store.jobs import JobRecord, utcnow
from badapple_dagster.store.tables import jobs


@dataclass(frozen=True)
class LaunchVersion:
    job_id: str
    attempts: int
    updated_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, job: JobRecord) -> LaunchVersion:
        return cls(job.id, job.launch_attempts, job.updated_at, job.created_at)


def read_version(engine: Engine, job_id: str) -> LaunchVersion | None:
    """The job's current pair, or None when it no longer needs launching (launched, failed or gone)."""
    q = select(jobs.c.launch_attempts, jobs.c.updated_at, jobs.c.created_at).where(
        jobs.c.id == job_id, jobs.c.status == "pending", jobs.c.dagster_run_id.is_(None)
    )
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else LaunchVersion(job_id, int(row[0] or 0), row[1], row[2])


def claim(engine: Engine, seen: LaunchVersion, *, stale_before: datetime | None = None) -> LaunchVersion | None:
    """Claim the job for one launch attempt. ``stale_before`` is None for the owner, and the lease cut-off
    for anyone else. Returns the new version (the claim) or None when someone else got there first."""
    # Strictly later than what we saw, even on a coarse clock: the pair must change for the CAS to exclude.
    now = max(utcnow(), seen.updated_at + timedelta(microseconds=1))
    cond = [
        jobs.c.id == seen.job_id,
        jobs.c.status == "pending",
        jobs.c.dagster_run_id.is_(None),
        jobs.c.launch_attempts == seen.attempts,
        jobs.c.updated_at == seen.updated_at,
    ]
    if stale_before is not None:
        cond.append(jobs.c.updated_at < stale_before)
    with engine.begin() as conn:
        res = conn.execute(update(jobs).where(*cond).values(updated_at=now))
    if res.rowcount != 1:
        return None
    return LaunchVersion(seen.job_id, seen.attempts, now, seen.created_at)
