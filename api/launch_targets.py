"""What a stored job is launched as in Dagster, by job kind.

The launcher knows *when* to launch; this module knows *what*: which asset job, which dynamic partitions
must exist first, which run tags to set, and which tags identify a run launched for the job earlier (so a
retry or a take-over never launches a second one).

* kind "ad": ``ad_video_job``, partition ``ad_jobs`` ← job id, found again by ``badapple/job_id``.
* kind "mv": ``mv_video_job`` on the multi-partition project × flavor variant. Both dynamic keys are added
  (``music_jobs`` ← project id, ``mv_flavors`` ← variant); an earlier run is found by the partition key
  itself, so runs started outside the API (the CLI, the Dagster UI) also count as "already launched".

Anything else raises ``UnlaunchableJob``: a job of an unknown kind must be failed with the reason, never
guessed into the ad pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from badapple_dagster.mv_submission import mv_partition_key, mv_run_tags
from badapple_dagster.names import MUSIC_JOBS, MV_FLAVORS, MV_JOB_NAME
from badapple_dagster.providers.registry import provider_run_tags
from badapple_dagster.store.jobs import JobRecord
from badapple_dagster.store.mv import mv_job_id

from .dagster_client import JOB_ID_TAG, JOB_NAME, PARTITION_TAG, PARTITIONS_DEF_NAME


class UnlaunchableJob(ValueError):
    """The job cannot be turned into a Dagster run (unknown kind, or options that do not name a partition)."""


@dataclass(frozen=True)
class LaunchTarget:
    job_name: str
    partitions: tuple[tuple[str, str], ...]  # (dynamic partitions definition, key), added before launching
    tags: Mapping[str, str]  # run tags; include the partition tags Dagster reads
    lookup_tags: Mapping[str, str]  # a run carrying all of these was launched for this job already


def _frozen(tags: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(tags))


def _ad_target(job: JobRecord) -> LaunchTarget:
    # badapple/provider lets the instance cap concurrent runs per paid provider (tag_concurrency_limits) and
    # lets operators filter the UI's runs by provider.
    tags = {PARTITION_TAG: job.id, JOB_ID_TAG: job.id, **provider_run_tags(job.options)}
    return LaunchTarget(JOB_NAME, ((PARTITIONS_DEF_NAME, job.id),), _frozen(tags), _frozen({JOB_ID_TAG: job.id}))


def _mv_target(job: JobRecord) -> LaunchTarget:
    project_id, variant = job.options.get("project_id"), job.options.get("variant")
    if not isinstance(project_id, str) or not isinstance(variant, str) or not project_id or not variant:
        raise UnlaunchableJob(f"music-video job {job.id!r} does not name its project and variant")
    # The job id is derived from both keys; a mismatch means the row was not written by MvStore.
    if mv_job_id(project_id, variant) != job.id:
        raise UnlaunchableJob(f"music-video job {job.id!r} does not match its project {project_id!r} "
                              f"and variant {variant!r}")
    tags = {**mv_run_tags(project_id, variant), JOB_ID_TAG: job.id, **provider_run_tags(job.options)}
    return LaunchTarget(
        MV_JOB_NAME,
        ((MUSIC_JOBS, project_id), (MV_FLAVORS, variant)),
        _frozen(tags),
        _frozen({PARTITION_TAG: mv_partition_key(project_id, variant)}),
    )


def launch_target(job: JobRecord) -> LaunchTarget:
    if job.kind == "ad":
        return _ad_target(job)
    if job.kind == "mv":
        return _mv_target(job)
    raise UnlaunchableJob(f"job {job.id!r} has kind {job.kind!r}, which the API does not know how to launch")
