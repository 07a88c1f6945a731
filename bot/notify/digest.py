"""Scheduled alerts: the weekly digest (policy 001's weekly check) and the partner agencies'
same-day written summaries (policy 004). Both are counts and references, never content.

Each is an ordinary alert with a dedupe key for its week or its batch, raised by the tick once
its time has come, so a tick missed while Haven was down is made up by the next one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.config import HavenConfig
from bot.config.hours import WEEKDAYS
from bot.db import session_scope
from bot.models import Case, Finding, Item, ReplyDraft, utcnow
from bot.models.alerts import Alert, AlertDelivery, Escalation
from bot.notify.hours import local
from bot.notify.records import new_alert
from rules.model import SEVERITY_RANK

WEEK = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)  # Meta's limit; see workers/send_plans.py


def raise_weekly_digest(engine: Engine, config: HavenConfig, *, now: datetime | None = None) -> int:
    """Raise this week's digest once its weekday and time have come; returns 1 if raised."""
    now = now or utcnow()
    digest = config.alerts.digest
    if not digest.email:
        return 0
    here = local(now, config.organisation.timezone)
    monday = (here - timedelta(days=here.weekday())).date()
    due_day = monday + timedelta(days=WEEKDAYS.index(digest.weekday))
    if here < datetime.combine(due_day, digest.at, tzinfo=here.tzinfo):
        return 0
    year, week, _ = here.isocalendar()
    with session_scope(engine) as session:
        facts = weekly_facts(session, config, since=now - WEEK, until=now)
        facts["week"] = f"{year}-W{week:02d}"
        alert = new_alert(
            session,
            dedupe_key=f"digest:{year}-W{week:02d}",
            kind="digest",
            severity="low",
            roles=["admin"],
            facts=facts,
            created_at=now,
        )
    return 0 if alert is None else 1


def weekly_facts(
    session: Session, config: HavenConfig, *, since: datetime, until: datetime
) -> dict[str, Any]:
    """Counts for the week: what was found, what is still open, which deadlines were missed."""
    # Messages per category: one message can have several findings of a category (two rules,
    # or a rule and the semantic stage), and the digest counts what people wrote.
    found = session.exec(
        select(Finding.category, func.count(func.distinct(Finding.item_id)))
        .where(Finding.created_at >= since, Finding.created_at < until)
        .group_by(Finding.category)
    ).all()
    open_cases = session.exec(
        select(Case.case_type, func.count()).where(Case.status != "closed").group_by(Case.case_type)
    ).all()
    waiting = session.exec(select(func.count()).where(ReplyDraft.status == "draft")).one()
    # A private reply's window closed this week with the reply still unsent.
    missed = session.exec(
        select(func.count())
        .select_from(ReplyDraft)
        .join(Item, Item.id == ReplyDraft.item_id)
        .where(
            ReplyDraft.kind == "private",
            ReplyDraft.status.in_(("draft", "approved", "failed")),
            Item.private_reply_used_at.is_(None),
            Item.created_at >= since - PRIVATE_REPLY_WINDOW,
            Item.created_at < until - PRIVATE_REPLY_WINDOW,
        )
    ).one()
    window = timedelta(minutes=config.alerts.escalation.acknowledge_within_minutes)
    late = sum(
        1
        for e in session.exec(select(Escalation).where(Escalation.opened_at >= since)).all()
        if (e.acknowledged_at or e.ended_at or until) - e.opened_at > window
    )
    failed = session.exec(
        select(func.count()).where(
            AlertDelivery.status == "failed", AlertDelivery.created_at >= since
        )
    ).one()
    return {
        "findings_by_category": dict(sorted(found)),
        "open_cases": dict(sorted(open_cases)),
        "drafts_waiting": waiting,
        "replies_missed": missed,
        "escalations_late": late,
        "deliveries_failed": failed,
    }


def raise_partner_summaries(
    engine: Engine, config: HavenConfig, *, now: datetime | None = None
) -> int:
    """The written summary of the day's partner alerts, at each partner's `summary_at` (or at
    once for anything raised after it, or left over from a day Haven was down)."""
    now = now or utcnow()
    raised = 0
    for partner in config.alerts.partners:
        here = local(now, config.organisation.timezone)
        start_of_day = datetime.combine(here.date(), time(0), tzinfo=here.tzinfo)
        with session_scope(engine) as session:
            pending = session.exec(
                select(Alert)
                .where(
                    Alert.kind == "partner",
                    Alert.partner == partner.name,
                    Alert.summary_alert_id.is_(None),
                )
                .order_by(Alert.id)
            ).all()
            if not pending:
                continue
            all_today = all(a.created_at >= start_of_day for a in pending)
            if all_today and here.time() < partner.summary_at:
                continue
            summary = new_alert(
                session,
                dedupe_key=f"partner-summary:{partner.name}:{pending[0].id}",
                kind="partner_summary",
                severity=max((a.severity for a in pending), key=_severity_rank),
                roles=sorted({r for a in pending for r in a.roles}),
                partner=partner.name,
                facts={"date": here.date().isoformat(), "cases": _cases(session, pending)},
                created_at=now,
            )
            if summary is None:
                continue
            ids = [a.id for a in pending]
            session.exec(update(Alert).where(Alert.id.in_(ids)).values(summary_alert_id=summary.id))
            for alert in pending:
                if alert.case_id:
                    record(
                        session,
                        "system",
                        "partner.summary_raised",
                        "case",
                        alert.case_id,
                        partner=partner.name,
                        summary_alert_id=summary.id,
                    )
            raised += 1
    return raised


def _cases(session: Session, pending: list[Alert]) -> list[dict[str, Any]]:
    """Case number, category and times: what the partner needs to follow up, and no more."""
    entries = []
    for alert in pending:
        escalation = session.exec(
            select(Escalation)
            .where(Escalation.case_id == alert.case_id)
            .order_by(Escalation.id.desc())
        ).first()
        acknowledged = escalation.acknowledged_at if escalation else None
        entries.append(
            {
                "case": alert.case_id,
                "category": alert.category,
                "raised_at": alert.created_at.isoformat(),
                "acknowledged_at": acknowledged.isoformat() if acknowledged else None,
            }
        )
    return entries


def _severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 0)
