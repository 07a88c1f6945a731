"""Raising alerts: in the same transaction as the finding, pause or deadline they are about.

Raising an alert only writes rows (an `Alert`, perhaps an `Escalation`); deliveries are worked out
and sent afterwards by their own jobs (bot/notify/delivery.py), so a dead mail server can never
block, slow or roll back the pipeline, and a crash after the commit loses nothing.

What an alert may carry is deliberately small: kind, category, severity, time, and the ids of the
case, item or page it points at. Never the message text, the author's name or their handle, so a
lost phone or a forwarded email leaks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import audience, case_of_draft
from bot.cases.escalation import escalate_case
from bot.cases.partners import open_partner_task
from bot.config import HavenConfig
from bot.config.alerts import Alerts, CategoryRoute, Partner
from bot.config.voices import voice_for
from bot.models import SAFEGUARDING_ROLES, Case, Item, ReplyDraft, utcnow
from bot.models.alerts import Alert
from bot.notify.hours import is_open, out_of_hours_reply
from bot.notify.records import new_alert
from rules import Finding, RuleSet
from rules.model import SAFEGUARDING_TOPS, SEVERITY_RANK, top_of

log = logging.getLogger(__name__)

APPROVER_ROLES = ("admin",)


@dataclass(frozen=True)
class _About:
    """What one judged item's alerts are about: the item, the case it is on, and when."""

    item: Item
    case: Case | None
    outside: bool  # raised out of office hours
    now: datetime


def raise_alerts_for_item(
    session: Session,
    ruleset: RuleSet,
    item: Item,
    findings: Sequence[Finding],
    config: HavenConfig | None = None,
    *,
    now: datetime | None = None,
) -> list[Alert]:
    """Escalate risk, tell partners and the roles the rules name; called once per judged item."""
    config = config or HavenConfig()
    now = now or utcnow()
    alerts = config.alerts
    case = session.get(Case, item.case_id) if item.case_id else None
    received = item.received_at or now
    outside = not is_open(config.working_hours, config.organisation.timezone, received)
    raised: list[Alert] = []
    risky = [f for f in findings if f.actions.escalate or top_of(f.category) in SAFEGUARDING_TOPS]
    if risky and case is not None:
        worst = _most_severe(risky)
        # The same escalation a person's gets (bot/cases/escalation.py): assigned, paged.
        escalated = escalate_case(
            session, config, case, now, item=item, category=worst.category,
            severity=worst.severity, out_of_hours=outside,
        )  # fmt: skip
        raised += [escalated.alert] if escalated.alert else []
        if outside:
            _use_out_of_hours_reply(session, ruleset, config, item, risky, received)
    about = _About(item, case, outside, now)
    raised += _partner_alerts(session, alerts, about, findings)
    finding_alert = _finding_alert(session, alerts, about, findings)
    raised += [finding_alert] if finding_alert else []
    return raised


def _most_severe(findings: Sequence[Finding]) -> Finding:
    return max(findings, key=lambda f: SEVERITY_RANK.get(f.severity, 0))


def category_route(alerts: Alerts, category: str | None) -> CategoryRoute | None:
    """The most specific routing for a category: `pii.child_name` before `pii`."""
    if not category:
        return None
    return alerts.categories.get(category) or alerts.categories.get(top_of(category))


def _finding_alert(
    session: Session, alerts: Alerts, about: _About, findings: Sequence[Finding]
) -> Alert | None:
    """One alert per comment or message (and category) for the roles the rules and config name;
    on a safeguarding case, for the lead and deputy instead (bot/cases/access.py)."""
    roles: set[str] = set()
    alerting: list[Finding] = []
    for finding in findings:
        if finding.actions.escalate or top_of(finding.category) in SAFEGUARDING_TOPS:
            continue  # the escalation tells the lead; nobody else learns what it is about
        route = category_route(alerts, finding.category)
        wanted = set(finding.actions.alert) | set(route.roles if route else ())
        if wanted:
            roles |= wanted
            alerting.append(finding)
    if not alerting:
        return None
    worst, item = _most_severe(alerting), about.item
    return _item_alert(
        session,
        about,
        # An edit of the same comment raises nothing new unless it adds a worse category.
        f"finding:{item.account_id}:{item.external_id}:{worst.category}",
        "finding",
        worst,
        audience(about.case, roles),
        account_id=item.account_id,
        facts={"categories": sorted({f.category for f in alerting})},
    )


def _partner_alerts(
    session: Session, alerts: Alerts, about: _About, findings: Sequence[Finding]
) -> list[Alert]:
    """When the person is one of a partner agency's, the lead is given a task to tell their key
    contact the same day (policy 004); Haven tells them itself only where config.yaml says so."""
    item, case = about.item, about.case
    raised: list[Alert | None] = []
    for partner in alerts.partners:
        member = (item.author_id is not None and item.author_id in partner.author_ids) or (
            item.account_id in partner.account_ids
        )
        if not member:
            continue
        relevant = [
            f
            for f in findings
            if f.category in partner.categories or top_of(f.category) in partner.categories
        ]
        if not relevant:
            continue
        worst = _most_severe(relevant)
        raised.append(_partner_task(session, about, partner, worst))
        # Haven tells the partner itself only where the charity turned it on (policy 004:
        # a person does it, the same day, and confirms it in writing).
        if partner.send_automatically:
            subject = f"case:{case.id}" if case else f"item:{item.id}"
            raised.append(
                _item_alert(
                    session,
                    about,
                    f"partner:{partner.name}:{subject}",
                    "partner",
                    worst,
                    sorted(SAFEGUARDING_ROLES),
                    partner=partner.name,
                )  # fmt: skip
            )
    return [alert for alert in raised if alert is not None]


