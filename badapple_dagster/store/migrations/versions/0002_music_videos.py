"""Music-video projects, their flavor variants and flavor sweeps.

Each (project, variant) is also a row in ``jobs`` (kind "mv") with its four ``stages``, so MV progress uses
the same event rules, Redis channels and WebSocket machinery as ad jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mv_projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("concept", sa.Text, nullable=False),
        sa.Column("character_description", sa.Text, nullable=False),
        sa.Column("audio_key", sa.String(512)),
        sa.Column("reference_image_key", sa.String(512)),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("sweep_id", sa.String(64)),
    )
    op.create_table(
        "mv_variants",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("mv_projects.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("variant", sa.String(128), primary_key=True),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("overrides", sa.Text, nullable=False, server_default="{}"),
        sa.Column("job_id", sa.String(200), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_table(
        "mv_sweeps",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("mv_projects.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("spec", sa.Text, nullable=False, server_default="{}"),
        sa.Column("report_key", sa.String(512)),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("id", type_=sa.String(200))
    with op.batch_alter_table("stages") as batch:
        batch.alter_column("job_id", type_=sa.String(200))


def downgrade() -> None:
    op.drop_table("mv_sweeps")
    op.drop_table("mv_variants")
    op.drop_table("mv_projects")
