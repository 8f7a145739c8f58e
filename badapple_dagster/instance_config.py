"""The Dagster instance configuration (dagster.yaml) for each mode.

Embedded: the repository's ``dagster.yaml`` (SQLite under DAGSTER_HOME, queued coordinator, run monitoring,
run retries for crashed workers only). Production: the same plus dagster-postgres storage (runs, event log,
schedules), dagster-aws' S3ComputeLogManager and tag concurrency limits per provider. ``badapple up`` writes
the file for the mode it runs in; secrets stay in the environment (``{env: VAR}`` references), never in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def embedded_config() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())


def production_config(s: Settings) -> dict[str, Any]:
    cfg = embedded_config()
    cfg["storage"] = {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    cfg["concurrency"]["runs"] = {
        "max_concurrent_runs": s.max_concurrent_runs,
        # Runs that call a paid provider carry badapple/provider=<name>; at most N of each run at once so a
        # burst of jobs cannot exceed a provider's rate limit.
        "tag_concurrency_limits": [
            {"key": "badapple/provider", "value": {"applyLimitPerUniqueValue": True},
             "limit": s.provider_concurrency},
        ],
    }
    if s.artifact_backend == "s3" and s.s3_bucket:
        logs: dict[str, Any] = {"bucket": s.s3_bucket, "prefix": f"{s.s3_prefix.strip('/') or 'badapple'}/compute-logs",
                                "upload_interval": 30}
        if s.s3_endpoint_url:
            logs["endpoint_url"] = s.s3_endpoint_url
        if s.s3_region:
            logs["region"] = s.s3_region
        cfg["compute_logs"] = {"module": "dagster_aws.s3.compute_log_manager", "class": "S3ComputeLogManager",
                               "config": logs}
    return cfg


def instance_config(settings: Settings | None = None) -> dict[str, Any]:
    s = settings or get_settings()
    cfg = production_config(s) if s.mode == "production" else embedded_config()
    # BADAPPLE_MAX_CONCURRENT_RUNS sizes the run queue in both modes; the media pool follows so it never
    # becomes the tighter limit by accident.
    cfg["concurrency"]["runs"]["max_concurrent_runs"] = s.max_concurrent_runs
    cfg["concurrency"].setdefault("pools", {})["default_limit"] = max(2, s.max_concurrent_runs)
    return cfg


def write_instance_yaml(dagster_home: Path, settings: Settings | None = None) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    target.write_text("# Written by badapple for this mode; edit dagster.yaml in the repository instead.\n"
                      + yaml.safe_dump(instance_config(settings), sort_keys=False))
    return target
