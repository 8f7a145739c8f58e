"""Job store API over SQLAlchemy (SQLite by default, PostgreSQL when DATABASE_URL says so)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, select, update

from .tables import jobs, stages

AD_STAGES = ("script_gen", "voice_gen", "video_gen", "compositing")
JOB_STATUSES = ("pending", "processing", "completed", "failed")
STAGE_EVENT_KINDS = ("started", "progress", "completed", "failed")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def seq_now() -> int:
    """Event sequence numbers are microsecond timestamps of when a thing happened (not when it was
    reported), so a late report from the sensor can never overwrite a newer one from inside the asset."""
    return int(datetime.now(UTC).timestamp() * 1_000_000)


def seq_to_datetime(seq: int) -> datetime:
    return datetime.fromtimestamp(seq / 1_000_000, UTC).replace(tzinfo=None)


@dataclass
class StoredBrief:
    job_id: str
    product_name: str
    style: str
    cta_text: str
    image_key: str | None
    options: dict[str, Any]


@dataclass
class StageRecord:
    id: int
    stage_name: str
    status: str
    progress: int
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    stage_data: dict[str, Any] | None
    seq: int


@dataclass
class JobRecord:
    id: str
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    product_name: str
    style: str
    cta_text: str
    product_image_path: str | None
    video_key: str | None
    error_message: str | None
    cost_usd: float
    options: dict[str, Any]
    dagster_run_id: str | None
    launch_attempts: int
    seq: int
    stages: list[StageRecord] = field(default_factory=list)
    degraded: bool = False  # a fallback provider produced at least one stage
    # Set by apply_event: the status before the event, read under the row lock (did this event change it?).
    previous_status: str | None = field(default=None, compare=False, repr=False)

    @property
    def progress(self) -> int:
        """Overall progress is the mean of the stages' progress (the seed's definition)."""
        if not self.stages:
            return 0
        if self.status == "completed":
            return 100
        return int(sum(s.progress for s in self.stages) / len(self.stages))

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in self.stages if s.stage_name == name), None)


@dataclass
class StageEvent:
    """One happening in a job's life, from either reporting path (in-asset or run-event sensor)."""

    job_id: str
    stage: str | None  # None: a run-level event (run failed/canceled before or outside any step)
    kind: str  # started | progress | completed | failed
    progress: int = 0
    message: str = ""
    seq: int = field(default_factory=seq_now)
    error: str | None = None
    data: dict[str, Any] | None = None
    video_key: str | None = None
    cost_usd: float | None = None
    run_id: str | None = None
    source: str = "asset"  # asset | sensor | api


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while a run worker writes; busy_timeout serialises concurrent writers instead
    # of failing them with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL stays consistent; a power loss can drop only the last commits. FULL's fsync per
    # commit put POST /api/generate's p99 at ~830 ms under 50 clients (NORMAL: ~75 ms).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine_for(url: str, schema: str | None = None) -> Engine:
    with _engines_lock:
        if url not in _engines:
            if url.startswith("sqlite"):
                path = url.split("///", 1)[-1]
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                event.listen(eng, "connect", _sqlite_pragmas)
            else:
                eng = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
                if schema:
                    _use_schema(eng, schema)
            _engines[url] = eng
        return _engines[url]


