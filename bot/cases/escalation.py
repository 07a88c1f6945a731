"""One escalation, whatever starts it: a rule's finding, the learned stage, a moderator, an
admin or the lead.

`escalate_case` is the only way a case reaches the safeguarding lead. It makes the case a
safeguarding case (urgent, status "escalated", which puts its items first in the queue), gives
it to the lead on duty (bot/notify/duty.py), and opens the escalation that pages the lead and
deputy on every configured channel until one of them acknowledges (bot/notify/escalation.py).
Escalating a case whose escalation is still open joins it: nobody is paged twice for one
concern, however many people (or rules) escalate it at once.

Before, a person's escalation was only a status change: the case was walled off, but nobody
was paged, nobody had it, and it sat in the queue by its finding's severity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.audit import record
from bot.cases.status import apply_status, assign, may_hold
from bot.config import HavenConfig
from bot.config.voices import page_config
from bot.models import SAFEGUARDING_ROLES, Case, Finding, Item, User
from bot.models.alerts import Alert
from bot.notify.duty import on_duty
from bot.notify.escalation import open_or_join_escalation
from bot.notify.hours import is_open
from rules.model import SAFEGUARDING_TOPS, SEVERITY_RANK, top_of

log = logging.getLogger(__name__)

# What an escalation is about when a person raised it and no rule found risk: the person's
# judgement is the concern. Alerts say this, never what was written.
STAFF_CONCERN = "safeguarding"
ON_DUTY = "the safeguarding lead on duty"
ROLE_WORDS = {
    "admin": "an admin",
    "moderator": "a moderator",
    "safeguarding_lead": "a safeguarding lead",
    "safeguarding_deputy": "a safeguarding deputy",
}


@dataclass(frozen=True)
class Escalated:
    escalation_id: int
    # False when it joined the escalation already open for the case.
    opened: bool
    # The page raised now (its deliveries are sent by the alert jobs), if any.
    alert: Alert | None
    assignee_id: int | None


class CannotEscalate(ValueError):
    """A closed case is not escalated: the person's next message opens a new case."""


def escalate_case(
    session: Session,
    config: HavenConfig,
    case: Case,
    now: datetime,
    *,
    by: User | None = None,
    reason: str | None = None,
    item: Item | None = None,
    category: str | None = None,
    severity: str | None = None,
    out_of_hours: bool | None = None,
) -> Escalated:
    """Escalate the case to the safeguarding lead; idempotent while its escalation is open.

    `by` is the member of staff who escalated it, with their `reason` (None: Haven's rules, which
    give the `item`, `category` and `severity` of the finding). The caller commits.
    """
    if case.status == "closed":
        raise CannotEscalate(f"case {case.id} is closed")
    # The page the case came in on decides its hours and its lead (voices in config.yaml).
    config = page_config(config, case.account_id)
    if by is not None and case.status != "escalated":
        apply_status(session, case, "escalated", reason or "", None, now, actor_id=by.id)  # type: ignore[arg-type]
    else:
        make_safeguarding(session, case, now, item_id=item.id if item else None)
    if category is None or severity is None:
        category, severity = _concern(session, case)
    if out_of_hours is None:
        out_of_hours = not is_open(config.working_hours, config.organisation.timezone, now)
    opened = open_or_join_escalation(
        session,
        config,
        case,
        item.id if item else None,
        category,
        severity,
        out_of_hours,
        now,
        actor=f"user:{by.id}" if by else "system",
        raised_by=ROLE_WORDS.get(by.role) if by else None,
    )
    assignee = _give_to_lead_on_duty(session, config, case, now, newly=not opened.joined)
    return Escalated(opened.escalation.id, not opened.joined, opened.alert, assignee)  # type: ignore[arg-type]


def make_safeguarding(
    session: Session, case: Case, now: datetime, *, item_id: int | None = None
) -> None:
    """The safeguarding override on a case: from now it is the lead's and deputy's alone,
    urgent, and never downgraded by a later, milder message."""
    case.case_type, case.priority = "safeguarding", "urgent"
    if case.status != "escalated":
        case.status, case.updated_at = "escalated", now
        record(session, "system", "case.escalated", "case", case.id, item_id=item_id)
    session.add(case)


def _concern(session: Session, case: Case) -> tuple[str, str]:
    """The worst risk Haven found on the case; else the person's judgement, at least high."""
    rows = session.exec(
        select(Finding.category, Finding.severity)
        .join(Item, Item.id == Finding.item_id)
        .where(Item.case_id == case.id, Finding.superseded_at.is_(None))
    ).all()
    risk = [(c, s) for c, s in rows if top_of(c) in SAFEGUARDING_TOPS]
    if risk:
        return max(risk, key=lambda row: SEVERITY_RANK.get(row[1], 0))
    severity = max(case.severity, "high", key=lambda s: SEVERITY_RANK.get(s, 0))
    return STAFF_CONCERN, severity


def _give_to_lead_on_duty(
    session: Session, config: HavenConfig, case: Case, now: datetime, *, newly: bool
) -> int | None:
    """A new escalation goes to the lead on duty; a joined one stays with whoever has it,
    unless they may not hold a safeguarding case (a moderator it was assigned to before)."""
    holder = session.get(User, case.assignee_id) if case.assignee_id else None
    keeps = holder is not None and holder.active and may_hold(holder, case)
    if keeps and not newly:
        return case.assignee_id
    lead = _lead_on_duty(session, config, now)
    if lead is not None and lead.id != case.assignee_id:
        assign(session, case, lead.id, now, actor_id=None, reason=ON_DUTY)
    elif lead is None and holder is not None and not keeps:
        # Nobody to give it to: the first lead or deputy to acknowledge takes it.
        assign(session, case, None, now, actor_id=None, reason="for the safeguarding lead")
    return case.assignee_id


def _lead_on_duty(session: Session, config: HavenConfig, now: datetime) -> User | None:
    """The rota's lead now; with no rota (or a gap in it), the only lead there is, if one."""
    rota = config.alerts.rota
    name = on_duty(rota, config.organisation.timezone, now).lead if rota.shifts else None
    if name is not None:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is not None and user.active and user.role in SAFEGUARDING_ROLES:
            return user
        log.warning("the rota names %s as lead on duty, who is not an active lead or deputy", name)
    leads = session.exec(
        select(User).where(User.role == "safeguarding_lead", User.active.is_(True)).limit(2)
    ).all()
    return leads[0] if len(leads) == 1 else None
