"""Who has looked at a safeguarding case: one audit entry per look, not one per page load.

A look is one person seeing a safeguarding case's content through one page (the queue, the
case page, a person's page). The first sighting is always written; sightings by the same
person, of the same case, through the same page within `LOOK_WINDOW` of a recorded one are
the same look (a reload, paging back, the queue refreshing) and add nothing. A second person,
another page or a sighting after the window is a new look and is written. Refusals are not
looks: every refused attempt stays on the record (bot/web/dashboard/cases.py).

Why this shape (docs/decisions.md, issue 18): the safeguarding wall needs "who saw this case,
when, and where" to be complete, so a first look can never be skipped; it does not need the
same person's reloads, which buried the audit page (97 entries in four minutes) and the
record of who actually looked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.audit import record
from bot.models import AuditEntry

VIEWED = "case.viewed"
LOOK_WINDOW = timedelta(minutes=30)


def record_looks(
    db: Session, actor: str, case_ids: Iterable[int], via: str, now: datetime
) -> list[int]:
    """Record a `case.viewed` for each case this actor has not looked at via this page lately.

    Returns the cases recorded now. Two loads racing at the same instant may both write: an
    extra entry, never a missing one.
    """
    wanted = sorted(set(case_ids))
    if not wanted:
        return []
    recent = db.exec(
        select(AuditEntry.subject_id, AuditEntry.detail).where(
            AuditEntry.subject_type == "case",
            AuditEntry.subject_id.in_([str(c) for c in wanted]),  # type: ignore[union-attr]
            AuditEntry.action == VIEWED,
            AuditEntry.actor == actor,
            AuditEntry.at > now - LOOK_WINDOW,
        )
    ).all()
    seen = {subject for subject, detail in recent if (detail or {}).get("via") == via}
    new = [case_id for case_id in wanted if str(case_id) not in seen]
    for case_id in new:
        record(db, actor, VIEWED, "case", case_id, via=via)
    return new
