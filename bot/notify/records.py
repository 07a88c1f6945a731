"""Writing an alert row: at most one per dedupe key, and always on the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.audit import record
from bot.db import add_unless_taken
from bot.models.alerts import Alert


def new_alert(session: Session, *, dedupe_key: str, kind: str, **fields: Any) -> Alert | None:
    """Add an alert unless one with this key exists; None when it was already raised.

    The caller's transaction commits it together with whatever it is about.
    """
    alert = Alert(dedupe_key=dedupe_key, kind=kind, **fields)
    # Raised already, here or by a worker racing us to the same key: theirs stands, and our
    # transaction goes on. One statement either way (no look first: the key answers).
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