def _use_schema(engine: Engine, schema: str) -> None:
    """On PostgreSQL the job store lives in its own schema next to Dagster's tables on the same server."""
    if not schema.isidentifier():
        raise ValueError(f"invalid schema name {schema!r}")
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

    @event.listens_for(engine, "connect")
    def _set_search_path(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    engine.dispose()  # the connection that created the schema predates the listener: don't reuse it


class JobStore:
    def __init__(self, url: str, *, migrate: bool = True, schema: str | None = None) -> None:
        self.url = url
        if schema is None and not url.startswith("sqlite"):
            from ..settings import get_settings

            schema = get_settings().db_schema
        self.engine = _engine_for(url, schema)
        if migrate:
            from .migrate import upgrade

            upgrade(self.engine)

    # ---- creating and reading jobs -------------------------------------------------------------------

    def create_job(
        self,
        job_id: str,
        *,
        product_name: str,
        style: str,
        cta_text: str,
        image_key: str | None = None,
        options: dict[str, Any] | None = None,
        kind: str = "ad",
        stage_names: tuple[str, ...] = AD_STAGES,
    ) -> JobRecord:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    kind=kind,
                    status="pending",
                    created_at=now,
                    updated_at=now,
                    product_name=product_name,
                    style=style,
                    cta_text=cta_text,
                    product_image_path=image_key,
                    options=json.dumps(options or {}),
                    cost_usd=0.0,
                    seq=0,
                    launch_attempts=0,
                )
            )
            conn.execute(
                insert(stages),
                [
                    {"job_id": job_id, "stage_name": s, "status": "pending", "progress": 0, "seq": 0}
                    for s in stage_names
                ],
            )
        job = self.get_job(job_id)
        assert job is not None
        return job

    def get_brief(self, job_id: str) -> StoredBrief | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        if row is None:
            return None
        return StoredBrief(
            job_id=row["id"],
            product_name=row["product_name"],
            style=row["style"],
            cta_text=row["cta_text"],
            image_key=row["product_image_path"],
            options=json.loads(row["options"] or "{}"),
        )

    def get_job(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            stage_rows = conn.execute(
                select(stages).where(stages.c.job_id == job_id).order_by(stages.c.id)
            ).mappings()
            return _job_from_row(row, list(stage_rows))

    def list_jobs(self, *, limit: int = 100, offset: int = 0, status: str | None = None) -> list[JobRecord]:
        q = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit).offset(offset)
        if status:
            q = q.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return _with_stages(conn, list(conn.execute(q).mappings()))

    def get_jobs(self, job_ids: list[str]) -> list[JobRecord]:
        """The jobs that exist among ``job_ids``, in that order: two queries whatever the count."""
        if not job_ids:
            return []
        with self.engine.connect() as conn:
            found = {r["id"]: r for r in conn.execute(select(jobs).where(jobs.c.id.in_(job_ids))).mappings()}
            return _with_stages(conn, [found[i] for i in job_ids if i in found])

    def count_jobs(self, status: str | None = None) -> int:
        q = select(func.count()).select_from(jobs)
        if status:
            q = q.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def job_exists(self, job_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(jobs.c.id).where(jobs.c.id == job_id)).first() is not None

    # ---- launching -----------------------------------------------------------------------------------

    def record_launch(self, job_id: str, *, run_id: str | None, error: str | None = None) -> None:
        values: dict[str, Any] = {"launch_attempts": jobs.c.launch_attempts + 1, "updated_at": utcnow()}
        if run_id:
            values["dagster_run_id"] = run_id
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def unlaunched_jobs(self, limit: int = 50) -> list[JobRecord]:
        """Pending jobs that never got a Dagster run (Dagster was unreachable when they were accepted)."""
        q = (
            select(jobs.c.id)
            .where(jobs.c.status == "pending", jobs.c.dagster_run_id.is_(None))
            .order_by(jobs.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q)]
        return self.get_jobs(ids)

    def fail_job(self, job_id: str, reason: str, *, seq: int | None = None) -> JobRecord | None:
        """Fail a job as a whole (e.g. it could not be launched within the bound)."""
        return self.apply_event(
            StageEvent(job_id=job_id, stage=None, kind="failed", error=reason, seq=seq or seq_now(), source="api")
        )

    def mark_degraded(self, job_id: str) -> None:
        """A fallback provider produced a stage: flag the job (never cleared by a later stage)."""
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(degraded=True, updated_at=utcnow()))

    # ---- progress ------------------------------------------------------------------------------------

    def apply_event(self, ev: StageEvent) -> JobRecord | None:
        """Apply one event; return the updated job, or None when the event was stale (older than what the
        store already knows) or names an unknown job. Status and progress therefore never go backwards
        when the in-asset path and the sensor report the same happening."""
        ts = seq_to_datetime(ev.seq)
        with self.engine.begin() as conn:
            # Lock the job row first (PostgreSQL) so two writers derive the job status one after the other.
            job_row = (
                conn.execute(select(jobs).where(jobs.c.id == ev.job_id).with_for_update()).mappings().first()
            )
            if job_row is None:
                return None
            applied = False
            if ev.stage is not None:
                applied = self._apply_stage(conn, ev, ts)
            else:
                applied = self._apply_run_level(conn, ev, ts)
            if not applied:
                return None
            self._derive_job(conn, ev, ts)
        job = self.get_job(ev.job_id)
        if job is not None:
            job.previous_status = job_row["status"]
        return job

    def _apply_stage(self, conn: Any, ev: StageEvent, ts: datetime) -> bool:
        values: dict[str, Any] = {"seq": ev.seq}
        if ev.kind == "started":
            # A stage that starts again (retry, or an operator re-materializing it) starts a new story.
            values.update(status="processing", progress=max(0, ev.progress), started_at=ts,
                          completed_at=None, error_message=None)
        elif ev.kind == "progress":
            values.update(status="processing", progress=min(99, max(0, ev.progress)), error_message=None)
        elif ev.kind == "completed":
            values.update(status="completed", progress=100, completed_at=ts, error_message=None)
            if ev.data is not None:
                values["stage_data"] = json.dumps(ev.data)
        elif ev.kind == "failed":
            values.update(status="failed", completed_at=ts, error_message=(ev.error or "stage failed")[:4000])
            if ev.data is not None:  # e.g. the classified provider error code
                values["stage_data"] = json.dumps(ev.data)
        else:
            raise ValueError(f"unknown event kind {ev.kind!r}")
        cond = [stages.c.job_id == ev.job_id, stages.c.stage_name == ev.stage, stages.c.seq < ev.seq]
        if ev.kind in ("completed", "failed"):
            # Both paths report the end of a step; the second report changes nothing, so don't re-publish it.
            cond.append(stages.c.status != ("completed" if ev.kind == "completed" else "failed"))
        res = conn.execute(update(stages).where(*cond).values(**values))
        return bool(res.rowcount)

    def _apply_run_level(self, conn: Any, ev: StageEvent, ts: datetime) -> bool:
        if ev.kind != "failed":
            return False
        reason = (ev.error or "run failed")[:4000]
        rows = list(
            conn.execute(select(stages).where(stages.c.job_id == ev.job_id).order_by(stages.c.id)).mappings()
        )
        if any(r["status"] == "failed" and r["seq"] >= ev.seq for r in rows):
            return False  # a stage already failed with its own, more precise reason
        # Mark what was running failed with the reason. If nothing ever started (the run failed before its
        # first step, or the job could not be launched), no stage is to blame: the job itself fails.
        targets = [r for r in rows if r["status"] == "processing"]
        if not targets and any(r["status"] in ("completed", "failed") for r in rows):
            targets = [next((r for r in rows if r["status"] != "completed"), None)]
        changed = False
        for r in targets:
            if r is None or r["seq"] >= ev.seq:
                continue
            conn.execute(
                update(stages)
                .where(stages.c.id == r["id"])
                .values(status="failed", error_message=reason, completed_at=ts, seq=ev.seq)
            )
            changed = True
        if not changed and all(r["status"] == "completed" for r in rows):
            return False
        if not changed:
            conn.execute(update(jobs).where(jobs.c.id == ev.job_id).values(status="failed", error_message=reason))
        return True

    def _derive_job(self, conn: Any, ev: StageEvent, ts: datetime) -> None:
        rows = list(
            conn.execute(select(stages).where(stages.c.job_id == ev.job_id).order_by(stages.c.id)).mappings()
        )
        job = conn.execute(select(jobs).where(jobs.c.id == ev.job_id)).mappings().one()
        values: dict[str, Any] = {"updated_at": ts if ts > job["updated_at"] else utcnow(),
                                  "seq": max(job["seq"], ev.seq)}
        if ev.video_key:
            values["video_url"] = ev.video_key
        if ev.cost_usd is not None:
            values["cost_usd"] = float(ev.cost_usd)
        if ev.run_id:
            values["dagster_run_id"] = ev.run_id
        video_key = values.get("video_url", job["video_url"])
        failed = [r for r in rows if r["status"] == "failed"]
        if failed:
            values["status"] = "failed"
            first = failed[0]
            values["error_message"] = f"{first['stage_name']} failed: {first['error_message']}"
        elif all(r["status"] == "completed" for r in rows) and video_key:
            values.update(status="completed", error_message=None)
        elif any(r["status"] in ("processing", "completed") for r in rows):
            values.update(status="processing", error_message=None)
        elif job["status"] != "failed":
            values["status"] = "pending"
        conn.execute(update(jobs).where(jobs.c.id == ev.job_id).values(**values))


