"""The job store: the seed's ``jobs`` and ``stages`` tables, shared by the API and the pipeline.

The API writes a job's brief here when it accepts the job; every Dagster asset reads the brief back by
partition key (= job id). Progress from both reporting paths lands here through ``JobStore.apply_event``.
"""

from .jobs import JobRecord, JobStore, StageRecord, StoredBrief

__all__ = ["JobRecord", "JobStore", "StageRecord", "StoredBrief"]
