"""Safeguarding holds: the cases whose messages retention and erasure keep, with the reason.

A safeguarding case (the override made it one, or an escalation was opened on it) may be read
in a safeguarding review long after the retention period, and an erasure request does not
outweigh that. The hold is a row on the case, placed automatically the first time retention or
erasure meets the case, so the report can say what is held and why. Each hold has a review date
on which the safeguarding lead extends or releases it (bot/privacy/hold_reviews.py).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.audit import record
from bot.db import add_unless_taken
from bot.models import Case, utcnow
from bot.models.alerts import Escalation
from bot.models.privacy import PrivacyHold

DEFAULT_REVIEW_MONTHS = 12
SAFEGUARDING_REASON = (
    "safeguarding case: messages kept for safeguarding review, beyond the retention period "
    "and an erasure request"
)


def safeguarding_cases(case_ids: Iterable[int] | None = None) -> object:
    """A query for the ids of safeguarding cases (among `case_ids`, when given)."""
    query = select(Case.id).where(
        or_(Case.case_type == "safeguarding", col(Case.id).in_(select(Escalation.case_id)))
    )
    if case_ids is not None:
        query = query.where(col(Case.id).in_(list(case_ids)))
    return query


def months_later(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 January + 1 is 28 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def place_safeguarding_holds(
    session: Session,
    actor: str,
    case_ids: Iterable[int] | None = None,
    *,
    review_months: int = DEFAULT_REVIEW_MONTHS,
) -> list[int]:
    """Hold every safeguarding case (among `case_ids`) not held before; returns the new ones.

    A hold that was released stays released: its row is there, so it is not placed again.
    Each new hold is due for review `review_months` from today.
    """
    candidates = set(session.exec(safeguarding_cases(case_ids)).all())  # type: ignore[call-overload]
    if not candidates:
        return []
    existing = set(
        session.exec(select(PrivacyHold.case_id).where(col(PrivacyHold.case_id).in_(candidates)))
    )
    placed = []
    review_on = months_later(utcnow().date(), review_months)
    for case_id in sorted(candidates - existing):
        hold = PrivacyHold(
            case_id=case_id, reason=SAFEGUARDING_REASON, placed_by=actor, review_on=review_on
        )
        # Another process placing the same hold a moment ago wins quietly.
        if not add_unless_taken(session, hold):
            continue
        record(
            session, actor, "privacy.hold_placed", "case", case_id,
            reason="safeguarding", review_on=review_on.isoformat(),
        )  # fmt: skip
        placed.append(case_id)
    return placed


def held_case_ids(session: Session, case_ids: Iterable[int] | None = None) -> set[int]:
    """Cases with a hold in force (among `case_ids`, when given)."""
    query = select(PrivacyHold.case_id).where(PrivacyHold.released_at.is_(None))
    if case_ids is not None:
        query = query.where(col(PrivacyHold.case_id).in_(list(case_ids)))
    return set(session.exec(query).all())


def would_hold(session: Session, case_ids: Iterable[int]) -> set[int]:
    """The cases an erasure would keep now: holds in force, and safeguarding cases not held
    yet (which it would hold). A released hold stays released."""
    cases = list(case_ids)
    never_held = safeguarding_cases(cases).where(  # type: ignore[attr-defined]
        col(Case.id).not_in(select(PrivacyHold.case_id))
    )
    return held_case_ids(session, cases) | set(session.exec(never_held).all())


def active_holds(session: Session) -> list[PrivacyHold]:
    return list(
        session.exec(
            select(PrivacyHold).where(PrivacyHold.released_at.is_(None)).order_by(PrivacyHold.id)
        ).all()
    )