def _partner_task(
    session: Session, about: _About, partner: Partner, worst: Finding
) -> Alert | None:
    """A task on the case for the lead to tell the partner, and an alert saying so."""
    case = about.case
    if case is None:
        log.warning("partner %s: item %s has no case for the task", partner.name, about.item.id)
        return None
    task = open_partner_task(session, case.id, partner.name, worst.category, about.now,
                             automatic=partner.send_automatically)  # fmt: skip
    if task is None:
        return None
    alert = _item_alert(session, about, f"partner-task:{partner.name}:case:{case.id}",
                        "partner_task", worst, sorted(SAFEGUARDING_ROLES),
                        partner=partner.name)  # fmt: skip
    task.alert_id = alert.id if alert else None
    session.add(task)
    return alert


def _item_alert(
    session: Session,
    about: _About,
    dedupe_key: str,
    kind: str,
    worst: Finding,
    roles: list[str],
    **fields: Any,
) -> Alert | None:
    """An alert about what was found in one item (and the case it is on, if any)."""
    return new_alert(
        session,
        dedupe_key=dedupe_key,
        kind=kind,
        category=worst.category,
        severity=worst.severity,
        roles=roles,
        case_id=about.case.id if about.case else None,
        item_id=about.item.id,
        out_of_hours=about.outside,
        created_at=about.now,
        **fields,
    )


def _use_out_of_hours_reply(
    session: Session,
    ruleset: RuleSet,
    config: HavenConfig,
    item: Item,
    risky: Sequence[Finding],
    received: datetime,
) -> None:
    """Out of hours, the drafted risk reply says when staff are back and gives crisis lines."""
    hours = config.alerts.office_hours
    templates = {f.actions.draft_private_reply for f in risky if f.actions.draft_private_reply}
    drafts = session.exec(
        select(ReplyDraft).where(
            ReplyDraft.item_id == item.id,
            ReplyDraft.kind.in_(("private", "dm")),
            ReplyDraft.status == "draft",
        )
    ).all()
    for draft in drafts:
        if draft.template not in templates:
            continue
        try:
            text = out_of_hours_reply(
                ruleset,
                hours,
                config.organisation.timezone,
                platform=item.platform,
                first_name=(item.author_name or "").split(" ")[0],
                page_name=config.organisation.page_name,
                when=received,
                working=config.working_hours,
                overrides=voice_for(config, item.account_id).overrides(ruleset),
            )
        except KeyError:
            log.warning(
                "no %s template; draft %s keeps its text", hours.out_of_hours_template, draft.id
            )
            continue
        draft.text, draft.template = text, hours.out_of_hours_template
        session.add(draft)
        record(session, "system", "draft.out_of_hours", "draft", draft.id, item_id=item.id)


def alert_account_paused(
    session: Session, account_id: str, *, code: int | None, now: datetime
) -> Alert | None:
    """Meta refused a page's token and sending is paused: the admins must renew it."""
    return new_alert(
        session,
        dedupe_key=f"account-paused:{account_id}:{now.isoformat()}",
        kind="account_paused",
        severity="high",
        roles=list(APPROVER_ROLES),
        account_id=account_id,
        facts={"code": code},
        created_at=now,
    )


def alert_reply_deadline(session: Session, draft: ReplyDraft, *, now: datetime) -> Alert | None:
    """A private reply still unsent a day before Meta's window closes: tell who approves it."""
    # On a safeguarding case only the lead and deputy may approve, and only they may know;
    # the case is the item's own now, which the draft's copy of it may not be.
    case = case_of_draft(session, draft)
    return new_alert(
        session,
        dedupe_key=f"reply-deadline:draft:{draft.id}",
        kind="reply_deadline",
        severity="high",
        roles=audience(case, APPROVER_ROLES),
        case_id=case.id if case else None,
        item_id=draft.item_id,
        created_at=now,
    )


def overnight_first(
    item_id: ColumnElement[Any], case_id: ColumnElement[Any]
) -> ColumnElement[bool]:
    """A sort key for the queue: True for items that raised an alert out of office hours and
    nobody has acknowledged yet, so they come first in the next morning's queue.

    Use as `.order_by(overnight_first(Item.id, Item.case_id).desc(), ...)`.
    """
    return exists().where(
        Alert.out_of_hours.is_(True),
        Alert.acknowledged_at.is_(None),
        or_(Alert.item_id == item_id, Alert.case_id == case_id),
    )
