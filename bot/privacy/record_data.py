"""Subject access and erasure for the safeguarding record (listed in bot/privacy/subject_data.py).

A safeguarding case is held (bot/privacy/holds.py), and what is held is kept through an erasure
request; this blanks what staff wrote only on a case no longer held. The entries are append-only:
blanking their encrypted texts is the one change the database allows (migration 0011). Partner
tasks hold a partner's name and dates, no text: they are exported and kept.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.models.record import PartnerTask, RecordEntry
from bot.privacy.core_data import ERASURE, REMOVED_TEXT, subject_case_ids
from bot.privacy.removals import mark_removed, not_removed

TABLE = "safeguarding_record_entries"
# What staff wrote; the kind, times, basis and who recorded it stay as the minimal record.
WRITTEN = ("text", "reason", "by_whom", "told_whom")


def export_record(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    ids = subject_case_ids(session, platform, author_id)
    rows: list[dict[str, Any]] = []
    for table, model in ((TABLE, RecordEntry), ("partner_tasks", PartnerTask)):
        found = session.exec(
            select(model).where(col(model.case_id).in_(ids)).order_by(model.id)  # type: ignore[attr-defined]
        ).all()
        rows += [{"table": table, **row.model_dump()} for row in found]
    return rows


def erase_record(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    ids = subject_case_ids(session, platform, author_id) - held
    entries = session.exec(
        select(RecordEntry).where(
            col(RecordEntry.case_id).in_(ids), not_removed(TABLE, RecordEntry.id)
        )
    ).all()
    for entry in entries:
        for name in WRITTEN:
            if getattr(entry, name) is not None:
                setattr(entry, name, REMOVED_TEXT)
        session.add(entry)
    mark_removed(session, TABLE, [e.id for e in entries if e.id is not None], ERASURE)
    return len(entries)
