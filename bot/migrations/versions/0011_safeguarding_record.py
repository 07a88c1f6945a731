"""the safeguarding record: entries, sign-off, partner agencies to tell

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString
# bot.crypto.MARKER and bot.privacy.core_data.REMOVED_TEXT, written out: a migration must not
# change later.
MARKER = "enc1:"
REMOVED_TEXT = "[removed: data protection]"
# The encrypted columns: `haven keys rotate` re-seals them, and an erasure on a case no longer
# held may blank them. Nothing else about an entry may ever change.
SEALED = ("by_whom", "told_whom", "text", "reason")
KEPT = (
    "id", "case_id", "kind", "basis", "addendum", "happened_at", "recorded_at", "recorded_by",
    "decision", "partner", "how", "confirmed_in_writing", "confirmed_at",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "safeguarding_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTC_DATETIME(), nullable=False),
        sa.Column("signed_off_at", UTC_DATETIME(), nullable=True),
        sa.Column("signed_off_by", sa.Integer(), nullable=True),
        sa.Column("support_opened_at", UTC_DATETIME(), nullable=True),
        sa.Column("support_opened_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["signed_off_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["support_opened_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "safeguarding_record_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("basis", STRING(length=10), nullable=True),
        sa.Column("addendum", sa.Boolean(), nullable=False),
        sa.Column("happened_at", UTC_DATETIME(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("by_whom", sa.Text(), nullable=True),
        sa.Column("told_whom", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decision", STRING(length=20), nullable=True),
        sa.Column("partner", STRING(length=100), nullable=True),
        sa.Column("how", STRING(length=30), nullable=True),
        sa.Column("confirmed_in_writing", sa.Boolean(), nullable=True),
        sa.Column("confirmed_at", UTC_DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("safeguarding_record_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safeguarding_record_entries_case_id"), ["case_id"], unique=False
        )
    op.create_table(
        "partner_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("partner", STRING(length=100), nullable=False),
        sa.Column("category", STRING(length=60), nullable=False),
        sa.Column("opened_at", UTC_DATETIME(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("sent_automatically", sa.Boolean(), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("done_at", UTC_DATETIME(), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", UTC_DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["done_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["safeguarding_record_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "partner", name="uq_partner_tasks_case_partner"),
    )
    with op.batch_alter_table("partner_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_tasks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_tasks_status"), ["status"], unique=False)
    _make_entries_append_only()


def _sealed(same: str, equals: str, prefix: str) -> str:
    """Each encrypted column unchanged, blanked on erasure, or re-sealed (in one dialect)."""
    return " AND ".join(
        f"({same.format(c=c)} OR NEW.{c} {equals} '{REMOVED_TEXT}' "
        f"OR {prefix.format(c=c, n=len(MARKER))} {equals} '{MARKER}')"
        for c in SEALED
    )


def _make_entries_append_only() -> None:
    # The record is evidence a court or a serious case review may read: the database itself
    # refuses to delete an entry or change what it says. The only updates are re-sealing an
    # encrypted column with a new key, and blanking one on an erasure request.
    if op.get_bind().dialect.name == "postgresql":
        sealed = _sealed("NEW.{c} IS NOT DISTINCT FROM OLD.{c}", "=", "left(NEW.{c}, {n})")
        others = " - ".join(f"'{c}'" for c in SEALED)
        op.execute(
            "CREATE FUNCTION haven_record_entries_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            f"IF TG_OP = 'UPDATE' AND {sealed} "
            f"AND (to_jsonb(NEW) - {others}) = (to_jsonb(OLD) - {others}) THEN RETURN NEW; "
            "END IF; "
            "RAISE EXCEPTION 'safeguarding_record_entries is append-only'; END; "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER record_entries_append_only "
            "BEFORE UPDATE OR DELETE ON safeguarding_record_entries "
            "FOR EACH ROW EXECUTE FUNCTION haven_record_entries_append_only()"
        )
        return
    # IS, not =: a NULL must never make SQLite's WHEN clause let an update through.
    sealed = _sealed("NEW.{c} IS OLD.{c}", "IS", "substr(NEW.{c}, 1, {n})")
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT)
    op.execute(
        "CREATE TRIGGER record_entries_no_update BEFORE UPDATE ON safeguarding_record_entries "
        f"WHEN NOT ({sealed} AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'safeguarding_record_entries is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER record_entries_no_delete BEFORE DELETE ON safeguarding_record_entries "
        "BEGIN SELECT RAISE(ABORT, 'safeguarding_record_entries is append-only'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS record_entries_append_only ON safeguarding_record_entries"
        )
        op.execute("DROP FUNCTION IF EXISTS haven_record_entries_append_only()")
    with op.batch_alter_table("partner_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_partner_tasks_case_id"))
    op.drop_table("partner_tasks")
    with op.batch_alter_table("safeguarding_record_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguarding_record_entries_case_id"))
    op.drop_table("safeguarding_record_entries")
    op.drop_table("safeguarding_records")
