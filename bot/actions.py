"""Asking for something to be done on Meta: an idempotency record first, then a job by name.

The dashboard and the workers both ask through here; only `workers.jobs.perform_action` ever
carries it out, and only through bot/graph/client.py.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.audit import record
from bot.db import add_unless_taken
from bot.models import AccountState, Item, OutboundAction, ReplyDraft, utcnow
from bot.tasks import Enqueuer, job_id

PERFORM_ACTION = "workers.jobs.perform_action"
# An "ack" draft is the plain out-of-hours acknowledgement: a message like any other.
DRAFT_KIND_TO_ACTION = {
    "public": "public_reply",
    "private": "private_reply",
    "dm": "dm",
    "ack": "dm",
}


def request_action(
    session: Session,
    *,
    kind: str,
    item: Item,
    key: str,
    requested_by: str,
    draft: ReplyDraft | None = None,
) -> OutboundAction:
    """The action for this key, created if new; the caller commits, then calls `enqueue`."""
    action = OutboundAction(
        idempotency_key=key,
        kind=kind,
        item_id=item.id,
        draft_id=draft.id if draft else None,
        account_id=item.account_id,
        requested_by=requested_by,
    )
    # Asked for already, here or by another worker a moment ago: that one stands. Trying
    # the insert first costs one statement for a new key, the usual case.
    if not add_unless_taken(session, action):
        return session.exec(
            select(OutboundAction).where(OutboundAction.idempotency_key == key)
        ).one()
    record(session, requested_by, f"action.requested.{kind}", "item", item.id, action_id=action.id)
    return action


def approve_draft(
    session: Session, draft: ReplyDraft, *, text: str, user_id: int
) -> OutboundAction:
    """A person approves a suggested reply (perhaps edited): it becomes an action to send."""
    if draft.status not in {"draft", "failed"}:
        raise ValueError(f"draft {draft.id} is {draft.status}, not waiting for approval")
    item = session.get(Item, draft.item_id)
    if item is None:
        raise LookupError(f"draft {draft.id} has no item")
    if not text.strip():
        raise ValueError("the reply is empty")
    actor = f"user:{user_id}"
    edited = text != draft.text
    draft.text = text
    draft.status = "approved"
    draft.decided_by = user_id
    draft.decided_at = draft.updated_at = utcnow()
    session.add(draft)
    record(session, actor, "draft.approved", "draft", draft.id, edited=edited)
    # One send per draft, ever: approving again after a failure reuses the same record.
    action = request_action(
        session,
        kind=DRAFT_KIND_TO_ACTION[draft.kind],
        item=item,
        key=f"draft:{draft.id}",
        requested_by=actor,
        draft=draft,
    )
    if action.status == "failed":
        action.status, action.error, action.error_kind, action.error_code = (
            "pending",
            None,
            None,
            None,
        )
        action.updated_at = utcnow()
        session.add(action)
    return action


def send_without_approval(
    session: Session, draft: ReplyDraft, *, key: str, reason: str
) -> OutboundAction | None:
    """Haven sends a draft itself, where config.yaml allows it (out of hours).

    `key` says how often it may go (e.g. once per conversation and period); None when an
    action already holds the key, here or in a worker that got there first.
    """
    taken = select(OutboundAction.id).where(OutboundAction.idempotency_key == key)
    if session.exec(taken).first() is not None:
        return None
    item = session.get(Item, draft.item_id)
    if item is None:
        raise LookupError(f"draft {draft.id} has no item")
    action = request_action(
        session,
        kind=DRAFT_KIND_TO_ACTION[draft.kind],
        item=item,
        key=key,
        requested_by="system",
        draft=draft,
    )
    if action.draft_id != draft.id:
        return None
    draft.status = "approved"
    draft.decided_at = draft.updated_at = utcnow()
    session.add(draft)
    record(session, "system", "draft.sent_automatically", "draft", draft.id, reason=reason)
    return action


def enqueue_action(enqueuer: Enqueuer, action_id: int, *, attempts: int = 0) -> None:
    """Ask for an action to be carried out; see `job_id` for why attempts are in the id."""
    enqueuer.enqueue(PERFORM_ACTION, action_id, job_id=job_id("action", action_id, attempts))


def resume_account(session: Session, account_id: str, *, actor: str) -> bool:
    """Send again on a page paused after Meta refused its token; False if it was not paused.

    Replies approved meanwhile waited as pending actions; the next tick sends them, each once.
    Renew the token (and restart the workers, which read it at start) before resuming.
    """
    state = session.get(AccountState, account_id)
    if state is None or state.paused_at is None:
        return False
    record(session, actor, "account.resumed", "account", account_id, reason=state.paused_reason)
    state.paused_at, state.paused_reason = None, None
    session.add(state)
    return True
