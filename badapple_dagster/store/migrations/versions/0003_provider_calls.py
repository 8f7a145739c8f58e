"""Cost ledger of remote provider calls, and the jobs' ``degraded`` flag (a fallback provider produced a stage).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(200), nullable=False, index=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("scene", sa.Integer),
        sa.Column("idempotency_key", sa.String(64), nullable=False, index=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),  # succeeded | failed | reused
        sa.Column("error_code", sa.String(32)),
        sa.Column("error_message", sa.Text),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("output", sa.Text),  # JSON: what a retry may reuse (artifact keys, parsed results)
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("degraded", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("degraded")
    op.drop_table("provider_calls")
