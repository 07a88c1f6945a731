"""Writing an alert row: at most one per dedupe key, and always on the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.audit import record
from bot.db import add_unless_taken
from bot.models.alerts import Alert


def new_alert(session: Session, *, dedupe_key: str, kind: str, **fields: Any) -> Alert | None:
    """Add an alert unless one with this key exists; None when it was already raised.

    The caller's transaction commits it together with whatever it is about.
    """
    if session.exec(select(Alert.id).where(Alert.dedupe_key == dedupe_key)).first() is not None:
        return None
    alert = Alert(dedupe_key=dedupe_key, kind=kind, **fields)
    # A worker racing us to the same key wins, and our transaction goes on.
    if not add_unless_taken(session, alert):
        return None
    subject = ("case", alert.case_id) if alert.case_id else ("alert", alert.id)
    record(
        session,
        "system",
        "alert.raised",
        *subject,
        alert_id=alert.id,
        kind=kind,
        category=alert.category,
        roles=alert.roles,
        level=alert.level,
    )
    return alert
