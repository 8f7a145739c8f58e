"""The seed's jobs and stages tables, plus what the Dagster integration needs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="ad"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("product_name", sa.String(100), nullable=False),
        sa.Column("style", sa.String(50), nullable=False),
        sa.Column("cta_text", sa.String(50), nullable=False),
        sa.Column("product_image_path", sa.String(512)),
        sa.Column("video_url", sa.String(512)),
        sa.Column("error_message", sa.Text),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("dagster_run_id", sa.String(64)),
        sa.Column("launch_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_table(
        "stages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage_name", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime),
        sa.Column("completed_at", sa.DateTime),
        sa.Column("stage_data", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("job_id", "stage_name", name="uq_stage_job_name"),
    )
    op.create_index("ix_stages_job_id", "stages", ["job_id"])


def downgrade() -> None:
    op.drop_table("stages")
    op.drop_table("jobs")
