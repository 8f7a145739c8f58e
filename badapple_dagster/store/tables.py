"""SQLAlchemy table definitions. Schema changes go through an Alembic revision in ``migrations/``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(16), nullable=False, server_default="ad"),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("updated_at", DateTime, nullable=False),
    Column("product_name", String(100), nullable=False),
    Column("style", String(50), nullable=False),
    Column("cta_text", String(50), nullable=False),
    # Artifact-store key of the sanitised product image (never a path in /tmp, never a URL).
    Column("product_image_path", String(512)),
    # Artifact-store key of the final video; the API turns it into a URL on read.
    Column("video_url", String(512)),
    Column("error_message", Text),
    Column("cost_usd", Float, nullable=False, server_default="0"),
    Column("options", Text, nullable=False, server_default="{}"),  # JSON: seed, aspect_ratio, voice...
    Column("dagster_run_id", String(64)),
    Column("launch_attempts", Integer, nullable=False, server_default="0"),
    Column("seq", BigInteger, nullable=False, server_default="0"),  # last applied job-level event
    # True once any stage was produced by a fallback provider instead of the one configured first.
    Column("degraded", Boolean, nullable=False, server_default="0"),
)

stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(200), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("stage_name", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime),
    Column("completed_at", DateTime),
    Column("stage_data", Text),
    Column("error_message", Text),
    Column("seq", BigInteger, nullable=False, server_default="0"),  # last applied event for this stage
    UniqueConstraint("job_id", "stage_name", name="uq_stage_job_name"),
)

mv_projects = Table(
    "mv_projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("concept", Text, nullable=False),
    Column("character_description", Text, nullable=False),
    Column("audio_key", String(512)),
    Column("reference_image_key", String(512)),
    Column("options", Text, nullable=False, server_default="{}"),
    Column("sweep_id", String(64)),
)

# One row per (project, variant). ``variant`` is the flavor partition key: the flavor name, or for a sweep
# grid point "<flavor>--<param>-<value>..." so two grid points of one flavor never share outputs.
mv_variants = Table(
    "mv_variants",
    metadata,
    Column("project_id", String(64), ForeignKey("mv_projects.id", ondelete="CASCADE"), primary_key=True),
    Column("variant", String(128), primary_key=True),
    Column("flavor", String(64), nullable=False),
    Column("overrides", Text, nullable=False, server_default="{}"),
    Column("job_id", String(200), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
)

mv_sweeps = Table(
    "mv_sweeps",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("project_id", String(64), ForeignKey("mv_projects.id", ondelete="CASCADE"), nullable=False),
    Column("spec", Text, nullable=False, server_default="{}"),
    Column("report_key", String(512)),
)

# The cost ledger: one row per remote provider call (see badapple_dagster/providers/ledger.py).
provider_calls = Table(
    "provider_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(200), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("scene", Integer),
    Column("idempotency_key", String(64), nullable=False, index=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(128), nullable=False),
    Column("request_id", String(128)),
    Column("created_at", DateTime, nullable=False),
    Column("duration_s", Float, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("error_code", String(32)),
    Column("error_message", Text),
    Column("cost_usd", Float, nullable=False, server_default="0"),
    Column("output", Text),
)
