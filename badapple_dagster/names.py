"""Names the Dagster definitions and the API share: jobs, partition dimensions, provider option fields.

Kept free of Dagster imports on purpose: the API launches runs by these names over GraphQL, and importing
Dagster only to read a few strings would cost every API process ~0.4 s at start and ~40 MB.
"""

AD_JOBS = "ad_jobs"  # dynamic partitions: one per ad job, keyed by job id
MUSIC_JOBS = "music_jobs"  # MV projects (the "project" dimension)
MV_FLAVORS = "mv_flavors"  # flavor variants (the "flavor" dimension)
AD_JOB_NAME = "ad_video_job"
MV_JOB_NAME = "mv_video_job"
# MV provider chain fields (run config and project options) -> the registry's stage names.
MV_PROVIDER_OPTIONS = {"scene_provider": "scene", "image_provider": "image", "clip_provider": "clip"}
