"""The follow-up timer, run by the tick: set follow-ups after matches, remind when they fall due.

Everything is a time on a row (case_follow_ups), so a tick missed while the queue was down is
made up by the next, and claiming `reminded_at` with a conditional UPDATE means two ticks never
remind twice. Reminders go through the alerts layer: the category and a link, never content.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import audience
from bot.cases.consent import note_safeguarding_override
from bot.cases.follow_up import schedule_follow_up
from bot.config import HavenConfig
from bot.db import session_scope
from bot.models import Case, User, utcnow
from bot.models.alerts import Alert
from bot.models.consent import CaseFollowUp, ConsentRecord
from bot.models.dashboard import CaseEvent
from bot.notify.records import new_alert

log = logging.getLogger(__name__)

# Statuses a due follow-up moves on to "follow-up due"; escalated cases keep their status
# (the safeguarding lead has them) and are only reminded.
MOVES_TO_DUE = ("new", "awaiting_consent", "matched")
FOLLOW_UP_CATEGORY = "follow_up"


def run_follow_ups(
    engine: Engine, config: HavenConfig | None = None, *, now: datetime | None = None
) -> dict[str, int]:
    """One pass of the timer; returns counts for the tick's report."""
    config = config or HavenConfig()
    now = now or utcnow()
    days = config.cases.follow_up_days
    with session_scope(engine) as session:
        scheduled = schedule_after_matches(session, days, now)
        overrides = record_missing_overrides(session, now)
    reminded = remind_due(engine, now=now)
    return {
        "follow_ups_scheduled": scheduled,
        "follow_ups_reminded": len(reminded),
        "overrides_recorded": overrides,
    }


def schedule_after_matches(session: Session, days: int, now: datetime) -> int:
    """A case matched (or given consent) since its follow-up was set gets one `days` later."""
    matched_at = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.to_status == "matched")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = session.exec(
        select(Case, CaseFollowUp, matched_at.c.at)
        .outerjoin(CaseFollowUp, CaseFollowUp.case_id == Case.id)
        .outerjoin(matched_at, matched_at.c.case_id == Case.id)
        .where(
            Case.status != "closed",
            or_(
                # Matched after the follow-up was set (or with none): check in after the match.
                and_(
                    Case.status == "matched",
                    matched_at.c.at.is_not(None),
                    or_(CaseFollowUp.id.is_(None), CaseFollowUp.set_at < matched_at.c.at),
                ),
                # Consent given by a path that set no follow-up.
                and_(Case.consent == "given", CaseFollowUp.id.is_(None)),
            ),
        )
    ).all()
    for case, _row, matched in rows:
        if matched is not None and case.status == "matched":
            base, reason = _aware(matched), "matched with support"
        else:
            base, reason = _aware(case.consent_at or now), "consent given"
        schedule_follow_up(
            session, case, due_at=base + timedelta(days=days), actor="system", reason=reason,
            now=now,
        )  # fmt: skip
    return len(rows)


def record_missing_overrides(session: Session, now: datetime) -> int:
    """Escalated without consent (by a worker or by staff): say so on the case, once."""
    recorded = exists().where(
        ConsentRecord.case_id == Case.id, ConsentRecord.state == "safeguarding_override"
    )
    cases = session.exec(
        select(Case).where(
            Case.case_type == "safeguarding",
            Case.consent != "given",
            Case.status != "closed",
            ~recorded,
        )
    ).all()
    return sum(note_safeguarding_override(session, case, now) for case in cases)


def remind_due(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """Remind about every follow-up that has fallen due; returns the case ids reminded."""
    now = now or utcnow()
    with Session(engine) as session:
        due = session.exec(
            select(CaseFollowUp.id, CaseFollowUp.due_at)
            .join(Case, Case.id == CaseFollowUp.case_id)
            .where(
                CaseFollowUp.due_at <= now,
                CaseFollowUp.reminded_at.is_(None),
                CaseFollowUp.ended_at.is_(None),
                Case.status != "closed",
            )
        ).all()
    reminded = []
    for row_id, due_at in due:
        with session_scope(engine) as session:
            # The claim: a second tick, or a snooze in between, finds nothing to take.
            claimed = session.exec(
                update(CaseFollowUp)
                .where(
                    CaseFollowUp.id == row_id,
                    CaseFollowUp.reminded_at.is_(None),
                    CaseFollowUp.due_at == due_at,
                )
                .values(reminded_at=now)
            )
            if claimed.rowcount != 1:
                continue
            row = session.get(CaseFollowUp, row_id)
            case = session.get(Case, row.case_id)  # type: ignore[union-attr]
            _remind(session, case, row, now)  # type: ignore[arg-type]
            reminded.append(case.id)  # type: ignore[union-attr]
    if reminded:
        log.info("follow-ups due on %d cases", len(reminded))
    return reminded


def _remind(session: Session, case: Case, row: CaseFollowUp, now: datetime) -> Alert | None:
    if case.status in MOVES_TO_DUE:
        previous, case.status, case.updated_at = case.status, "follow_up_due", now
        session.add(case)
        event = CaseEvent(
            case_id=case.id,  # type: ignore[arg-type]
            at=now,
            kind="status",
            from_status=previous,
            to_status="follow_up_due",
            text="Follow-up due: check in with the person.",
        )
        session.add(event)
        session.flush()
        record(session, "system", "case.status_changed", "case", case.id,
               **{"from": previous, "to": "follow_up_due", "event_id": event.id})  # fmt: skip
    record(session, "system", "follow_up.due", "case", case.id, follow_up_id=row.id)
    due = _aware(row.due_at or now)
    return new_alert(
        session,
        # One reminder per due time: a snoozed follow-up reminds again at its new time.
        dedupe_key=f"follow-up:case:{case.id}:{due.isoformat()}",
        kind="follow_up",
        category=FOLLOW_UP_CATEGORY,
        severity="medium",
        roles=_who(session, case),
        case_id=case.id,
        created_at=now,
    )


def _who(session: Session, case: Case) -> list[str]:
    """The assignee's role, or the moderators; on a safeguarding case only the lead and deputy."""
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    return audience(case, [assignee.role] if assignee and assignee.active else ["moderator"])


def _aware(moment: datetime) -> datetime:
    # SQLite may hand back naive datetimes from aggregates; Haven stores UTC throughout.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
