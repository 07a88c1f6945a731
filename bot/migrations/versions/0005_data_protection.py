"""data protection: retention, subject access and erasure, Meta deletion callback

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString
# bot.privacy_core.REMOVED_TEXT; written out here because a migration must not change when the
# code does.
REMOVED_TEXT = "[removed: data protection]"
# Every case_events column except text: an erasure may blank the note and change nothing else.
KEPT_COLUMNS = (
    "id", "case_id", "at", "actor_id", "kind", "from_status", "to_status", "assignee_id", "outcome",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "privacy_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", STRING(length=300), nullable=False),
        sa.Column("placed_at", UTC_DATETIME(), nullable=False),
        sa.Column("placed_by", STRING(length=80), nullable=False),
        sa.Column("released_at", UTC_DATETIME(), nullable=True),
        sa.Column("released_by", STRING(length=80), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "data_deletion_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("confirmation_code", STRING(length=40), nullable=False),
        sa.Column("subject_digest", STRING(length=64), nullable=False),
        sa.Column("status", STRING(length=30), nullable=False),
        sa.Column("received_at", UTC_DATETIME(), nullable=False),
        sa.Column("completed_at", UTC_DATETIME(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("confirmation_code"),
        sa.UniqueConstraint("subject_digest"),
    )
    op.create_table(
        "privacy_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", STRING(length=40), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("reason", STRING(length=20), nullable=False),
        sa.Column("removed_at", UTC_DATETIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("table_name", "row_id", name="uq_privacy_removals_row"),
    )
    with op.batch_alter_table("privacy_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_removals_removed_at"), ["removed_at"], unique=False
        )
    _allow_erasing_case_notes()


def _allow_erasing_case_notes() -> None:
    # Case notes are staff's free text and may name the person, yet case_events is append-only
    # (0004). The one change now allowed is blanking a note's text to the marker, every other
    # column unchanged, so subject erasure can remove what a note says while the decision
    # record (who, when, which status) stays as evidence.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION haven_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            f"IF TG_OP = 'UPDATE' AND NEW.text = '{REMOVED_TEXT}' "
            "AND (to_jsonb(NEW) - 'text') = (to_jsonb(OLD) - 'text') THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        return
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT_COLUMNS)
    op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    op.execute(
        "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
        f"WHEN NOT (NEW.text IS '{REMOVED_TEXT}' AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )


def _restore_strict_case_events() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION haven_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    op.execute(
        "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )


def downgrade() -> None:
    _restore_strict_case_events()
    with op.batch_alter_table("privacy_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_removals_removed_at"))
    op.drop_table("privacy_removals")
    op.drop_table("data_deletion_requests")
    op.drop_table("privacy_holds")
