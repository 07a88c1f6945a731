"""From alerts to deliveries, and one delivery at a time to its channel, with back-off.

Routing (which roles, on which channels, to which addresses) needs config.yaml, raising an alert
does not, so it happens here, just after the alert's transaction has committed. Each delivery is
its own job with its own row: a dead mail server delays only its own messages, each failure is
on the row for the dashboard to show, and retries are times in the database, not in Redis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import Audience, alert_audience, is_safeguarding_category
from bot.config import HavenConfig
from bot.config.alerts import EMAIL, SMS, Alerts
from bot.db import session_scope
from bot.models import utcnow
from bot.models.alerts import AckLink, Alert, AlertDelivery, Escalation
from bot.notify.alerts import category_route
from bot.notify.channels import send
from bot.notify.render import render
from bot.tasks import Enqueuer

log = logging.getLogger(__name__)

DELIVER_ALERT = "workers.alerts.deliver_alert"
DISPATCH_ALERTS = "workers.alerts.dispatch_alerts"
FINAL = frozenset({"sent", "failed", "cancelled"})
# A 'sending' row older than this belongs to a worker that died (SMTP times out long before).
IN_FLIGHT = timedelta(minutes=2)


@dataclass(frozen=True)
class Target:
    channel: str
    recipient: str
    role: str | None


def targets(alerts: Alerts, alert: Alert, audience: Audience) -> list[Target]:
    """Who hears of an alert, and how (the inbox always; these are the channels beyond it).

    `audience` is who may know of it now (bot/cases/access.py): about anything on a
    safeguarding case, the lead and deputy alone, on their own channels; a category's shared
    channels (a moderators' chat) carry it only if that category is itself a safeguarding one.
    """
    found: list[Target] = []
    if alert.kind in ("partner", "partner_summary"):
        partner = alerts.partner(alert.partner or "")
        if partner is not None:
            found = _expand(alerts, partner.channels, partner.email, None)
    elif alert.kind == "digest":
        found = _expand(alerts, (EMAIL,), alerts.digest.email, None)
    else:
        route = category_route(alerts, alert.category)
        if audience.safeguarding and not is_safeguarding_category(alert.category):
            route = None
        on_duty = alert.facts.get("on_duty", {}) if alert.kind == "escalation" else {}
        for role in audience.roles:
            # The person the rota had on duty when the page was raised; else everyone in the role.
            contacts = alerts.people.get(on_duty.get(role, "")) or alerts.roles.get(role)  # type: ignore[call-overload]
            if contacts is None:
                continue
            channels = route.channels if route and route.channels is not None else contacts.channels
            if alert.kind == "escalation" and alert.level > 0:
                channels = channels + contacts.second_channels  # "and by a second channel"
            found += _expand(alerts, channels, contacts.email, role, contacts.phones)
    unique: dict[tuple[str, str], Target] = {}
    for target in found:
        unique.setdefault((target.channel, target.recipient), target)
    return list(unique.values())


def _expand(
    alerts: Alerts,
    channels: tuple[str, ...],
    emails: tuple[str, ...],
    role: str | None,
    phones: tuple[str, ...] = (),
) -> list[Target]:
    found = []
    for channel in channels:
        if channel == EMAIL:
            if alerts.email.enabled:
                found += [Target(EMAIL, address, role) for address in emails]
        elif channel == SMS:
            if alerts.sms.enabled:
                found += [Target(SMS, number, role) for number in phones]
        elif alerts.webhook(channel) is not None:
            found.append(Target(channel, channel, role))
    return found


def route_alerts(engine: Engine, alerts: Alerts, *, now: datetime | None = None) -> int:
    """Create the deliveries of every alert not yet routed; returns how many were made."""
    now = now or utcnow()
    with Session(engine) as session:
        waiting = session.exec(select(Alert.id).where(Alert.routed_at.is_(None))).all()
    made = 0
    for alert_id in waiting:
        with session_scope(engine) as session:
            # Claiming routed_at is the lock: two dispatchers route an alert once.
            claimed = session.exec(
                update(Alert)
                .where(Alert.id == alert_id, Alert.routed_at.is_(None))
                .values(routed_at=now)
            )
            if claimed.rowcount != 1:
                continue
            alert = session.get(Alert, alert_id)
            for target in targets(alerts, alert, alert_audience(session, alert)):
                session.add(
                    AlertDelivery(
                        alert_id=alert_id,
                        channel=target.channel,
                        recipient=target.recipient,
                        role=target.role,
                        created_at=now,
                        updated_at=now,
                    )
                )
                made += 1
    return made


def due_deliveries(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """Deliveries to try now: new, retry time reached, or left 'sending' by a dead worker."""
    now = now or utcnow()
    with Session(engine) as session:
        return list(session.exec(select(AlertDelivery.id).where(_due(now))).all())


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            AlertDelivery.status == "pending",
            or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now),
        ),
        and_(AlertDelivery.status == "sending", AlertDelivery.started_at < now - IN_FLIGHT),
    )


def dispatch(
    engine: Engine, enqueuer: Enqueuer, alerts: Alerts, *, now: datetime | None = None
) -> int:
    """Route new alerts and enqueue every delivery that is due; returns how many were enqueued."""
    route_alerts(engine, alerts, now=now)
    due = due_deliveries(engine, now=now)
    for delivery_id in due:
        # Retries are the row's own times (see `deliver`), so the queue must not add its own.
        enqueuer.enqueue(
            DELIVER_ALERT, delivery_id, job_id=f"alert-delivery-{delivery_id}", retry=False
        )
    return len(due)


def dispatch_soon(enqueuer: Enqueuer, alert_id: int | None) -> None:
    """Route and send an alert raised outside a job (a person escalating on the dashboard) now,
    not at the next tick. Call after the commit; the tick still catches it if this is lost."""
    if alert_id is not None:
        enqueuer.enqueue(DISPATCH_ALERTS, job_id=f"dispatch-alert-{alert_id}", retry=False)


def deliver(
    engine: Engine,
    config: HavenConfig,
    delivery_id: int,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Send one delivery if it is due; returns its status ('sent', 'pending' to retry, ...)."""
    now = now or utcnow()
    environ = os.environ if environ is None else environ
    with session_scope(engine) as session:
        claimed = session.exec(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, _due(now))
            .values(
                status="sending",
                attempts=AlertDelivery.attempts + 1,
                started_at=now,
                updated_at=now,
            )
        )
        delivery = session.get(AlertDelivery, delivery_id)
        if delivery is None:
            raise LookupError(f"alert delivery {delivery_id} does not exist")
        if claimed.rowcount != 1:
            return delivery.status
        alert = session.get(Alert, delivery.alert_id)
        escalation = session.get(Escalation, alert.escalation_id) if alert.escalation_id else None
        if _not_needed(session, config.alerts, alert, escalation, delivery):
            delivery.status, delivery.updated_at = "cancelled", now
            session.add(delivery)
            return "cancelled"
        ack_url = None
        if escalation is not None:
            ack_url = _issue_ack_link(session, config.alerts, escalation, delivery, now)
        message = render(alert, config, ack_url=ack_url)
        channel, recipient = delivery.channel, delivery.recipient
    # Committed before sending: the link in the message works as soon as it arrives.
    try:
        send(config.alerts, channel, recipient, message, environ)
    except Exception as exc:
        return _attempt_failed(engine, config.alerts, delivery_id, exc, now)
    with session_scope(engine) as session:
        delivery = session.get(AlertDelivery, delivery_id)
        delivery.status, delivery.sent_at, delivery.updated_at = "sent", now, now
        delivery.last_error = None
        session.add(delivery)
        _record(session, delivery, "alert.delivered")
    log.info("alert delivery %s sent via %s", delivery_id, channel)
    return "sent"


