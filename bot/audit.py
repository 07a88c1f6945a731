"""The append-only audit log: who did what to which record, and when. Never message text."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object = None,
    **detail: Any,
) -> AuditEntry:
    """Add an entry to the session; it is committed with the change it describes."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        detail=detail,
    )
    session.add(entry)
    return entry
