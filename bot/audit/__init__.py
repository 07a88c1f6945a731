"""The append-only audit log: who did what to which record, and when. Never message text.

Entries are chained by hash (bot/audit/chain.py). `record` keeps the entry aside and the
session writes it as the very last thing before its commit: every other change is flushed
first, then the chain's lock is taken, the tail read and the entries linked and inserted. The
lock is therefore held only for that final insert and never while waiting for another row
lock (no deadlocks between workers), and an entry is written exactly when the change it
describes is, or not at all. An entry is not visible to queries before its commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel

from bot.audit.chain import chain, lock_and_read_tail, normalise_detail
from bot.models import AuditEntry

_PENDING = "haven_audit_pending"


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object = None,
    **detail: Any,
) -> AuditEntry:
    """Add an entry to the session; it is committed with the change it describes.

    `subject_id` may be the row itself, not yet flushed: its id is read at the commit, so a
    new row need not be written on its own just to be named (a batch writes its drafts in one
    INSERT).
    """
    row = subject_id if isinstance(subject_id, SQLModel) else None
    entry = AuditEntry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None or row is not None else str(subject_id),
        # Hashed as stored: the JSON column gives back lists for tuples, strings for keys.
        detail=normalise_detail(detail),
    )
    session.info.setdefault(_PENDING, []).append((entry, row))
    return entry


@event.listens_for(OrmSession, "before_commit")
def _append_to_chain(session: OrmSession) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy fires before_commit for a savepoint's release too (`begin_nested`):
        # appending there would take the chain's lock mid-transaction and hold it to the end,
        # one worker's whole batch at a time. The entries wait for the real commit.
        return
    pending: list[tuple[AuditEntry, SQLModel | None]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # the changes these entries describe, and their row locks, come first
    for entry, row in pending:
        if row is not None:
            row_id = row.id  # type: ignore[attr-defined]
            entry.subject_id = None if row_id is None else str(row_id)
    entries = [entry for entry, _ in pending]
    chain(entries, lock_and_read_tail(session))  # type: ignore[arg-type]
    session.add_all(entries)
    session.flush()


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_on_rollback(session: OrmSession, transaction: SessionTransaction) -> None:
    # Only the outermost transaction: a savepoint rolled back inside it (a lost race for a
    # unique key) does not undo what was recorded before the savepoint.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
