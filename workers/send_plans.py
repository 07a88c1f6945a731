"""What an action means on Meta, and Meta's limits checked before any call is made.

A private reply is allowed once per comment within 7 days of it; a message only within 24
hours of the person's last one. Outside those limits the answer is "reply from the Meta inbox",
a state staff can act on, rather than a failed call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.cases.consent import CONSENT_TEMPLATES
from bot.graph.client import GraphClient, SentCheck, SentMessage
from bot.models import Item, OutboundAction, ReplyDraft
from rules.consent import CONSENT_QUICK_REPLIES

PRIVATE_REPLY_WINDOW = timedelta(days=7)
MESSAGING_WINDOW = timedelta(hours=24)
COMMENT_CHANNELS = frozenset({"fb_comment", "ig_comment"})
DM_CHANNELS = frozenset({"fb_dm", "ig_dm"})


@dataclass(frozen=True)
class Refusal:
    """The action cannot be done through the API; `status` says what staff should do."""

    status: str  # "answer_in_inbox" | "failed"
    reason: str


@dataclass(frozen=True)
class Plan:
    # The new id on Meta, or (for messages) what the Send API answered, with the recipient.
    call: Callable[[GraphClient], str | SentMessage | None]
    # How to find out whether an earlier, interrupted attempt already reached Meta.
    check: Callable[[GraphClient, datetime], SentCheck] | None = None
    # Hides are safe to repeat; replies are not.
    repeatable: bool = False
    # When Meta cannot say whether an interrupted attempt landed: send again anyway? Only for
    # private replies, which Meta itself refuses a second time (10900).
    resend_if_unknown: bool = False


def plan_action(
    session: Session, action: OutboundAction, item: Item, draft: ReplyDraft | None, now: datetime
) -> Plan | Refusal:
    account, platform = item.account_id, item.platform
    if action.kind in {"hide", "unhide", "delete"}:
        if item.channel not in COMMENT_CHANNELS:
            return Refusal("failed", f"only comments can be {action.kind}d through the API")
        if action.kind == "delete":
            return Plan(lambda g: g.delete_comment(account, item.external_id), repeatable=True)
        hidden = action.kind == "hide"
        return Plan(
            lambda g: g.hide_comment(account, item.external_id, hidden, platform=platform),
            repeatable=True,
        )
    if draft is None:
        return Refusal("failed", "the reply's draft is missing")
    text = draft.text
    if action.kind == "public_reply":
        if item.removed_at is not None:
            return Refusal("failed", "the comment was removed; there is nothing to reply under")
        return Plan(
            lambda g: g.reply_to_comment(account, item.external_id, text, platform=platform),
            lambda g, since: g.find_sent_message(
                account, kind="comment_reply", target_id=item.external_id, text=text,
                platform=platform, since=since,
            ),
        )  # fmt: skip
    if action.kind == "private_reply":
        if item.private_reply_used_at is not None:
            return Refusal("answer_in_inbox", "the one private reply for this comment is used")
        if now - item.created_at > PRIVATE_REPLY_WINDOW:
            return Refusal("answer_in_inbox", "the 7-day window for a private reply has passed")
        post = item.channel == "fb_post"
        buttons = _consent_buttons(draft)
        return Plan(
            lambda g: g.private_reply(
                account, item.external_id, text, platform=platform, post=post,
                quick_replies=buttons,
            ),
            lambda g, since: g.find_sent_message(
                account, kind="private_reply", target_id=item.external_id, text=text,
                platform=platform, since=since,
            ),
            resend_if_unknown=True,
        )  # fmt: skip
    if action.kind == "dm":
        recipient = item.thread_id
        if not recipient:
            return Refusal("failed", "the conversation has no recipient id")
        last = last_message_from_person(session, item)
        if last is None or now - last > MESSAGING_WINDOW:
            return Refusal("answer_in_inbox", "more than 24 hours since their last message")
        metadata = f"haven:action:{action.id}"
        buttons = _consent_buttons(draft)
        return Plan(
            lambda g: g.send_message(
                account, recipient, text, platform=platform, metadata=metadata,
                quick_replies=buttons,
            ),
            lambda g, since: g.find_sent_message(
                account, kind="message", target_id=recipient, text=text, platform=platform,
                since=since,
            ),
        )  # fmt: skip
    return Refusal("failed", f"unknown action kind {action.kind!r}")


def _consent_buttons(draft: ReplyDraft) -> tuple[tuple[str, str], ...]:
    """The question asking for consent carries quick-reply buttons (both platforms allow them)."""
    return CONSENT_QUICK_REPLIES if draft.template in CONSENT_TEMPLATES else ()


def last_message_from_person(session: Session, item: Item) -> datetime | None:
    """When the person last wrote in this conversation: Meta's 24-hour window starts there."""
    return session.exec(
        select(Item.created_at)
        .where(
            Item.account_id == item.account_id,
            Item.thread_id == item.thread_id,
            Item.channel.in_(DM_CHANNELS),
            Item.from_page.is_(False),
        )
        .order_by(Item.created_at.desc())
        .limit(1)
    ).first()
