"""consent, follow-up and the community boundary on cases

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME(), nullable=False),
        sa.Column("state", STRING(length=30), nullable=False),
        sa.Column("previous", STRING(length=20), nullable=True),
        sa.Column("source", STRING(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("message_id", STRING(length=200), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", STRING(length=500), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "item_id", name="uq_consent_records_case_item"),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("platform", STRING(length=20), nullable=False),
        sa.Column("account_id", STRING(length=64), nullable=False),
        sa.Column("messaging_id", STRING(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["outbound_actions.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "messaging_id", name="uq_case_contacts_case_messaging"),
    )
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_contacts_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_contacts_account_messaging", ["account_id", "messaging_id"], unique=False
        )

    op.create_table(
        "case_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_DATETIME(), nullable=True),
        sa.Column("reminded_at", UTC_DATETIME(), nullable=True),
        sa.Column("set_at", UTC_DATETIME(), nullable=False),
        sa.Column("set_by", STRING(length=80), nullable=False),
        sa.Column("reason", STRING(length=200), nullable=True),
        sa.Column("ended_at", UTC_DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("case_follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_follow_ups_due_at"), ["due_at"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("initials", STRING(length=8), nullable=False),
        sa.Column("noted_on", sa.Date(), nullable=False),
        sa.Column("support_type", STRING(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("button_payload", STRING(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("button_payload")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_case_id"))
    op.drop_table("case_notes")
    with op.batch_alter_table("case_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_follow_ups_due_at"))
    op.drop_table("case_follow_ups")
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_case_contacts_account_messaging")
        batch_op.drop_index(batch_op.f("ix_case_contacts_case_id"))
    op.drop_table("case_contacts")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_case_id"))
    op.drop_table("consent_records")
