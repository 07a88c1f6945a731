"""The private conversation: link a person's messages to their case and read their consent.

Called from item processing (`join_private_conversation` before the case is worked out,
`read_reply` after) and from sending (`after_reply_sent`). A reply Haven cannot read with
confidence goes to the queue for a person; nothing is guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, select

from bot.audit import record
from bot.cases.consent import (
    BOUNDARY_TEMPLATES,
    CONSENT_TEMPLATES,
    case_for_message,
    mark_asked,
    note_boundary_reply,
    note_safeguarding_override,
    record_unclear,
    set_consent,
)
from bot.models import Case, Finding, Item, OutboundAction, ReplyDraft, utcnow
from bot.notify.out_of_hours import after_crisis_reply_sent
from rules.consent import read_consent

log = logging.getLogger(__name__)

DM_CHANNELS = frozenset({"fb_dm", "ig_dm"})
UNCLEAR_RULE = "consent-reply-unclear"
UNCLEAR_CATEGORY = "consent.unclear"


def inbound_message(item: Item) -> bool:
    """A person's own message in a private conversation: the kind that can answer a question."""
    return (
        item.channel in DM_CHANNELS
        and not item.from_page
        and not item.is_echo
        and item.verb in ("add", "edited")
    )


def join_private_conversation(
    session: Session, item: Item, known: Mapping[tuple[str, str], Case | None] | None = None
) -> Case | None:
    """A message from someone a private reply reached joins the case that reply was about.

    Their messaging id differs from the id they commented with, so the open key alone would
    start a second case; the link recorded when the reply was sent brings them together.
    `known`: each sender's case as a batch read them at once (`cases_for_senders`).
    """
    if not inbound_message(item):
        return None
    if item.case_id is not None:
        return session.get(Case, item.case_id)
    sender = (item.account_id, item.author_id)
    case = (
        known[sender] if known is not None and sender in known else case_for_message(session, item)
    )
    if case is not None:
        item.case_id = case.id
        session.add(item)
    return case


def read_reply(
    session: Session,
    item: Item,
    case: Case | None,
    *,
    follow_up_days: int = 3,
    now: datetime | None = None,
) -> str | None:
    """Record what the person's message says about consent; returns the reading, if any."""
    now = now or utcnow()
    if case is not None:
        note_safeguarding_override(session, case, now)
    if case is None or not inbound_message(item) or case.status == "closed":
        return None
    if case.consent == "not_asked":
        return None  # nothing has been asked yet: an ordinary message, not an answer
    reading = read_consent(item.text, item.button_payload)
    intent = reading.intent
    source = "button" if reading.via == "payload" else "text"
    wanted = {
        # While waiting for an answer, every answer counts, and doubt goes to a person.
        "asked": {"given", "declined", "withdrawn", "unclear"},
        # Afterwards only a clear change of mind does: the rest is conversation.
        "given": {"withdrawn"},
        "declined": {"given", "withdrawn"},
        "withdrawn": {"given"},
    }.get(case.consent, set())
    if intent not in wanted:
        return None
    if intent == "unclear":
        record_unclear(session, case, item, now)
        _to_the_queue(session, item)
        log.info("item %s: consent reply unclear, case %s", item.id, case.id)
        return intent
    set_consent(
        session,
        case,
        intent,
        source=source,
        now=now,
        at=item.created_at,
        item=item,
        follow_up_days=follow_up_days,
    )
    log.info("item %s: consent %s on case %s (%s)", item.id, intent, case.id, reading.via)
    return intent


def _to_the_queue(session: Session, item: Item) -> None:
    """A finding puts the message on the queue until someone reviews it."""
    found = select(Finding.id).where(Finding.item_id == item.id, Finding.rule == UNCLEAR_RULE)
    if session.exec(found).first() is not None:
        return
    session.add(
        Finding(
            item_id=item.id,
            rule=UNCLEAR_RULE,
            category=UNCLEAR_CATEGORY,
            severity="medium",
            score=1.0,
        )
    )
    record(session, "system", "consent.to_queue", "item", item.id)


def after_reply_sent(
    session: Session,
    action: OutboundAction,
    item: Item,
    draft: ReplyDraft | None,
    *,
    recipient_id: str | None,
    now: datetime,
) -> None:
    """A reply went: the consent question puts the case in waiting; a boundary reply is noted.

    In a dry run nothing reaches Meta and no recipient id comes back; the commenter's own id
    stands in for it, so the demo's "yes" (sent from that id) finds its case.
    """
    if draft is None or draft.case_id is None or action.kind == "public_reply":
        return
    case = session.get(Case, draft.case_id)
    if case is None or case.status == "closed":
        return
    after_crisis_reply_sent(session, action, item, case, recipient_id=recipient_id, now=now)
    if draft.template in CONSENT_TEMPLATES:
        if action.kind == "dm":
            recipient_id = recipient_id or item.thread_id
        elif not recipient_id and action.dry_run:
            recipient_id = item.author_id
        mark_asked(
            session,
            case,
            item=item,
            action_id=action.id,
            message_id=action.external_id,
            recipient_id=recipient_id,
            dry_run=action.dry_run,
            now=now,
        )
    elif draft.template in BOUNDARY_TEMPLATES:
        note_boundary_reply(session, case, now)
