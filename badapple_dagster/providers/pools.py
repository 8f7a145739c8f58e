"""Per-provider concurrency pools: every paid call holds a slot of the Dagster pool ``provider/<kind>``.

A pool on the asset (``local_media``) is fixed when the code location loads, but which provider a step calls
is decided by its config at run time, so the slot is claimed around the call itself, through the same
instance storage the executor uses for asset pools. That makes the limit span every run and every code
server on the instance, shows up in the UI's Concurrency page, and can be changed there (or with
``dagster instance concurrency set provider/replicate 8``) without a redeploy. One slot is one call in
flight — one chat completion, one TTS request, one Replicate prediction — which is how providers state
their rate limits.

A pool that has no limit yet is created with the limit from ``BADAPPLE_PROVIDER_POOLS``
(``"replicate=4,openai=8"``), else ``BADAPPLE_PROVIDER_POOL_LIMIT`` (default 4). Slots are released when the
call ends; if the worker dies holding one, the daemon frees it once the run has ended
(``run_monitoring.free_slots_after_run_end_seconds`` in dagster.yaml).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

POOL_PREFIX = "provider/"
DEFAULT_LIMIT = 4
MAX_WAIT_INTERVAL = 5.0
# A call never waits for a slot forever (a pool set to 0, or slots held by a wedged run): after this long it
# fails as a TIMEOUT, so the chain falls back or the stage fails with that reason instead of hanging the job.
DEFAULT_MAX_WAIT_SECONDS = 1800.0


def pool_name(provider: str) -> str:
    return f"{POOL_PREFIX}{provider}"


def configured_limits(env: dict[str, str] | None = None) -> dict[str, int]:
    """``BADAPPLE_PROVIDER_POOLS="replicate=4, openai=8"`` -> {"replicate": 4, "openai": 8}; bad entries raise."""
    raw = (env if env is not None else os.environ).get("BADAPPLE_PROVIDER_POOLS", "")
    limits: dict[str, int] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"BADAPPLE_PROVIDER_POOLS entry {part!r}: expected provider=N with N >= 1")
        limits[name.strip().lower()] = int(value)
    return limits


def default_limit(provider: str, env: dict[str, str] | None = None) -> int:
    source = env if env is not None else os.environ
    return configured_limits(source).get(provider, int(source.get("BADAPPLE_PROVIDER_POOL_LIMIT", DEFAULT_LIMIT)))


class ProviderSlots:
    """Claims and frees pool slots for one step of one run. Thread-safe: renderers call providers from a
    thread pool, and each call claims under its own key."""

    def __init__(self, instance: Any, run_id: str, step_key: str,
                 on_wait: Callable[[str], None] | None = None, max_wait: float | None = None) -> None:
        self.instance = instance
        self.max_wait = max_wait if max_wait is not None else float(
            os.environ.get("BADAPPLE_PROVIDER_SLOT_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS))
        self.run_id = run_id
        self.step_key = step_key
        self.on_wait = on_wait
        self._lock = threading.Lock()
        self._ready: set[str] = set()
        self._serial = 0

    @classmethod
    def for_context(cls, context: Any, on_wait: Callable[[str], None] | None = None) -> ProviderSlots | None:
        """From an asset execution context; None outside a run (direct calls in tests, the CLI's dry runs)."""
        try:
            step_key = context.get_step_execution_context().step.key
            return cls(context.instance, context.run.run_id, step_key, on_wait)
        except Exception:  # a context without a step (e.g. build_asset_context) has nothing to claim against
            return None

    @property
    def storage(self) -> Any:
        return self.instance.event_log_storage

    def _ensure_pool(self, pool: str, provider: str) -> None:
        with self._lock:
            if pool in self._ready:
                return
            if not any(p.name == pool for p in self.storage.get_pool_limits()):
                self.storage.set_concurrency_slots(pool, default_limit(provider))
            self._ready.add(pool)

    def _claim_key(self, provider: str, call: str | None) -> str:
        # Pool claims are keyed by (run, step key); a distinct pseudo step key per call keeps these slots apart
        # from the step's own asset-pool slot and from the other calls of the same step.
        with self._lock:
            self._serial += 1
            return f"{self.step_key}[{provider}:{call if call is not None else self._serial}]"

    @contextmanager
    def hold(self, provider: str, call: str | None = None) -> Iterator[None]:
        if not getattr(self.storage, "supports_global_concurrency_limits", False):
            yield
            return
        pool = pool_name(provider)
        self._ensure_pool(pool, provider)
        key = self._claim_key(provider, call)
        try:
            self._acquire(pool, key)
            yield
        finally:
            self.storage.free_concurrency_slot_for_step(self.run_id, key)

    def _acquire(self, pool: str, key: str) -> None:
        from .errors import TIMEOUT, ProviderError

        interval, waited = 0.2, False
        deadline = time.monotonic() + self.max_wait
        while True:
            status = self.storage.claim_concurrency_slot(pool, self.run_id, key)
            if status.is_claimed:
                return
            if not any(p.name == pool for p in self.storage.get_pool_limits()):
                return  # an operator removed the pool's limit while we waited: unlimited now
            if time.monotonic() > deadline:
                raise ProviderError(TIMEOUT, pool.removeprefix(POOL_PREFIX),
                                    f"no free {pool} slot after {self.max_wait:.0f} s (its limit is set on the "
                                    "Dagster instance: UI > Concurrency)")
            if not waited:
                waited = True
                log.info("waiting for a %s slot (%s)", pool, key)
                if self.on_wait is not None:
                    self.on_wait(pool)
            time.sleep(interval)
            interval = min(MAX_WAIT_INTERVAL, interval * 1.5)
