"""Holds with an end: the safeguarding lead reviews each hold, and extends or releases it.

Policy 004 keeps texts three months "unless there is a valid reason to keep them". A hold is
that reason, and a reason must be looked at again: each hold has a review date (placed
`hold_review_months` ahead), the lead is reminded when it is due (an alert that names no one),
and on the holds page extends it, with a new date and a reason, or releases it, with a reason.
A released hold's texts follow normal retention again: the next tick removes those past the
period. Reasons are case notes (encrypted at rest, append-only); the audit log has the dates.
Only the safeguarding lead and deputy do any of this (the view checks the role).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.config.privacy import DataProtection
from bot.db import session_scope
from bot.models import Case, utcnow
from bot.models.alerts import Alert
from bot.models.dashboard import CaseEvent
from bot.models.privacy import PrivacyHold
from bot.notify.records import new_alert
from bot.privacy.holds import months_later

log = logging.getLogger(__name__)

HOLD_REVIEW = "hold_review"  # the alert's kind
MAX_REASON = 500
# A review date is a promise to look again, not a way round it.
LONGEST_EXTENSION_MONTHS = 120


class ReviewError(ValueError):
    """The lead's decision cannot be recorded as given; the message says why, for the form."""


@dataclass(frozen=True)
class HoldUnderReview:
    hold: PrivacyHold
    case: Case
    due: bool


def held_cases(session: Session, today: date) -> list[HoldUnderReview]:
    """Every hold in force with its case, those due for review first (oldest date first)."""
    rows = session.exec(
        select(PrivacyHold, Case)
        .join(Case, Case.id == PrivacyHold.case_id)
        .where(PrivacyHold.released_at.is_(None))
        .order_by(PrivacyHold.review_on, PrivacyHold.id)
    ).all()
    held = [HoldUnderReview(hold, case, _due(hold, today)) for hold, case in rows]
    return sorted(held, key=lambda h: not h.due)


def recently_released(session: Session, limit: int = 20) -> list[PrivacyHold]:
    return list(
        session.exec(
            select(PrivacyHold)
            .where(PrivacyHold.released_at.is_not(None))
            .order_by(PrivacyHold.released_at.desc())  # type: ignore[union-attr]
            .limit(limit)
        ).all()
    )


def extend_hold(
    session: Session, hold_id: int, *, review_on: date, reason: str, user_id: int, today: date
) -> PrivacyHold:
    """Keep the case's texts until a new review date, for a reason the lead gives."""
    hold = _in_force(session, hold_id)
    reason = _reason(reason)
    if review_on <= today:
        raise ReviewError("The new review date must be after today.")
    if review_on > months_later(today, LONGEST_EXTENSION_MONTHS):
        raise ReviewError("Choose a review date within ten years; you can extend again then.")
    previous = hold.review_on
    hold.review_on, hold.review_reminded_at = review_on, None
    session.add(hold)
    text = (
        f"Safeguarding hold extended: the messages on this case are kept, and the hold is "
        f"reviewed again on {review_on:%d %B %Y}. Reason: {reason}"
    )
    session.add(CaseEvent(case_id=hold.case_id, actor_id=user_id, kind="note", text=text))
    record(
        session, f"user:{user_id}", "privacy.hold_extended", "case", hold.case_id,
        hold_id=hold.id, review_on=review_on.isoformat(),
        previous=previous.isoformat() if previous else None,
    )  # fmt: skip
    return hold


def release_hold(
    session: Session, hold_id: int, *, reason: str, user_id: int, now: datetime | None = None
) -> PrivacyHold:
    """End the hold: the case's texts follow normal retention from the next tick."""
    hold = _in_force(session, hold_id)
    reason = _reason(reason)
    hold.released_at, hold.released_by = now or utcnow(), f"user:{user_id}"
    session.add(hold)
    text = (
        "Safeguarding hold released: the messages on this case now follow normal retention, "
        f"so those older than the retention period are removed at the next tick. Reason: {reason}"
    )
    session.add(CaseEvent(case_id=hold.case_id, actor_id=user_id, kind="note", text=text))
    record(
        session, f"user:{user_id}", "privacy.hold_released", "case", hold.case_id,
        hold_id=hold.id,
    )  # fmt: skip
    return hold


def remind_due_holds(
    session: Session, config: DataProtection, *, now: datetime | None = None
) -> Alert | None:
    """One alert to the safeguarding lead about the holds due for review, if any are waiting.

    A hold is reminded of once when it falls due, then every `hold_reminder_every_days` until
    the lead extends or releases it. The alert carries case numbers and a count, nothing else.
    """
    now = now or utcnow()
    again = now - timedelta(days=config.hold_reminder_every_days)
    waiting = session.exec(
        select(PrivacyHold)
        .where(
            PrivacyHold.released_at.is_(None),
            or_(PrivacyHold.review_on.is_(None), PrivacyHold.review_on <= now.date()),
            or_(PrivacyHold.review_reminded_at.is_(None), PrivacyHold.review_reminded_at <= again),
        )
        .order_by(PrivacyHold.case_id)
    ).all()
    if not waiting:
        return None
    cases = [hold.case_id for hold in waiting]
    # Two ticks racing over the same holds on the same day raise one alert between them.
    digest = hashlib.sha256(",".join(map(str, cases)).encode()).hexdigest()[:16]
    alert = new_alert(
        session,
        dedupe_key=f"{HOLD_REVIEW}:{now.date().isoformat()}:{digest}",
        kind=HOLD_REVIEW,
        severity="medium",
        roles=["safeguarding_lead"],
        facts={"cases": cases, "count": len(cases)},
        created_at=now,
    )
    for hold in waiting:
        hold.review_reminded_at = now
        session.add(hold)
        record(session, "system", "privacy.hold_review_due", "case", hold.case_id,
               hold_id=hold.id, alert_id=alert.id if alert else None)  # fmt: skip
    return alert


def run_hold_reminders(
    engine: Engine, config: DataProtection, *, now: datetime | None = None
) -> int:
    """The tick's timer: how many holds the lead was reminded of (0 if none, or on failure).

    A failure is logged and left for the next tick, like retention's: a reminder a minute late
    matters less than the timers after it.
    """
    try:
        with session_scope(engine) as session:
            alert = remind_due_holds(session, config, now=now)
            return int(alert.facts["count"]) if alert else 0
    except Exception as exc:
        log.warning("hold reminders failed (%s); the next tick tries again", type(exc).__name__)
        return 0


def _due(hold: PrivacyHold, today: date) -> bool:
    return hold.review_on is None or hold.review_on <= today


def _in_force(session: Session, hold_id: int) -> PrivacyHold:
    hold = session.get(PrivacyHold, hold_id)
    if hold is None:
        raise LookupError(f"hold {hold_id} does not exist")
    if hold.released_at is not None:
        raise ReviewError("This hold was released already.")
    return hold


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not 0 < len(reason) <= MAX_REASON:
        raise ReviewError(
            f"Say briefly why (up to {MAX_REASON} characters; initials and dates, no names)."
        )
    return reason
