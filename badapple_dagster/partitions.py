"""Partitions: every ad job is one partition of ``ad_jobs``; the partition key is the job id."""

import dagster as dg

AD_JOBS = "ad_jobs"
ad_jobs_partitions = dg.DynamicPartitionsDefinition(name=AD_JOBS)
