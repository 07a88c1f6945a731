"""Timers kept as due times on the rows themselves, run by the tick job.

Nothing here lives in Redis: a tick missed while the queue was down is made up by the next.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.actions import enqueue_action
from bot.audit import record
from bot.db import session_scope
from bot.models import AccountState, Item, OutboundAction, ReplyDraft, utcnow
from bot.notify.alerts import alert_reply_deadline
from bot.tasks import Enqueuer
from workers.send_plans import PRIVATE_REPLY_WINDOW
from workers.sending import IN_FLIGHT

log = logging.getLogger(__name__)

# Warn a day before Meta's 7-day private-reply window closes on a reply still unsent.
DEADLINE_WARNING = PRIVATE_REPLY_WINDOW - timedelta(days=1)


def sweep_actions(engine: Engine, enqueuer: Enqueuer, *, now: datetime | None = None) -> int:
    """Enqueue actions that are due: new, retry time reached, or left by a dead worker."""
    now = now or utcnow()
    with Session(engine) as session:
        paused = select(AccountState.account_id).where(AccountState.paused_at.is_not(None))
        due = session.exec(
            select(OutboundAction.id, OutboundAction.attempts).where(
                OutboundAction.account_id.not_in(paused),
                or_(
                    and_(
                        OutboundAction.status == "pending",
                        or_(
                            OutboundAction.not_before.is_(None),
                            OutboundAction.not_before <= now,
                        ),
                    ),
                    and_(
                        OutboundAction.status == "sending",
                        or_(
                            OutboundAction.started_at.is_(None),
                            OutboundAction.started_at < now - IN_FLIGHT,
                        ),
                    ),
                ),
            )
        ).all()
    for action_id, attempts in due:
        enqueue_action(enqueuer, action_id, attempts=attempts)
    return len(due)


def warn_private_reply_deadlines(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """Mark private replies still unsent a day before their window closes; returns draft ids."""
    now = now or utcnow()
    with session_scope(engine) as session:
        drafts = session.exec(
            select(ReplyDraft)
            .join(Item, Item.id == ReplyDraft.item_id)
            .where(
                ReplyDraft.kind == "private",
                ReplyDraft.status.in_(("draft", "approved", "failed")),
                ReplyDraft.deadline_warned_at.is_(None),
                Item.private_reply_used_at.is_(None),
                Item.created_at < now - DEADLINE_WARNING,
                Item.created_at > now - PRIVATE_REPLY_WINDOW,
            )
        ).all()
        for draft in drafts:
            draft.deadline_warned_at = now
            session.add(draft)
            record(session, "system", "draft.deadline_warning", "draft", draft.id)
            alert_reply_deadline(session, draft, now=now)
        ids = [d.id for d in drafts]
    if ids:
        log.warning("%d private replies close within a day", len(ids))
    return ids
