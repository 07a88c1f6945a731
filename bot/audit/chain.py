"""The audit log as a hash chain: each entry carries the SHA-256 of the one before it.

`entry_hash` is SHA-256 over a canonical JSON of the entry (time, actor, action, subject,
detail and `prev_hash`), so changing, removing or reordering any entry breaks every link after
it, and `verify` names the first one. Appends are serialised so concurrent writers can never
fork the chain; a unique index on `prev_hash` makes a fork impossible even if they were not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.models import AuditEntry

GENESIS = "0" * 64
# Any fixed 64-bit number shared by every Haven process ("HAVENAUD" in ASCII).
ADVISORY_LOCK_KEY = 0x484156454E415544


def normalise_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as the JSON column will give it back (tuples as lists, keys as strings)."""
    return json.loads(json.dumps(detail, ensure_ascii=False))


def _at_text(at: datetime | str) -> str:
    if isinstance(at, str):  # a raw SQLite value read without the column's type
        at = datetime.fromisoformat(at)
    if at.utcoffset() is None:
        at = at.replace(tzinfo=UTC)  # SQLite keeps UTC without its offset
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    prev_hash: str,
    at: datetime | str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | None,
    detail: Any,
) -> str:
    canonical = json.dumps(
        {
            "prev_hash": prev_hash,
            "at": _at_text(at),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "detail": detail if detail is not None else {},
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hash_of(entry: Any, prev_hash: str) -> str:
    """The hash an entry (model instance or row) should carry after `prev_hash`."""
    return compute_hash(
        prev_hash=prev_hash,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail,
    )


def lock_and_read_tail(session: Session) -> str:
    """Take the chain's write lock for this transaction and return the last entry's hash.

    PostgreSQL: a transaction-scoped advisory lock, released by the commit that writes the new
    entries. SQLite has one writer at a time, but pysqlite only opens the write transaction at
    the first data change, so a no-op DELETE opens it before the tail is read; otherwise two
    processes could read the same tail and both append to it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:
        session.execute(text("DELETE FROM audit_log WHERE 0 = 1"))
    tail = session.execute(
        select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)  # type: ignore[attr-defined]
    ).scalar()
    return tail or GENESIS


def chain(entries: Iterable[AuditEntry], tail: str) -> None:
    """Link new entries after `tail`, in the order given."""
    for entry in entries:
        entry.prev_hash = tail
        entry.entry_hash = tail = hash_of(entry, tail)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    head: str
    broken_id: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"OK: {self.checked} entries, chain head {self.head}"
        return f"BROKEN at entry {self.broken_id}: {self.reason} ({self.checked} entries before it)"


def verify(connection: Connection | Session, batch_size: int = 1000) -> Verdict:
    """Walk the whole log in id order; stop at the first entry that does not fit the chain."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    expected, checked, last_id = GENESIS, 0, 0
    while True:
        rows = connection.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch_size)
        ).all()
        if not rows:
            return Verdict(ok=True, checked=checked, head=expected)
        for row in rows:
            reason = _fault(row, expected)
            if reason:
                return Verdict(False, checked, expected, broken_id=row.id, reason=reason)
            expected, checked, last_id = row.entry_hash, checked + 1, row.id


def _fault(row: Any, expected_prev: str) -> str | None:
    if row.entry_hash is None or row.prev_hash is None:
        return "it has no hash (written outside Haven?)"
    if row.prev_hash != expected_prev:
        return "it does not follow the entry before it (an entry was removed or inserted)"
    if hash_of(row, row.prev_hash) != row.entry_hash:
        return "its content does not match its hash (the entry was altered)"
    return None
