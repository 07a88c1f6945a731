"""Subject access and erasure for the consent tables (listed in bot/privacy/subject_data.py).

A person is found by the id they commented with and by the messaging id a private reply
reached (Meta gives the same person different ids in comments and in Messenger).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.models.consent import CaseContact, CaseNote, ConsentRecord
from bot.privacy.core_data import REMOVED_TEXT, subject_case_ids


def _case_ids(session: Session, platform: str, author_id: str) -> set[int]:
    linked = session.exec(
        select(CaseContact.case_id).where(
            CaseContact.platform == platform, CaseContact.messaging_id == author_id
        )
    ).all()
    return subject_case_ids(session, platform, author_id) | set(linked)


def export_consent(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    ids = _case_ids(session, platform, author_id)
    if not ids:
        return []
    rows: list[dict[str, Any]] = []
    for table, model in (
        ("case_contacts", CaseContact),
        ("consent_records", ConsentRecord),
        ("case_notes", CaseNote),
    ):
        found = session.exec(
            select(model).where(col(model.case_id).in_(ids)).order_by(model.id)  # type: ignore[attr-defined]
        ).all()
        rows += [{"table": table, **r.model_dump()} for r in found]
    return rows


def erase_consent(session: Session, platform: str, author_id: str, held_case_ids: set[int]) -> int:
    ids = _case_ids(session, platform, author_id) - held_case_ids
    if not ids:
        return 0
    changed = 0
    for contact in session.exec(select(CaseContact).where(col(CaseContact.case_id).in_(ids))):
        session.delete(contact)
        changed += 1
    records = session.exec(select(ConsentRecord).where(col(ConsentRecord.case_id).in_(ids)))
    for record in records:
        # The state and its time stay (the minimal case record); what links it to a
        # message, and any words about it, go.
        if record.message_id or record.reason or record.item_id:
            record.message_id, record.reason, record.item_id = None, None, None
            session.add(record)
            changed += 1
    for note in session.exec(select(CaseNote).where(col(CaseNote.case_id).in_(ids))):
        if note.initials or (note.text and note.text != REMOVED_TEXT):
            note.initials, note.text = "", REMOVED_TEXT if note.text else None
            session.add(note)
            changed += 1
    return changed
