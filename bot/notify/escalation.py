"""The safeguarding override's escalation: page the lead at once, and keep paging until someone
acknowledges.

    (a case escalated, by a rule or a person, with no open escalation: bot/cases/escalation.py)
        -> open, level 0: the lead (and the deputy, if `page_deputy_at_once`) on their channels;
           next step at opened + acknowledge_within_minutes
    open, level n, next step due and nobody has acknowledged
        -> open, level n+1: lead and deputy on their channels plus their `second_channels`;
           next step at now + repeat_every_minutes (for ever, until acknowledged)
    open -> acknowledged  (a lead or deputy confirms, from the link, the inbox or the case
                           page; terminal, and the case is theirs)
    open -> stopped       (the case was closed without an acknowledgement; terminal)

Each page goes to the lead and deputy on duty at that moment (bot/notify/duty.py), so a shift
that ends does not take an unanswered escalation home with it; a slot the rota leaves empty
pages everyone in the role. More risk on a case whose escalation is open joins it; after it
has ended, a new one opens. Every step is written to the audit log against the case. Times
come in as `now`, so tests drive the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.status import assign
from bot.config import HavenConfig
from bot.config.voices import page_config
from bot.db import add_unless_taken, session_scope
from bot.models import Case, utcnow
from bot.models.alerts import Alert, AlertDelivery, Escalation
from bot.notify.duty import on_duty
from bot.notify.records import new_alert

log = logging.getLogger(__name__)

LEAD, DEPUTY = "safeguarding_lead", "safeguarding_deputy"


def _open_key(case_id: int) -> str:
    return f"case:{case_id}"


@dataclass(frozen=True)
class Opened:
    escalation: Escalation
    # The level-0 page, when this call opened the escalation; None when it joined one.
    alert: Alert | None
    joined: bool


def open_or_join_escalation(
    session: Session,
    config: HavenConfig,
    case: Case,
    item_id: int | None,
    category: str,
    severity: str,
    out_of_hours: bool,
    now: datetime,
    *,
    actor: str = "system",
    raised_by: str | None = None,
) -> Opened:
    """Open an escalation for the case and page level 0, or join the one already open."""
    key = _open_key(case.id)
    existing = open_escalation(session, case.id)
    if existing is None:
        escalation = Escalation(
            case_id=case.id,
            item_id=item_id,
            open_key=key,
            category=category,
            severity=severity,
            out_of_hours=out_of_hours,
            opened_at=now,
            next_step_at=now
            + timedelta(minutes=config.alerts.escalation.acknowledge_within_minutes),
        )
        if not add_unless_taken(session, escalation):
            # Another worker opened it a moment ago: join theirs.
            existing = session.exec(select(Escalation).where(Escalation.open_key == key)).one()
    if existing is not None:
        record(
            session,
            actor,
            "escalation.joined",
            "case",
            case.id,
            escalation_id=existing.id,
            item_id=item_id,
            category=category,
        )
        return Opened(existing, None, joined=True)
    record(
        session,
        actor,
        "escalation.opened",
        "case",
        case.id,
        escalation_id=escalation.id,
        item_id=item_id,
        category=category,
        out_of_hours=out_of_hours,
    )
    facts = {"raised_by": raised_by} if raised_by else {}
    return Opened(escalation, page(session, config, escalation, now, facts), joined=False)


def page(
    session: Session,
    config: HavenConfig,
    escalation: Escalation,
    now: datetime,
    facts: dict[str, Any] | None = None,
) -> Alert | None:
    """Raise the alert for the escalation's current level (routing picks the channels)."""
    # The case's page may have its own lead and deputy (voices in config.yaml).
    case = session.get(Case, escalation.case_id)
    config = page_config(config, case.account_id if case else None)
    alerts = config.alerts
    level = escalation.level
    roles = [LEAD, DEPUTY] if level > 0 or alerts.escalation.page_deputy_at_once else [LEAD]
    facts = dict(facts or {})
    if alerts.rota.shifts:
        duty = on_duty(alerts.rota, config.organisation.timezone, now)
        # Usernames of the staff on duty, for routing (bot/notify/delivery.py); a role left
        # out is a gap in the rota, and everyone in it is paged.
        facts["on_duty"] = {r: duty.name(r) for r in roles if duty.name(r)}
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
        facts=facts,
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
        on_duty=facts.get("on_duty"),
        next_step_at=_iso(escalation.next_step_at),
    )
    if not any(alerts.has_contacts(r) for r in roles):
        # Still in the inbox, but nobody is reached outside the dashboard: make that loud.
        log.warning("escalation %s: no channel configured for %s", escalation.id, "/".join(roles))
    return alert


def step_escalations(engine: Engine, config: HavenConfig, *, now: datetime | None = None) -> int:
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
            stepped += _step(session, config, escalation_id, level, now)
    return stepped


def _step(
    session: Session, config: HavenConfig, escalation_id: int, level: int, now: datetime
) -> int:
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
            next_step_at=now + timedelta(minutes=config.alerts.escalation.repeat_every_minutes),
        )
    )
    if claimed.rowcount != 1:
        return 0
    session.refresh(escalation)
    page(session, config, escalation, now)
    return 1


def open_escalation(session: Session, case_id: int) -> Escalation | None:
    """The case's escalation that is still paging, if any."""
    key = _open_key(case_id)
    return session.exec(select(Escalation).where(Escalation.open_key == key)).first()


def acknowledge(
    session: Session, escalation: Escalation, *, user_id: int, via: str, now: datetime
) -> bool:
    """A lead or deputy takes it on: paging stops, and the case is theirs ("I'm dealing with
    this" is what the button says). False if it had already ended."""
    # Lock order: a delivery job locks its delivery, then (issuing the acknowledge link) takes
    # a key-share lock on the escalation; clearing `open_key`, a unique column, locks the
    # escalation FOR UPDATE. Taking the pending deliveries first, as the job does, means the
    # two queue one behind the other instead of each waiting for the other (a deadlock seen
    # under load on PostgreSQL).
    session.exec(
        select(AlertDelivery.id)
        .where(
            AlertDelivery.alert_id.in_(  # type: ignore[attr-defined]
                select(Alert.id).where(Alert.escalation_id == escalation.id)
            ),
            AlertDelivery.status == "pending",
        )
        .order_by(AlertDelivery.id)
        .with_for_update()
    ).all()
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
    case = session.get(Case, escalation.case_id)
    if case is not None and case.assignee_id != user_id:
        assign(session, case, user_id, now, actor_id=user_id, reason="acknowledged the escalation")
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
