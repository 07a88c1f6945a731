"""The alerts inbox and acknowledge links.

An acknowledge link (`/alerts/ack?t=TOKEN`) is a reference, not a credential: the token is 256
random bits, kept only as a SHA-256, valid for `ack_link_valid_hours`, and opening it needs a
signed-in lead or deputy who then presses a button (a POST with a CSRF token). Mail scanners
and link previews open every link in an email; if a GET acknowledged, a risk escalation could
be silenced without any person having seen it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import update
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import (
    alert_ids_seen,
    alerts_seen,
    count_alerts_seen,
    may_see_alert,
    sees_safeguarding,
)
from bot.db import session_scope
from bot.models import User, utcnow
from bot.models.alerts import AckLink, Alert, AlertDelivery, Escalation
from bot.notify.escalation import acknowledge
from bot.notify.hours import local

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
INBOX_SIZE = 100


def alerts_waiting() -> dict[str, int]:
    """How many alerts this user has to look at, for every page (a context processor)."""
    if not current_user.is_authenticated:
        return {"alerts_waiting": 0}
    # A few small columns of the unacknowledged alerts only: this runs on every page.
    with Session(_context().engine) as session:
        waiting = count_alerts_seen(session, current_user.role, Alert.acknowledged_at.is_(None))
    return {"alerts_waiting": waiting}


def _context():  # type: ignore[no-untyped-def]
    return current_app.extensions["haven"]


@bp.get("/")
@login_required
def inbox() -> ResponseReturnValue:
    role = current_user.role
    alerts_config = _context().settings.config.alerts
    with Session(_context().engine) as session:
        visible = alerts_seen(session, role, limit=INBOX_SIZE, scan=INBOX_SIZE * 5)
        deliveries = _deliveries_of(session, [a.id for a in visible])
        problems = session.exec(
            select(AlertDelivery, Alert)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .where(AlertDelivery.status.in_(("failed", "pending")), AlertDelivery.attempts > 0)
            .order_by(AlertDelivery.updated_at.desc())
            .limit(INBOX_SIZE)
        ).all()
        escalations = session.exec(select(Escalation).where(Escalation.status == "open")).all()
        seen = alert_ids_seen(session, role, {a.id for _, a in problems})
    # Admins keep the mail server running, so they see every failure, but a safeguarding
    # one without its category or case: that it failed is theirs to know, not what about.
    if not sees_safeguarding(role) and role != "admin":
        problems = [(d, a) for d, a in problems if a.id in seen]
    return render_template(
        "alerts/inbox.html",
        alerts=visible,
        deliveries=deliveries,
        problems=problems,
        escalations=escalations,
        can_see=lambda alert: alert.id in seen,
        sees_safeguarding=sees_safeguarding(role),
        lead_unreachable=not alerts_config.has_contacts("safeguarding_lead"),
        when=_when,
    )


def _deliveries_of(session: Session, alert_ids: list[int]) -> dict[int, list[AlertDelivery]]:
    found: dict[int, list[AlertDelivery]] = {}
    if alert_ids:
        rows = session.exec(select(AlertDelivery).where(AlertDelivery.alert_id.in_(alert_ids)))
        for delivery in rows.all():
            found.setdefault(delivery.alert_id, []).append(delivery)
    return found


@bp.post("/<int:alert_id>/acknowledge")
@login_required
def acknowledge_alert(alert_id: int) -> ResponseReturnValue:
    now = utcnow()
    with session_scope(_context().engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None or not may_see_alert(session, current_user.role, alert):
            abort(404)
        if alert.escalation_id is not None:
            escalation = session.get(Escalation, alert.escalation_id)
            acknowledge(session, escalation, user_id=current_user.id, via="inbox", now=now)
        else:
            done = session.exec(
                update(Alert)
                .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=current_user.id)
            )
            if done.rowcount == 1:
                subject = ("case", alert.case_id) if alert.case_id else ("alert", alert.id)
                record(
                    session,
                    f"user:{current_user.id}",
                    "alert.acknowledged",
                    *subject,
                    alert_id=alert.id,
                    kind=alert.kind,
                )
    return redirect(f"{request.script_root}/alerts/")


@bp.post("/escalations/<int:escalation_id>/acknowledge")
@login_required
def acknowledge_escalation(escalation_id: int) -> ResponseReturnValue:
    if not sees_safeguarding(current_user.role):
        abort(404)
    with session_scope(_context().engine) as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            abort(404)
        acknowledge(session, escalation, user_id=current_user.id, via="inbox", now=utcnow())
    return redirect(f"{request.script_root}/alerts/")


@bp.route("/ack", methods=["GET", "POST"])
@login_required
def acknowledge_link() -> ResponseReturnValue:
    """GET shows what the link is for; only the POST acknowledges (see the module docstring)."""
    token = request.values.get("t", "")
    now = utcnow()
    hours = _context().settings.config.alerts.escalation.ack_link_valid_hours
    with session_scope(_context().engine) as session:
        link = _link(session, token)
        if link is None:
            return render_template("alerts/ack.html", state="unknown"), 404
        escalation = session.get(Escalation, link.escalation_id)
        if not sees_safeguarding(current_user.role):
            # Refused looks are on the record too, as for safeguarding cases.
            record(
                session,
                f"user:{current_user.id}",
                "escalation.ack_refused",
                "case",
                escalation.case_id,
                escalation_id=escalation.id,
            )
            return render_template("alerts/ack.html", state="refused"), 403
        if escalation.status != "open":
            by = (
                session.get(User, escalation.acknowledged_by)
                if escalation.acknowledged_by
                else None
            )
            return render_template(
                "alerts/ack.html", state="done", escalation=escalation, by=by, when=_when
            )
        if link.issued_at + timedelta(hours=hours) < now:
            return render_template("alerts/ack.html", state="expired"), 410
        if request.method == "POST":
            acknowledge(session, escalation, user_id=current_user.id, via="link", now=now)
            link.used_at, link.used_by = now, current_user.id
            session.add(link)
            return redirect(f"{request.script_root}/cases/{escalation.case_id}")
    return render_template(
        "alerts/ack.html", state="confirm", escalation=escalation, token=token, when=_when
    )


def _link(session: Session, token: str) -> AckLink | None:
    if not 20 <= len(token) <= 100:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return session.exec(select(AckLink).where(AckLink.token_sha256 == digest)).first()


def _when(moment) -> str:  # type: ignore[no-untyped-def]
    if moment is None:
        return ""
    here = local(moment, _context().settings.config.organisation.timezone)
    return f"{here:%a %d %b %H:%M}"
