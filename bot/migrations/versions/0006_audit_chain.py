"""tamper-evident audit log and encryption at rest

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

# The chain's hash is part of the data's meaning (every later `haven audit verify` recomputes
# it), so the migration uses the very function the application does.
from bot.audit.chain import GENESIS, compute_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
# bot.crypto.MARKER and 0005's REMOVED_TEXT, written out: a migration must not change later.
MARKER = "enc1:"
REMOVED_TEXT = "[removed: data protection]"
CASE_EVENT_KEPT = (
    "id", "case_id", "at", "actor_id", "kind", "from_status", "to_status", "assignee_id", "outcome",
)  # fmt: skip
# Ciphertext is about 4/3 of the text plus ~100 characters: names no longer fit VARCHAR(200).
WIDENED = (("items", "author_name", 200), ("items", "author_username", 200),
           ("person_marks", "reason", 500))  # fmt: skip


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Not in batch mode: on SQLite a batch would rebuild audit_log and drop its triggers.
    op.add_column("audit_log", sa.Column("prev_hash", STRING(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", STRING(length=64), nullable=True))
    _hash_existing_entries(postgres)
    op.create_index("ix_audit_log_prev_hash", "audit_log", ["prev_hash"], unique=True)
    for table, column, length in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=STRING(length=length), type_=sa.Text())
    _allow_resealing_case_notes(postgres)


def _hash_existing_entries(postgres: bool) -> None:
    """Link the entries already there into the chain, oldest first.

    The append-only trigger refuses every UPDATE, and these are the only updates the log will
    ever take: filling in two new columns, nothing existing changed. So the trigger is switched
    off for this one transaction and back on before it commits (on PostgreSQL a disabled
    trigger inside a transaction is invisible to every other session; SQLite's triggers cannot
    be disabled, so the update trigger is dropped and created again as 0001 made it).
    """
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", UTC_DATETIME()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("subject_type", sa.String()),
        sa.column("subject_id", sa.String()),
        sa.column("detail", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("entry_hash", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(log).order_by(log.c.id)).all()
    if not rows:
        return
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
    tail = GENESIS
    for row in rows:
        entry_hash = compute_hash(
            prev_hash=tail,
            at=row.at,
            actor=row.actor,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            detail=row.detail,
        )
        bind.execute(
            sa.update(log).where(log.c.id == row.id).values(prev_hash=tail, entry_hash=entry_hash)
        )
        tail = entry_hash
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _allow_resealing_case_notes(postgres: bool) -> None:
    # Case notes are now encrypted (bot/crypto.py), and `haven keys rotate` must re-seal them
    # with a new key. The database cannot compare two ciphertexts' plain text, so the rule
    # 0005 made (only the text may change, only to the erasure marker) is widened to: only
    # the text may change, to the erasure marker or to a sealed value. Every other column of
    # a note stays unchangeable, and no note can be deleted.
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION haven_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            "IF TG_OP = 'UPDATE' "
            f"AND (NEW.text = '{REMOVED_TEXT}' OR left(NEW.text, {len(MARKER)}) = '{MARKER}') "
            "AND (to_jsonb(NEW) - 'text') = (to_jsonb(OLD) - 'text') THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        return
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CASE_EVENT_KEPT)
    op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    op.execute(
        "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
        f"WHEN NOT ((NEW.text IS '{REMOVED_TEXT}' "
        f"OR substr(NEW.text, 1, {len(MARKER)}) IS '{MARKER}') AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )


def _restore_0005_case_events_rule(postgres: bool) -> None:
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION haven_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            f"IF TG_OP = 'UPDATE' AND NEW.text = '{REMOVED_TEXT}' "
            "AND (to_jsonb(NEW) - 'text') = (to_jsonb(OLD) - 'text') THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        return
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CASE_EVENT_KEPT)
    op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    op.execute(
        "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
        f"WHEN NOT (NEW.text IS '{REMOVED_TEXT}' AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )


def downgrade() -> None:
    # Encrypted values stay encrypted: decrypting is for a running Haven with its keys, not
    # for a schema step. Names longer than the old width would not fit back, so run this
    # only on a database that was never written to with encryption on.
    postgres = op.get_bind().dialect.name == "postgresql"
    _restore_0005_case_events_rule(postgres)
    for table, column, length in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=STRING(length=length))
    op.drop_index("ix_audit_log_prev_hash", table_name="audit_log")
    if postgres:
        op.drop_column("audit_log", "entry_hash")
        op.drop_column("audit_log", "prev_hash")
    else:
        # SQLite 3.35+ drops a column in place; a batch rebuild would lose the triggers.
        op.execute("ALTER TABLE audit_log DROP COLUMN entry_hash")
        op.execute("ALTER TABLE audit_log DROP COLUMN prev_hash")
