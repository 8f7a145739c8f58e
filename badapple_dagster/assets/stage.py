"""What every ad stage does around its own work: read the brief and upstream manifests, report progress,
classify failures (retry or not), keep a scratch directory, and build rich materialization metadata."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ..artifacts import ad_key, sha256_file, validate_key
from ..progress import ProgressReporter
from ..settings import get_settings
from ..store.jobs import JobStore, StageEvent, StoredBrief

# Retries are for transient trouble (a busy disk, an ffmpeg hiccup). Bad briefs and missing upstream
# outputs raise dg.Failure(allow_retries=False): retrying cannot help them.
MAX_RETRIES = 2
RETRY_POLICY = dg.RetryPolicy(
    max_retries=MAX_RETRIES, delay=0.5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# Local media work is CPU-bound; the pool lets operators cap concurrent renders per machine/provider.
LOCAL_MEDIA_POOL = "local_media"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def permanent_failure(message: str, **metadata: Any) -> dg.Failure:
    return dg.Failure(description=message, metadata=metadata or None, allow_retries=False)


@dataclass
class StageRun:
    context: dg.AssetExecutionContext
    stage: str
    job_id: str
    store: JobStore
    artifacts: Any
    reporter: ProgressReporter
    work_dir: str
    key_prefix: str = ""  # "ads/{job_id}" for ads, "mv/projects/{project}/{variant}" for music videos
    started: float = field(default_factory=time.perf_counter)
    _last_progress: float = 0.0
    last_fraction: float = 0.0

    def brief(self) -> StoredBrief:
        brief = self.store.get_brief(self.job_id)
        if brief is None:
            raise permanent_failure(
                f"No brief is stored for job {self.job_id!r}. Create the job with `badapple job create` or "
                "POST /api/generate; a partition without a brief cannot be rendered."
            )
        return brief

    def key(self, name: str, stage: str | None = None) -> str:
        if self.key_prefix:
            return validate_key(f"{self.key_prefix}/{stage or self.stage}/{name}")
        return ad_key(self.job_id, stage or self.stage, name)

    def manifest(self, stage: str) -> dict[str, Any]:
        key = self.key("manifest.json", stage)
        try:  # one read (a GET on S3), not an exists() check first
            return self.artifacts.get_json(key)
        except FileNotFoundError:
            raise permanent_failure(
                f"Upstream stage {stage!r} has no output for job {self.job_id!r} ({key}). "
                f"Materialize {stage} for this partition first."
            ) from None

    def local(self, key: str) -> str:
        return self.artifacts.materialize_local(key, self.work_dir)

    def progress(self, fraction: float | None, message: str) -> None:
        """Fine-grained progress from inside the asset; throttled so a tight loop cannot flood Redis.
        ``None`` keeps the last fraction and only changes the message (e.g. "waiting for a provider slot")."""
        fraction = self.last_fraction if fraction is None else fraction
        self.last_fraction = fraction
        now = time.perf_counter()
        if now - self._last_progress < 0.1 and fraction < 1.0:
            return
        self._last_progress = now
        pct = int(max(0.0, min(0.99, fraction)) * 100)
        self.reporter.emit(
            StageEvent(self.job_id, self.stage, "progress", progress=pct, message=message,
                       run_id=self.context.run.run_id)
        )

    def complete(self, data: dict[str, Any], **extra: Any) -> None:
        """Report the stage completed (with what it stored) on the in-asset path."""
        self.reporter.emit(
            StageEvent(self.job_id, self.stage, "completed", data=data, run_id=self.context.run.run_id, **extra)
        )

    def put(self, name: str, local_path: str, content_type: str | None = None) -> dict[str, Any]:
        """Store a file under this stage's key; return its description for manifests and metadata."""
        key = self.key(name)
        uri = self.artifacts.put_file(key, local_path, content_type)
        return {"key": key, "uri": uri, "bytes": os.path.getsize(local_path), "sha256": sha256_file(local_path)}

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 3)


@contextmanager
def stage_run(
    context: dg.AssetExecutionContext,
    stage: str,
    store: JobStore,
    artifacts: Any,
    reporter: ProgressReporter,
    *,
    job_id: str | None = None,
    key_prefix: str = "",
) -> Iterator[StageRun]:
    job_id = job_id or context.partition_key
    reporter.emit(StageEvent(job_id, stage, "started", run_id=context.run.run_id))
    scratch_root = get_settings().data_dir / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix=f"{stage}-", dir=scratch_root)
    run = StageRun(context, stage, job_id, store, artifacts, reporter, work_dir, key_prefix)
    try:
        yield run
    except Exception as exc:
        retrying = not (isinstance(exc, dg.Failure) and not exc.allow_retries) and (
            context.retry_number < MAX_RETRIES
        )
        if not retrying:
            message = exc.description if isinstance(exc, dg.Failure) else f"{type(exc).__name__}: {exc}"
            # A classified provider failure (permanent_failure(..., error_code=...)) keeps its code on the stage.
            meta = {k: getattr(v, "value", v) for k, v in ((exc.metadata or {}) if isinstance(exc, dg.Failure)
                                                            else {}).items()}
            data = {k: meta[k] for k in ("error_code", "provider") if k in meta} or None
            reporter.emit(StageEvent(job_id, stage, "failed", error=message, data=data, run_id=context.run.run_id))
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def preview_markdown(jpeg_path: str, caption: str = "preview") -> dg.MetadataValue:
    """Embed a small JPEG in markdown so an operator can judge the stage from the Dagster UI."""
    with open(jpeg_path, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    return dg.MetadataValue.md(f"![{caption}](data:image/jpeg;base64,{b64})")


def contact_sheet(images: list[str], out_path: str, thumb_height: int = 240) -> str:
    """Side-by-side thumbnails of several frames (one per scene) as one JPEG."""
    from PIL import Image

    thumbs = []
    for p in images:
        with Image.open(p) as im:
            im = im.convert("RGB")
            w = max(1, round(im.width * thumb_height / im.height))
            thumbs.append(im.resize((w, thumb_height)))
    gap = 6
    sheet = Image.new("RGB", (sum(t.width for t in thumbs) + gap * (len(thumbs) - 1), thumb_height), (20, 20, 20))
    x = 0
    for t in thumbs:
        sheet.paste(t, (x, 0))
        x += t.width + gap
    sheet.save(out_path, "JPEG", quality=80)
    return out_path
