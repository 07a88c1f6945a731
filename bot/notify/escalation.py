"""The safeguarding override's escalation: page the lead at once, and keep paging until someone
acknowledges.

    (risk on a case with no open escalation)
        -> open, level 0: the lead (and the deputy, if `page_deputy_at_once`) on their channels;
           next step at opened + acknowledge_within_minutes
    open, level n, next step due and nobody has acknowledged
        -> open, level n+1: lead and deputy on their channels plus their `second_channels`;
           next step at now + repeat_every_minutes (for ever, until acknowledged)
    open -> acknowledged  (a lead or deputy confirms, from the link or the inbox; terminal)
    open -> stopped       (the case was closed without an acknowledgement; terminal)

More risk on a case whose escalation is open joins it; after it has ended, a new one opens.
Every step is written to the audit log against the case. Times come in as `now`, so tests
drive the clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.audit import record
from bot.config.alerts import Alerts
from bot.db import session_scope
from bot.models import Case, Item, utcnow
from bot.models.alerts import Alert, AlertDelivery, Escalation
from bot.notify.records import new_alert

log = logging.getLogger(__name__)

LEAD, DEPUTY = "safeguarding_lead", "safeguarding_deputy"


def _open_key(case_id: int) -> str:
    return f"case:{case_id}"


def open_or_join_escalation(
    session: Session,
    alerts: Alerts,
    case: Case,
    item: Item,
    category: str,
    severity: str,
    out_of_hours: bool,
    now: datetime,
) -> Alert | None:
    """Open an escalation for the case and page level 0; None if one was already open."""
    key = _open_key(case.id)
    existing = session.exec(select(Escalation).where(Escalation.open_key == key)).first()
    if existing is None:
        escalation = Escalation(
            case_id=case.id,
            item_id=item.id,
            open_key=key,
            category=category,
            severity=severity,
            out_of_hours=out_of_hours,
            opened_at=now,
            next_step_at=now + timedelta(minutes=alerts.escalation.acknowledge_within_minutes),
        )
        try:
            with session.begin_nested():
                session.add(escalation)
        except IntegrityError:  # another worker opened it a moment ago: join theirs
            existing = session.exec(select(Escalation).where(Escalation.open_key == key)).one()
    if existing is not None:
        record(
            session,
            "system",
            "escalation.joined",
            "case",
            case.id,
            escalation_id=existing.id,
            item_id=item.id,
            category=category,
        )
        return None
    record(
        session,
        "system",
        "escalation.opened",
        "case",
        case.id,
        escalation_id=escalation.id,
        item_id=item.id,
        category=category,
        out_of_hours=out_of_hours,
    )
    return page(session, alerts, escalation, now)


def page(session: Session, alerts: Alerts, escalation: Escalation, now: datetime) -> Alert | None:
    """Raise the alert for the escalation's current level (routing picks the channels)."""
    level = escalation.level
    roles = [LEAD, DEPUTY] if level > 0 or alerts.escalation.page_deputy_at_once else [LEAD]
    alert = new_alert(
        session,
        dedupe_key=f"escalation:{escalation.id}:level:{level}",
        kind="escalation",
        category=escalation.category,
        severity=escalation.severity,
        roles=roles,
        case_id=escalation.case_id,
        item_id=escalation.item_id,
        escalation_id=escalation.id,
        level=level,
        out_of_hours=escalation.out_of_hours,
        created_at=now,
    )
    action = "escalation.paged" if level == 0 else "escalation.re_escalated"
    record(
        session,
        "system",
        action,
        "case",
        escalation.case_id,
        escalation_id=escalation.id,
        level=level,
        roles=roles,
        next_step_at=_iso(escalation.next_step_at),
    )
    if not any(alerts.has_contacts(r) for r in roles):
        # Still in the inbox, but nobody is reached outside the dashboard: make that loud.
        log.warning("escalation %s: no channel configured for %s", escalation.id, "/".join(roles))
    return alert


def step_escalations(engine: Engine, alerts: Alerts, *, now: datetime | None = None) -> int:
    """Re-escalate every open escalation whose time is up; returns how many stepped."""
    now = now or utcnow()
    with Session(engine) as session:
        due = session.exec(
            select(Escalation.id, Escalation.level).where(
                Escalation.status == "open", Escalation.next_step_at <= now
            )
        ).all()
    stepped = 0
    for escalation_id, level in due:
        with session_scope(engine) as session:
            stepped += _step(session, alerts, escalation_id, level, now)
    return stepped


def _step(session: Session, alerts: Alerts, escalation_id: int, level: int, now: datetime) -> int:
    escalation = session.get(Escalation, escalation_id)
    case = session.get(Case, escalation.case_id)
    if case is None or case.status == "closed":
        _end(session, escalation, "stopped", now)
        record(
            session,
            "system",
            "escalation.stopped",
            "case",
            escalation.case_id,
            escalation_id=escalation.id,
            reason="case closed",
        )
        return 0
    # The level in the WHERE is the lock: two ticks racing step it once.
    claimed = session.exec(
        update(Escalation)
        .where(
            Escalation.id == escalation_id,
            Escalation.status == "open",
            Escalation.level == level,
        )
        .values(
            level=level + 1,
            next_step_at=now + timedelta(minutes=alerts.escalation.repeat_every_minutes),
        )
    )
    if claimed.rowcount != 1:
        return 0
    session.refresh(escalation)
    page(session, alerts, escalation, now)
    return 1


def acknowledge(
    session: Session, escalation: Escalation, *, user_id: int, via: str, now: datetime
) -> bool:
    """A lead or deputy takes it on: paging stops. False if it had already ended."""
    ended = session.exec(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.status == "open")
        .values(
            status="acknowledged",
            open_key=None,
            next_step_at=None,
            acknowledged_at=now,
            acknowledged_by=user_id,
            ended_at=now,
        )
    )
    if ended.rowcount != 1:
        return False
    session.refresh(escalation)
    _quieten(session, escalation.id, user_id, now)
    minutes = round((now - escalation.opened_at).total_seconds() / 60, 1)
    record(
        session,
        f"user:{user_id}",
        "escalation.acknowledged",
        "case",
        escalation.case_id,
        escalation_id=escalation.id,
        level=escalation.level,
        via=via,
        minutes_after_opening=minutes,
    )
    return True


def _end(session: Session, escalation: Escalation, status: str, now: datetime) -> None:
    escalation.status, escalation.open_key = status, None
    escalation.next_step_at, escalation.ended_at = None, now
    session.add(escalation)
    _quieten(session, escalation.id, None, now)


def _quieten(session: Session, escalation_id: int, user_id: int | None, now: datetime) -> None:
    """Its alerts are dealt with, and pages not yet sent are not sent."""
    alert_ids = select(Alert.id).where(Alert.escalation_id == escalation_id)
    session.exec(
        update(Alert)
        .where(Alert.escalation_id == escalation_id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=user_id)
    )
    session.exec(
        update(AlertDelivery)
        .where(AlertDelivery.alert_id.in_(alert_ids), AlertDelivery.status == "pending")
        .values(status="cancelled", updated_at=now)
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
