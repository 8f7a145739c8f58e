"""The cost ledger (``provider_calls``) and the per-stage meter the adapters call through.

Every remote call is keyed by an idempotency key (job, stage, scene, hash of provider + model + inputs).
A call whose key already has a successful row, with its output still in the artifact store, is not made
again: a retried step or a re-materialized stage reuses what was paid for.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ..store.jobs import utcnow
from ..store.tables import provider_calls
from .errors import ProviderError


def idempotency_key(job_id: str, stage: str, scene: int | None, payload: Any) -> str:
    """Stable across processes: the payload is hashed as canonical JSON (sorted keys)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{job_id}\x1f{stage}\x1f{'' if scene is None else scene}\x1f{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class CallRecord:
    provider: str
    model: str
    status: str
    cost_usd: float
    duration_s: float
    request_id: str | None
    scene: int | None
    error_code: str | None
    output: dict[str, Any] | None


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, *, job_id: str, stage: str, scene: int | None, key: str, provider: str, model: str,
               status: str, cost_usd: float = 0.0, duration_s: float = 0.0, request_id: str | None = None,
               error: ProviderError | None = None, output: dict[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(provider_calls).values(
                job_id=job_id, stage=stage, scene=scene, idempotency_key=key, provider=provider, model=model,
                request_id=(request_id or None) and str(request_id)[:128], created_at=utcnow(),
                duration_s=round(duration_s, 3), status=status, cost_usd=round(cost_usd, 6),
                error_code=error.code if error else None, error_message=error.message if error else None,
                output=json.dumps(output) if output is not None else None,
            ))

    def succeeded(self, key: str) -> dict[str, Any] | None:
        """The output of the latest successful call with this key, if any."""
        q = (select(provider_calls.c.output).where(provider_calls.c.idempotency_key == key,
                                                   provider_calls.c.status == "succeeded")
             .order_by(provider_calls.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return json.loads(row[0]) if row and row[0] else None

    def cost(self, job_id: str, stage: str | None = None) -> float:
        q = select(func.coalesce(func.sum(provider_calls.c.cost_usd), 0.0)).where(provider_calls.c.job_id == job_id)
        if stage is not None:
            q = q.where(provider_calls.c.stage == stage)
        with self.engine.connect() as conn:
            return round(float(conn.execute(q).scalar_one()), 6)

    def calls(self, job_id: str, stage: str | None = None) -> list[CallRecord]:
        q = select(provider_calls).where(provider_calls.c.job_id == job_id).order_by(provider_calls.c.id)
        if stage is not None:
            q = q.where(provider_calls.c.stage == stage)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q).mappings())
        return [CallRecord(r["provider"], r["model"], r["status"], float(r["cost_usd"]), float(r["duration_s"]),
                           r["request_id"], r["scene"], r["error_code"],
                           json.loads(r["output"]) if r["output"] else None) for r in rows]


@dataclass
class CallResult:
    """What an adapter's call function returns to the meter."""

    output: dict[str, Any]  # JSON-serialisable; stored so a retry can reuse it
    cost_usd: float = 0.0
    request_id: str | None = None
    reused: bool = False


@dataclass
class CallMeter:
    """Ledger + artifact store for one stage of one job. Adapters are given one by the stage (``None`` outside
    Dagster: then calls are made and costed but nothing is recorded or reused)."""

    ledger: Ledger | None
    job_id: str
    stage: str
    artifacts: Any = None  # ArtifactStore: where paid-for outputs (audio, clips) are kept for reuse
    key_prefix: str = ""  # artifact key prefix of the stage, e.g. "ads/{job_id}/video_gen"
    slots: Any = None  # ProviderSlots: each paid call holds a slot of its provider's Dagster pool
    results: list[CallResult] = field(default_factory=list)

    def call(self, *, provider: str, model: str, scene: int | None, payload: Any,
             fn: Callable[[], CallResult], reusable: Callable[[dict[str, Any]], bool] = lambda _o: True,
             ) -> CallResult:
        """Run ``fn`` once per idempotency key: reuse a stored success, else call and record the outcome."""
        key = idempotency_key(self.job_id, self.stage, scene, {"provider": provider, "model": model,
                                                               "input": payload})
        if self.ledger is not None:
            stored = self.ledger.succeeded(key)
            if stored is not None and reusable(stored):
                self.ledger.record(job_id=self.job_id, stage=self.stage, scene=scene, key=key, provider=provider,
                                   model=model, status="reused", output=stored)
                result = CallResult(stored, 0.0, None, reused=True)
                self.results.append(result)
                return result
        slot = self.slots.hold(provider, None if scene is None else str(scene)) if self.slots else nullcontext()
        started = time.perf_counter()
        try:
            with slot:
                result = fn()
        except ProviderError as exc:
            if self.ledger is not None:
                self.ledger.record(job_id=self.job_id, stage=self.stage, scene=scene, key=key, provider=provider,
                                   model=model, status="failed", cost_usd=exc.cost_usd,
                                   duration_s=time.perf_counter() - started,
                                   request_id=exc.request_id, error=exc)
            raise
        if self.ledger is not None:
            self.ledger.record(job_id=self.job_id, stage=self.stage, scene=scene, key=key, provider=provider,
                               model=model, status="succeeded", cost_usd=result.cost_usd,
                               duration_s=time.perf_counter() - started, request_id=result.request_id,
                               output=result.output)
        self.results.append(result)
        return result

    # --- paid-for files ---------------------------------------------------------------------------------

    def keep_file(self, name: str, local_path: str, content_type: str | None = None) -> str | None:
        """Store a downloaded output so a retry can reuse it; returns its artifact key (None: no store)."""
        if self.artifacts is None or not self.key_prefix:
            return None
        key = f"{self.key_prefix}/provider_outputs/{name}"
        self.artifacts.put_file(key, local_path, content_type)
        return key

    def has_file(self, key: str | None) -> bool:
        return bool(key) and self.artifacts is not None and self.artifacts.exists(key)

    def restore_file(self, key: str, dest: str) -> str:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        return self.artifacts.fetch(key, dest)
