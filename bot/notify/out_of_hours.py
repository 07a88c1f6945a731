"""Out of hours, what Haven sends by itself: the crisis reply to risk and, if asked, a plain
acknowledgement of other private messages. Nothing else goes without a person's approval.

Why the crisis reply may go unapproved: at 11pm on a Friday a person who has just written that
they want to die must not wait until Monday for a number they can ring now. The reply says only
that nobody is in, when the team is back, and the crisis lines; the lead is paged all the same
and decides everything that follows.

Each goes once per conversation per out-of-hours period, whatever the retries, re-deliveries
and further messages: the idempotency key of its outbound action is the conversation (the
person on this page, so the messages that follow a private reply count too) and the moment
the office next opens. Meta's own limits (one private reply per comment within 7 days, a
message within 24 hours of the person's last) are checked when it is sent (workers/send_plans).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.actions import send_without_approval
from bot.audit import record
from bot.cases.consent import link_contact
from bot.config import HavenConfig
from bot.config.hours import WorkingHours
from bot.config.voices import voice_for
from bot.models import Case, Item, OutboundAction, ReplyDraft, utcnow
from bot.models.dashboard import CaseEvent
from bot.notify.hours import DM_CHANNEL, describe_back, is_open, next_opening
from rules import RuleSet

log = logging.getLogger(__name__)

CRISIS = "out-of-hours-crisis"
ACKNOWLEDGEMENT = "out-of-hours-ack"
SENT_NOTE = (
    "Out of hours: Haven sent the crisis reply by itself (crisis lines and when the team is "
    "back), as config.yaml allows. The rest is the safeguarding lead's decision."
)


def reply_out_of_hours(
    session: Session,
    ruleset: RuleSet,
    config: HavenConfig,
    item: Item,
    case: Case | None,
    *,
    now: datetime | None = None,
) -> OutboundAction | None:
    """After an item is judged: send the crisis reply, or acknowledge, if it is time to."""
    now = now or utcnow()
    period = out_of_hours_period(config, item.received_at or now, now)
    if period is None:
        return None
    crisis = _crisis_draft(session, config, item)
    conversation = _conversation(item, case)
    if crisis is not None:
        if not config.alerts.out_of_hours.send_crisis_reply:
            return None
        action = send_without_approval(
            session, crisis, key=f"{CRISIS}:{conversation}:{period}", reason="out of hours"
        )
        if action is not None and case is not None:
            session.add(CaseEvent(case_id=case.id, at=now, kind="note", text=SENT_NOTE))
            record(session, "system", "case.out_of_hours_reply", "case", case.id,
                   action_id=action.id, item_id=item.id)  # fmt: skip
            log.info("item %s: out-of-hours crisis reply, action %s", item.id, action.id)
        return action
    return _acknowledge(session, ruleset, config, item, case, conversation, period)


def out_of_hours_period(config: HavenConfig, received: datetime, now: datetime) -> str | None:
    """The out-of-hours period something arrived in, named by when it ends, if it still is.

    None in office hours, and for an item judged after the office opened (a worker down all
    night): staff are in by then and the lead has been paged.
    """
    hours, zone = _staffed(config), config.organisation.timezone
    if is_open(hours, zone, received) or is_open(hours, zone, now):
        return None
    try:
        ends = next_opening(hours, zone, received)
    except ValueError:
        return None
    if next_opening(hours, zone, now) != ends:
        return None
    return f"{ends.astimezone(UTC):%Y%m%dT%H%MZ}"


def _staffed(config: HavenConfig) -> WorkingHours:
    """When staff are in: the one setting alerts, response times and this module read."""
    return config.working_hours


def _conversation(item: Item, case: Case | None) -> str:
    """The person on this page. Their case's author: the id they first wrote with, which the
    messages after a private reply join (bot/cases/consent.py `link_contact`)."""
    if case is not None:
        person = case.author_id or f"case-{case.id}"
    else:
        person = item.author_id or f"item-{item.id}"
    return f"{item.account_id}:{person}"


def _crisis_draft(session: Session, config: HavenConfig, item: Item) -> ReplyDraft | None:
    """The risk reply rewritten for out of hours (bot/notify/alerts.py), still waiting."""
    return session.exec(
        select(ReplyDraft).where(
            ReplyDraft.item_id == item.id,
            ReplyDraft.kind.in_(("private", "dm")),
            ReplyDraft.status == "draft",
            ReplyDraft.template == config.alerts.office_hours.out_of_hours_template,
        )
    ).first()


def _acknowledge(
    session: Session,
    ruleset: RuleSet,
    config: HavenConfig,
    item: Item,
    case: Case | None,
    conversation: str,
    period: str,
) -> OutboundAction | None:
    """A plain acknowledgement of a private message, once per conversation and period.

    Not to comments (it would use their one private reply), not on a safeguarding case (what
    that person is told is the lead's decision, and the crisis reply may already have gone).
    """
    wanted = config.alerts.out_of_hours
    inbound = item.channel in DM_CHANNEL.values() and not item.from_page and not item.is_echo
    if not wanted.acknowledge_messages or not inbound or item.verb != "add":
        return None
    if case is not None and case.case_type == "safeguarding":
        return None
    key = f"{ACKNOWLEDGEMENT}:{conversation}:{period}"
    keys = (key, f"{CRISIS}:{conversation}:{period}")
    done = select(OutboundAction.id).where(OutboundAction.idempotency_key.in_(keys))
    if session.exec(done).first() is not None:
        return None  # acknowledged already, or they had the crisis reply tonight
    zone = config.organisation.timezone
    context = {
        "first_name": (item.author_name or "").split(" ")[0],
        "page_name": config.organisation.page_name,
    }
    try:
        # In the page's own words (its voice), like every reply it drafts.
        voice = voice_for(config, item.account_id)
        text = voice.render(ruleset, wanted.acknowledgement_template, item.channel, context)
    except KeyError:
        log.warning("no %s template; no acknowledgement sent", wanted.acknowledgement_template)
        return None
    when_back = describe_back(_staffed(config), zone, item.received_at)
    back = config.alerts.office_hours.back_sentence.replace("{back}", when_back)
    draft = ReplyDraft(
        item_id=item.id,
        case_id=case.id if case else None,
        kind="ack",
        template=wanted.acknowledgement_template,
        text=f"{text.rstrip()} {back}",
    )
    session.add(draft)
    session.flush()
    action = send_without_approval(session, draft, key=key, reason="out of hours")
    if action is None:
        session.delete(draft)  # another worker acknowledged them a moment ago
    return action


def after_crisis_reply_sent(
    session: Session,
    action: OutboundAction,
    item: Item,
    case: Case,
    *,
    recipient_id: str | None,
    now: datetime,
) -> None:
    """The crisis reply to a comment went: link the person's Messenger id to the case, so
    what they write back joins it (and gets no second automatic reply tonight).

    Only the id Meta gave back: in a dry run nothing reached anyone, so nobody will answer.
    """
    if action.kind != "private_reply" or not action.idempotency_key.startswith(CRISIS):
        return
    link_contact(
        session,
        case,
        item=item,
        action_id=action.id,
        recipient_id=recipient_id,
        dry_run=action.dry_run,
        now=now,
    )
