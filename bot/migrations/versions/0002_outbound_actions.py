"""outbound actions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:43:54.135183
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_states",
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paused_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("paused_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "outbound_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("error_kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["reply_drafts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("outbound_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_actions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_actions_draft_id"), ["draft_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbound_actions_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_actions_status"), ["status"], unique=False)

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private_reply_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("reply_drafts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deadline_warned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reply_drafts", schema=None) as batch_op:
        batch_op.drop_column("deadline_warned_at")

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("private_reply_used_at")

    with op.batch_alter_table("outbound_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_actions_status"))
        batch_op.drop_index(batch_op.f("ix_outbound_actions_item_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_actions_draft_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_actions_account_id"))

    op.drop_table("outbound_actions")
    op.drop_table("account_states")
