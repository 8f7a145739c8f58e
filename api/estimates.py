"""The completion-time estimate returned by ``POST /api/generate``.

A deliberately simple model: a render takes about ``eta_render_seconds`` on its own, and every job already
pending or processing ahead of it delays it by ``eta_seconds_per_job_ahead``. Renders are CPU-bound, so the
parallel run slots share the same cores and do not divide the wait: the machine finishes roughly one job per
``eta_seconds_per_job_ahead`` however many run at once.

The queue depth is counted at most once a second (a burst of submissions must not turn into a burst of COUNT
queries) and advanced by one for every job accepted in between.
"""

from __future__ import annotations

import math
import threading
import time

from badapple_dagster.store.jobs import JobStore

from .config import ApiConfig

DEPTH_CACHE_SECONDS = 1.0


class CompletionEstimator:
    def __init__(self, store: JobStore, config: ApiConfig) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._depth = 0
        self._read_at = -math.inf

    def _queue_depth(self) -> int:
        """Jobs pending or processing, the new one included."""
        with self._lock:
            now = time.monotonic()
            if now - self._read_at > DEPTH_CACHE_SECONDS:
                self._depth = self.store.count_jobs("pending") + self.store.count_jobs("processing")
                self._read_at = now
            else:
                self._depth += 1  # the job being estimated was stored after the cached count
            return self._depth

    def seconds_for_new_job(self) -> int:
        """Blocking (may query the store): call from a worker thread, after the new job is stored."""
        ahead = max(0, self._queue_depth() - 1)
        return int(self.config.eta_render_seconds + ahead * self.config.eta_seconds_per_job_ahead)
