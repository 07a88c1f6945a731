"""Retention: message texts are removed once the configured period has passed.

What goes: item texts, attachments and author names and usernames, raw webhook bodies and reply
draft texts. What stays is the minimal case record: the case's type, dates, status and outcome,
the items' ids, times and channels, and the findings' categories. Items on a held case (every
safeguarding case is held, with the reason recorded on the case) keep everything.

Run by the tick. Each run is one short transaction of at most `purge_batch_size` rows per table,
and finds only rows that still have something to remove, so it is idempotent and a backlog is
worked off over a few ticks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, null, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.audit import record
from bot.cases.weighing import forget_weighed_words
from bot.config.privacy import DataProtection
from bot.db import session_scope
from bot.models import InboundEvent, Item, ReplyDraft, utcnow
from bot.models.privacy import PrivacyHold
from bot.privacy.core_data import REMOVED_BODY, REMOVED_TEXT
from bot.privacy.holds import place_safeguarding_holds
from bot.privacy.removals import blank_rows, not_removed

log = logging.getLogger(__name__)

PURGED_ACTION = "retention.purged"
RETENTION = "retention"


def held_cases() -> Any:
    """Ids of cases with a hold in force, as a subquery."""
    return select(PrivacyHold.case_id).where(PrivacyHold.released_at.is_(None))


def not_held(case_id: Any) -> Any:
    return or_(case_id.is_(None), col(case_id).not_in(held_cases()))


def item_has_content() -> Any:
    return or_(
        Item.text.is_not(None),
        Item.author_name.is_not(None),
        Item.author_username.is_not(None),
        # JSON has no equality on PostgreSQL; its text form is what was stored.
        cast(Item.attachments, Text) != "[]",
    )


# Pages (accounts) whose texts go sooner than the organisation's period, by when they go:
# a page that promised not to save chats (voices in config.yaml, bot/config/voices.py).
Sooner = Mapping[str, datetime]


def _past(at: Any, cutoff: datetime, sooner: Sooner, of_account: Any) -> Any:
    """`at` is before the cutoff, or before its page's own earlier one."""
    return or_(at < cutoff, *(and_(of_account(a), at < c) for a, c in sooner.items()))


def expired_items(cutoff: datetime, sooner: Sooner | None = None) -> Any:
    """Items past retention that still hold text, names or attachments, and are not held."""
    return select(Item.id).where(
        _past(Item.received_at, cutoff, sooner or {}, lambda a: Item.account_id == a),
        item_has_content(),
        not_held(Item.case_id),
    )


def expired_events(cutoff: datetime, sooner: Sooner | None = None) -> Any:
    held_events = select(Item.event_id).where(col(Item.case_id).in_(held_cases()))

    def of_account(account: str) -> Any:
        return col(InboundEvent.id).in_(select(Item.event_id).where(Item.account_id == account))

    return select(InboundEvent.id).where(
        _past(InboundEvent.received_at, cutoff, sooner or {}, of_account),
        not_removed("inbound_events", InboundEvent.id),
        col(InboundEvent.id).not_in(held_events),
    )


def expired_drafts(cutoff: datetime, sooner: Sooner | None = None) -> Any:
    return (
        select(ReplyDraft.id)
        .join(Item, Item.id == ReplyDraft.item_id)
        .where(
            _past(ReplyDraft.created_at, cutoff, sooner or {}, lambda a: Item.account_id == a),
            not_removed("reply_drafts", ReplyDraft.id),
            not_held(ReplyDraft.case_id),
            not_held(Item.case_id),
        )
    )


def purge_expired(
    session: Session,
    config: DataProtection,
    *,
    now: datetime | None = None,
    days_by_account: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Remove one batch of expired texts; returns how many rows of each kind were changed.

    `days_by_account`: pages that keep texts for fewer days than `config.retention_days`
    (`bot.config.voices.retention_by_account`).
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=config.retention_days)
    sooner = {a: now - timedelta(days=d) for a, d in (days_by_account or {}).items()}
    batch = config.purge_batch_size
    # Holds first, so a safeguarding case reaching the period is held before anything on it
    # could be purged.
    place_safeguarding_holds(session, "system", review_months=config.hold_review_months)
    item_ids = session.exec(expired_items(cutoff, sooner).order_by(Item.id).limit(batch)).all()
    event_ids = session.exec(
        expired_events(cutoff, sooner).order_by(InboundEvent.id).limit(batch)
    ).all()
    draft_ids = session.exec(
        expired_drafts(cutoff, sooner).order_by(ReplyDraft.id).limit(batch)
    ).all()
    personal = {"text": null(), "author_name": null(), "author_username": null()}
    counts = {
        "items": blank_rows(session, Item, item_ids, {**personal, "attachments": []}, RETENTION),
        "inbound_events": blank_rows(
            session, InboundEvent, event_ids, {"body": REMOVED_BODY}, RETENTION
        ),
        "reply_drafts": blank_rows(
            session, ReplyDraft, draft_ids, {"text": REMOVED_TEXT}, RETENTION
        ),
    }
    # "Why?" quotes no words of a removed text (bot/cases/weighing.py).
    forget_weighed_words(session, item_ids)
    if any(counts.values()):
        record(
            session, "system", PURGED_ACTION, "retention", None,
            cutoff=cutoff.isoformat(), retention_days=config.retention_days,
            sooner={a: c.isoformat() for a, c in sooner.items()}, **counts,
        )  # fmt: skip
    return counts


def run_retention(
    engine: Engine,
    config: DataProtection,
    *,
    now: datetime | None = None,
    days_by_account: Mapping[str, int] | None = None,
) -> int:
    """The tick's retention timer: one batch, committed; returns the rows changed.

    A failure is logged and left for the next tick: retention must never hold up the other
    timers (an escalation step matters more than a purge a minute late).
    """
    try:
        with session_scope(engine) as session:
            counts = purge_expired(session, config, now=now, days_by_account=days_by_account)
    except Exception as exc:
        log.warning("retention purge failed (%s); the next tick tries again", type(exc).__name__)
        return 0
    total = sum(counts.values())
    if total:
        log.info("retention removed texts from %s", counts)
    return total