def _not_needed(
    session: Session,
    alerts: Alerts,
    alert: Alert,
    escalation: Escalation | None,
    delivery: AlertDelivery,
) -> bool:
    """Acknowledged (or closed) since this page was queued, so nobody needs it now; or no
    longer theirs to know: what it is about joined a safeguarding case since it was routed."""
    if escalation is not None and escalation.status != "open":
        return True
    audience = alert_audience(session, alert)
    if not audience.safeguarding:
        return False
    wanted = {(t.channel, t.recipient) for t in targets(alerts, alert, audience)}
    return (delivery.channel, delivery.recipient) not in wanted


def _issue_ack_link(
    session: Session,
    alerts: Alerts,
    escalation: Escalation,
    delivery: AlertDelivery,
    now: datetime,
) -> str:
    """A fresh unguessable token per message; only its hash is kept (see alerts_views)."""
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    session.add(
        AckLink(
            token_sha256=digest, escalation_id=escalation.id, delivery_id=delivery.id, issued_at=now
        )
    )
    # In the query string, not the path: web servers log paths, not query strings.
    return f"{alerts.dashboard_url}/alerts/ack?t={token}"


def _attempt_failed(
    engine: Engine, alerts: Alerts, delivery_id: int, exc: Exception, now: datetime
) -> str:
    error = str(exc)[:500] or type(exc).__name__
    retries = alerts.delivery.retry_minutes
    with session_scope(engine) as session:
        delivery = session.get(AlertDelivery, delivery_id)
        delivery.last_error, delivery.updated_at = error, now
        if delivery.attempts <= len(retries):
            wait = timedelta(minutes=retries[delivery.attempts - 1])
            delivery.status, delivery.next_attempt_at = "pending", now + wait
            log.warning(
                "alert delivery %s via %s failed (attempt %d); retry in %s",
                delivery_id,
                delivery.channel,
                delivery.attempts,
                wait,
            )
        else:
            delivery.status = "failed"
            _record(session, delivery, "alert.delivery_failed", error=error)
            log.error("alert delivery %s via %s failed for good", delivery_id, delivery.channel)
        session.add(delivery)
        return delivery.status


def _record(session: Session, delivery: AlertDelivery, action: str, **detail: object) -> None:
    alert = session.get(Alert, delivery.alert_id)
    subject = ("case", alert.case_id) if alert.case_id else ("alert", alert.id)
    record(
        session,
        "system",
        action,
        *subject,
        alert_id=alert.id,
        kind=alert.kind,
        level=alert.level,
        channel=delivery.channel,
        role=delivery.role,
        attempts=delivery.attempts,
        **detail,
    )
