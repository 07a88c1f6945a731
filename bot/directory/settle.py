"""Ending introductions: one at a time, or all a case can no longer keep.

Declined or withdrawn consent cancels every pending introduction of the case; a closed case
cancels pending ones and closes made ones, giving their places back. The steps (bot/
directory_intro.py) settle the case first, and the tick settles cases changed elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from bot.audit import record
from bot.db import session_scope
from bot.models import Case, utcnow
from bot.models.directory import (
    LIVE_STATUSES,
    PENDING_STATUSES,
    Introduction,
    SupportResource,
)

STOPPED_CONSENT = ("declined", "withdrawn")
# Closing is for a made introduction (the support finished); declining for a pending one.
ENDS_FROM = {"closed": ("introduced",), "declined": PENDING_STATUSES, "cancelled": LIVE_STATUSES}


def actor_name(user_id: int | None) -> str:
    return f"user:{user_id}" if user_id is not None else "system"


def end_one(
    session: Session,
    intro: Introduction,
    status: str,
    reason: str,
    actor_id: int | None,
    now: datetime,
) -> bool:
    """End one introduction if it is still in a state that can end that way; True if so."""
    changed = set_status(
        session,
        intro,
        ENDS_FROM[status],
        status,
        now,
        ended_at=now,
        ended_by=actor_id,
        end_reason=reason[:300],
        live_key=None,
    )
    if not changed:
        return False
    was_introduced = changed == "introduced"
    if was_introduced:
        # A place is free again (never below zero, if an admin corrected the load by hand).
        session.execute(
            update(SupportResource)
            .where(col(SupportResource.id) == intro.resource_id, col(SupportResource.load) > 0)
            .values(load=SupportResource.load - 1, updated_at=now)
        )
    record(
        session,
        actor_name(actor_id),
        f"introduction.{status}",
        "introduction",
        intro.id,
        case_id=intro.case_id,
        resource_id=intro.resource_id,
        reason=reason[:300],
        place_freed=was_introduced,
    )
    return True


def set_status(
    session: Session,
    intro: Introduction,
    allowed: Iterable[str],
    target: str,
    now: datetime,
    **values: object,
) -> str | None:
    """Compare-and-set: move on only from an allowed status; returns the status it left."""
    before = intro.status
    if before not in allowed:
        return None
    condition: ColumnElement[bool] = (col(Introduction.id) == intro.id) & (
        col(Introduction.status) == before
    )
    result = session.execute(
        update(Introduction).where(condition).values(status=target, updated_at=now, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(intro)
    return before


def settle_case(
    session: Session, case_id: int, *, actor_id: int | None = None, now: datetime | None = None
) -> int:
    """Cancel what can no longer go ahead: pending ones once consent stops or the case
    closes, and made ones once the case closes (their places are freed). Returns how many."""
    now = now or utcnow()
    case = session.get(Case, case_id)
    if case is None:
        return 0
    if case.status == "closed":
        ending, reason = LIVE_STATUSES, "case closed"
    elif case.consent in STOPPED_CONSENT:
        ending, reason = PENDING_STATUSES, f"consent {case.consent}"
    else:
        return 0
    intros = session.exec(
        select(Introduction).where(
            Introduction.case_id == case_id, col(Introduction.status).in_(ending)
        )
    ).all()
    target = {i.id: "closed" if i.status == "introduced" else "cancelled" for i in intros}
    return sum(end_one(session, i, target[i.id], reason, actor_id, now) for i in intros)


def settle_all(session: Session, *, now: datetime | None = None) -> int:
    """The tick's sweep: settle every case with a live introduction that can no longer stand."""
    stale = session.exec(
        select(Introduction.case_id)
        .join(Case, col(Case.id) == Introduction.case_id)
        .where(
            col(Introduction.status).in_(LIVE_STATUSES),
            (col(Case.status) == "closed") | col(Case.consent).in_(STOPPED_CONSENT),
        )
        .distinct()
    ).all()
    return sum(settle_case(session, case_id, now=now) for case_id in stale)


def settle_introductions(engine: Engine) -> int:
    """The tick's timer: cases closed or consent withdrawn elsewhere end their introductions."""
    with session_scope(engine) as session:
        return settle_all(session)
