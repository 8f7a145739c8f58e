"""Partitions: every ad job is one partition of ``ad_jobs``; the partition key is the job id."""

import dagster as dg

from .names import AD_JOBS

ad_jobs_partitions = dg.DynamicPartitionsDefinition(name=AD_JOBS)
