"""support directory, matches and introductions

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "support_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("name", STRING(length=120), nullable=False),
        sa.Column("description", STRING(length=500), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("area", STRING(length=80), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("load", sa.Integer(), nullable=False),
        sa.Column("contact_route", STRING(length=300), nullable=False),
        sa.Column("availability", STRING(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_resources_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_resources_active"), ["active"], unique=False)

    op.create_table(
        "case_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("topic", STRING(length=40), nullable=False),
        sa.Column("set_at", UTC_DATETIME(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "topic", name="uq_case_topics_case_topic"),
    )
    with op.batch_alter_table("case_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_topics_case_id"), ["case_id"], unique=False)

    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("live_key", STRING(length=40), nullable=True),
        sa.Column("explanation", STRING(length=300), nullable=True),
        sa.Column("proposed_at", UTC_DATETIME(), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("person_agreed_at", UTC_DATETIME(), nullable=True),
        sa.Column("person_agreed_by", sa.Integer(), nullable=True),
        sa.Column("person_shares", sa.JSON(), nullable=False),
        sa.Column("supporter_agreed_at", UTC_DATETIME(), nullable=True),
        sa.Column("supporter_agreed_by", sa.Integer(), nullable=True),
        sa.Column("supporter_accepts", sa.JSON(), nullable=False),
        sa.Column("introduced_at", UTC_DATETIME(), nullable=True),
        sa.Column("introduced_by", sa.Integer(), nullable=True),
        sa.Column("shared_text", sa.Text(), nullable=True),
        sa.Column("ended_at", UTC_DATETIME(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("end_reason", STRING(length=300), nullable=True),
        sa.Column("updated_at", UTC_DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["resource_id"], ["support_resources.id"]),
        sa.ForeignKeyConstraint(["proposed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["person_agreed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["supporter_agreed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["introduced_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("live_key"),
    )
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_introductions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_introductions_resource_id"), ["resource_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_introductions_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_introductions_status"))
        batch_op.drop_index(batch_op.f("ix_introductions_resource_id"))
        batch_op.drop_index(batch_op.f("ix_introductions_case_id"))
    op.drop_table("introductions")
    with op.batch_alter_table("case_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_topics_case_id"))
    op.drop_table("case_topics")
    with op.batch_alter_table("support_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_resources_active"))
        batch_op.drop_index(batch_op.f("ix_support_resources_kind"))
    op.drop_table("support_resources")
