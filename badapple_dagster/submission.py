"""Accepting a brief: validate it, store its image in the artifact store, store the job with its brief, and
register the job's partition. Shared by the CLI and the API so both enforce exactly the same rules."""

from __future__ import annotations

import os
import uuid
from typing import Any

from .artifacts import ArtifactStore, ad_key
from .media.brief import normalize_image, validate_fields
from .names import AD_JOBS
from .settings import scratch_dir
from .store.jobs import JobRecord, JobStore


def accept_brief(
    store: JobStore,
    artifacts: ArtifactStore,
    *,
    product_name: str,
    style: str,
    cta_text: str,
    image_bytes: bytes | None = None,
    options: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> JobRecord:
    """Raises media.brief.BriefError for bad input, before anything is stored."""
    name, style_key, cta = validate_fields(product_name, style, cta_text)
    job_id = job_id or str(uuid.uuid4())
    image_key = None
    if image_bytes:
        # normalize_image validates (magic bytes, size, bomb guard) before it decodes anything.
        with scratch_dir() as tmp:
            png = os.path.join(tmp, "product.png")
            normalize_image(image_bytes, png)
            image_key = ad_key(job_id, "input", "product.png")
            artifacts.put_file(image_key, png, "image/png")
    return store.create_job(
        job_id, product_name=name, style=style_key, cta_text=cta, image_key=image_key, options=options or {}
    )


def add_partition(instance: Any, job_id: str) -> None:
    """Register the job as a partition of ``ad_jobs`` (idempotent on the instance API)."""
    instance.add_dynamic_partitions(AD_JOBS, [job_id])
