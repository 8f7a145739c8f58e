"""API-process settings: the project's runtime settings plus the knobs only the API has (launch policy,
WebSocket keepalive, completion-time model). Read from the environment once, overridable in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from badapple_dagster.settings import Settings, get_settings


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def package_version() -> str:
    try:
        return metadata.version("badapple")
    except metadata.PackageNotFoundError:  # running from a checkout that was never pip-installed
        return "0.0.0+local"


@dataclass(frozen=True)
class ApiConfig:
    settings: Settings = field(default_factory=get_settings)
    version: str = field(default_factory=package_version)

    # Launching (see docs/API.md, "Launch policy").
    launch_deadline_seconds: float = 600.0  # accepted but never launched for this long -> job failed
    launch_lease_seconds: float = 90.0  # another replica may take over a job nobody touched for this long
    launch_sweep_seconds: float = 15.0  # how often each replica looks for unlaunched jobs
    launch_backoff_initial_seconds: float = 1.0
    launch_backoff_max_seconds: float = 30.0
    # Launches in flight against the Dagster webserver at once. launchRun costs the webserver real CPU (it can
    # launch ~2-3 runs/s on 2 cores); more in parallel only takes CPU from request handling.
    launch_concurrency: int = 2
    dagster_timeout_seconds: float = 10.0

    # WebSocket.
    ws_idle_ping_seconds: float = 30.0  # server pings a client that said nothing for this long
    ws_client_queue_size: int = 256  # messages buffered per client before it is dropped as too slow
    ws_poll_seconds: float = 1.0  # DB polling interval while Redis pub/sub is unavailable

    # Completion-time estimate for POST /api/generate.
    eta_render_seconds: int = 20  # one default ad, submit -> completed, on 2 cores (README benchmarks)
    eta_seconds_per_job_ahead: int = 10  # ~6 jobs/min at the default 2 concurrent runs

    def with_overrides(self, **changes: Any) -> ApiConfig:
        return replace(self, **changes)


def load_config(**overrides: Any) -> ApiConfig:
    """Environment first, then explicit overrides (tests build in-process apps with their own values)."""
    env_values: dict[str, Any] = {
        "launch_deadline_seconds": _float_env("BADAPPLE_LAUNCH_DEADLINE_SECONDS", 600.0),
        "launch_lease_seconds": _float_env("BADAPPLE_LAUNCH_LEASE_SECONDS", 90.0),
        "launch_sweep_seconds": _float_env("BADAPPLE_LAUNCH_SWEEP_SECONDS", 15.0),
        "ws_idle_ping_seconds": _float_env("BADAPPLE_WS_PING_SECONDS", 30.0),
    }
    env_values.update(overrides)
    return ApiConfig(**env_values)
