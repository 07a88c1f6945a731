"""When to check in with the person: one follow-up per case, kept in the database.

Set when consent is given or a match is made (after `cases.follow_up_days`), re-set or snoozed
by staff, ended when the case closes or consent stops. The tick (workers/follow_up.py)
reminds once per due time.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.audit import record
from bot.models import Case
from bot.models.consent import CaseFollowUp


def follow_up_of(session: Session, case_id: int) -> CaseFollowUp | None:
    return session.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case_id)).first()


def schedule_follow_up(
    session: Session, case: Case, *, due_at: datetime, actor: str, reason: str, now: datetime
) -> CaseFollowUp:
    """Set (or re-set) the case's follow-up; a new due time gets a reminder of its own."""
    row = follow_up_of(session, case.id) or CaseFollowUp(case_id=case.id, set_by=actor)  # type: ignore[arg-type]
    row.due_at, row.reminded_at, row.ended_at = due_at, None, None
    row.set_at, row.set_by, row.reason = now, actor, reason[:200]
    session.add(row)
    session.flush()
    record(session, actor, "follow_up.scheduled", "case", case.id,
           due_at=due_at.isoformat(), reason=reason[:200])  # fmt: skip
    return row


def end_follow_up(session: Session, case_id: int, reason: str, now: datetime) -> bool:
    """No more reminders for this case (closed, or consent stopped). True if one was live."""
    row = follow_up_of(session, case_id)
    if row is None or row.ended_at is not None:
        return False
    row.ended_at, row.reason = now, reason[:200]
    session.add(row)
    record(session, "system", "follow_up.ended", "case", case_id, reason=reason[:200])
    return True
