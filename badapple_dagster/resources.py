"""Typed Dagster resources: the job store, the artifact store and the progress reporter.

Every field has a default taken from the environment (see ``settings.py``), so a UI materialization needs
no launchpad configuration.
"""

from __future__ import annotations

import functools
from typing import Any

import dagster as dg

from .artifacts import ArtifactStore, LocalArtifactStore, S3ArtifactStore
from .progress import ProgressReporter, redis_client_from_url
from .settings import get_settings
from .store.jobs import JobRecord, JobStore, StageEvent


@functools.lru_cache(maxsize=8)
def _job_store(url: str) -> JobStore:
    return JobStore(url)


class JobStoreResource(dg.ConfigurableResource):
    """Where briefs and job/stage status live (SQLite file by default, PostgreSQL via DATABASE_URL)."""

    database_url: str = ""

    def get(self) -> JobStore:
        return _job_store(self.database_url or get_settings().database_url)


class ArtifactStoreResource(dg.ConfigurableResource):
    """Base class; assets depend on this type and get a local or S3 implementation."""

    def get(self) -> ArtifactStore:  # pragma: no cover - abstract
        raise NotImplementedError


class LocalArtifactStoreResource(ArtifactStoreResource):
    root: str = ""

    def get(self) -> LocalArtifactStore:
        return LocalArtifactStore(self.root or str(get_settings().artifacts_dir))


class S3ArtifactStoreResource(ArtifactStoreResource):
    """Artifacts in S3 through dagster-aws' S3Resource (any S3-compatible endpoint via endpoint_url).

    dagster_aws (and boto3 behind it) is imported on first use, not at code-location load, because every
    run worker pays for module-level imports."""

    bucket: str = ""
    prefix: str = ""
    endpoint_url: str = ""
    region_name: str = ""

    def get(self) -> S3ArtifactStore:
        from dagster_aws.s3 import S3Resource

        s = get_settings()
        s3 = S3Resource(
            endpoint_url=self.endpoint_url or s.s3_endpoint_url,
            region_name=self.region_name or s.s3_region,
        )
        bucket = self.bucket or s.s3_bucket
        if not bucket:
            raise ValueError("the S3 artifact store needs a bucket (BADAPPLE_S3_BUCKET)")
        return S3ArtifactStore(s3.get_client(), bucket, self.prefix or s.s3_prefix)


class ProgressResource(dg.ConfigurableResource):
    """Publishes progress from inside assets: job store first, then Redis (when REDIS_URL is set).

    ``in_asset=False`` (``BADAPPLE_ASSET_PROGRESS=off``) leaves reporting to the run-event sensor alone: jobs
    still end completed or failed with their reasons, only seconds later. It exists to measure and exercise
    that path (bench/api.py) and as an escape hatch if the workers cannot reach Redis or the job store."""

    redis_url: str = ""
    in_asset: bool = True

    def reporter(self, store: JobStore) -> ProgressReporter:
        """For the assets: silent when in-asset reporting is off."""
        if not self.in_asset:
            return SilentReporter(store)
        return self.publisher(store)

    def publisher(self, store: JobStore) -> ProgressReporter:
        """For the run-event sensor: always reports."""
        return ProgressReporter(store, _redis(self.redis_url or get_settings().redis_url or ""))


class SilentReporter(ProgressReporter):
    """Reports nothing: the sensor is the only path."""

    def emit(self, ev: StageEvent) -> JobRecord | None:
        return None


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> Any | None:
    return redis_client_from_url(url)


def default_artifact_resource() -> ArtifactStoreResource:
    if get_settings().artifact_backend == "s3":
        return S3ArtifactStoreResource()
    return LocalArtifactStoreResource()