def _with_stages(conn: Any, rows: list[Any]) -> list[JobRecord]:
    """Job rows -> records, with all their stages fetched in one query."""
    by_job: dict[str, list[Any]] = {r["id"]: [] for r in rows}
    if by_job:
        for s in conn.execute(select(stages).where(stages.c.job_id.in_(list(by_job))).order_by(stages.c.id)).mappings():
            by_job[s["job_id"]].append(s)
    return [_job_from_row(r, by_job[r["id"]]) for r in rows]


def _job_from_row(row: Any, stage_rows: list[Any]) -> JobRecord:
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        product_name=row["product_name"],
        style=row["style"],
        cta_text=row["cta_text"],
        product_image_path=row["product_image_path"],
        video_key=row["video_url"],
        error_message=row["error_message"],
        cost_usd=float(row["cost_usd"] or 0.0),
        options=json.loads(row["options"] or "{}"),
        dagster_run_id=row["dagster_run_id"],
        launch_attempts=int(row["launch_attempts"] or 0),
        seq=int(row["seq"] or 0),
        degraded=bool(row.get("degraded") or False),
        stages=[
            StageRecord(
                id=s["id"],
                stage_name=s["stage_name"],
                status=s["status"],
                progress=int(s["progress"]),
                started_at=s["started_at"],
                completed_at=s["completed_at"],
                error_message=s["error_message"],
                stage_data=json.loads(s["stage_data"]) if s["stage_data"] else None,
                seq=int(s["seq"] or 0),
            )
            for s in stage_rows
        ],
    )
