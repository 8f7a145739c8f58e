"""Runtime settings, read from the environment once per process.

Embedded defaults (SQLite file, local artifact folder under the data directory) serve one person on a laptop;
DATABASE_URL / BADAPPLE_ARTIFACTS=s3 switch to production parts without code changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    artifact_backend: str  # "local" | "s3"
    artifacts_dir: Path
    s3_bucket: str | None
    s3_prefix: str
    s3_endpoint_url: str | None
    s3_region: str | None
    presign_expiry_seconds: int
    dagster_graphql_url: str
    public_base_url: str
    mode: str  # "embedded" (SQLite, local folder) | "production" (PostgreSQL, S3)
    db_schema: str  # PostgreSQL schema of the job store (Dagster's own tables stay in the default schema)
    dagster_postgres_url: str | None
    max_concurrent_runs: int
    provider_concurrency: int

    @property
    def dagster_home(self) -> Path:
        return Path(_env("DAGSTER_HOME", str(self.data_dir / "dagster")))


def get_settings() -> Settings:
    data_dir = Path(_env("BADAPPLE_DATA_DIR", os.path.abspath(".badapple"))).resolve()
    database_url = _env("DATABASE_URL")
    production = _env("BADAPPLE_ENV") == "production" or bool(database_url and database_url.startswith("postgres"))
    return Settings(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'badapple.db'}",
        redis_url=_env("REDIS_URL"),
        artifact_backend=_env("BADAPPLE_ARTIFACTS", "local"),
        artifacts_dir=Path(_env("BADAPPLE_ARTIFACTS_DIR", str(data_dir / "artifacts"))),
        s3_bucket=_env("BADAPPLE_S3_BUCKET"),
        s3_prefix=_env("BADAPPLE_S3_PREFIX", ""),
        s3_endpoint_url=_env("BADAPPLE_S3_ENDPOINT_URL", _env("AWS_ENDPOINT_URL")),
        s3_region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION")),
        presign_expiry_seconds=int(_env("BADAPPLE_PRESIGN_EXPIRY", "3600")),
        dagster_graphql_url=_env("BADAPPLE_DAGSTER_URL", "http://127.0.0.1:3000"),
        public_base_url=_env("BADAPPLE_PUBLIC_URL", "http://127.0.0.1:8000"),
        mode="production" if production else "embedded",
        db_schema=_env("BADAPPLE_DB_SCHEMA", "badapple"),
        dagster_postgres_url=_env("DAGSTER_POSTGRES_URL", database_url if production else None),
        max_concurrent_runs=int(_env("BADAPPLE_MAX_CONCURRENT_RUNS", "2")),
        provider_concurrency=int(_env("BADAPPLE_PROVIDER_CONCURRENCY", "2")),
    )


PLACEHOLDER_SECRETS = {"changeme", "change-me", "change_me", "placeholder", "password", "secret", "xxx", "todo"}


class InsecureConfigError(RuntimeError):
    pass


def check_production_secrets(settings: Settings | None = None) -> None:
    """Production secrets come only from the environment, and a placeholder left in one refuses to start."""
    from urllib.parse import urlsplit

    s = settings or get_settings()
    if s.mode != "production":
        return
    found = []
    for name, url in (("DATABASE_URL", s.database_url), ("DAGSTER_POSTGRES_URL", s.dagster_postgres_url)):
        if url and (urlsplit(url).password or "").lower() in PLACEHOLDER_SECRETS:
            found.append(name)
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "REDIS_PASSWORD"):
        value = os.environ.get(name)
        if value is not None and (value.lower() in PLACEHOLDER_SECRETS or value.startswith("<")):
            found.append(name)
    if found:
        raise InsecureConfigError(
            f"refusing to start in production mode: placeholder secret in {', '.join(found)}; "
            "set real values in the environment"
        )


def scratch_dir():  # noqa: ANN201 - a context manager yielding a path string
    """A private scratch directory under the data directory (not the machine's shared /tmp): uploads are
    normalised here on their way into the artifact store and removed right after."""
    import tempfile

    root = get_settings().data_dir / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=root)
