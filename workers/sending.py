"""Carry out one outbound action on Meta, at most once, and record exactly what happened.

Order of events: claim the action row (status 'sending'), commit, call Meta, commit the result.
A worker killed between the call and the last commit leaves 'sending' behind; the next attempt
asks Meta whether the earlier call landed before it sends anything again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.audit import record
from bot.cases.hiding import note_hide_outcome
from bot.db import session_scope
from bot.graph.client import GraphClient, GraphError, SentMessage
from bot.models import AccountState, Item, OutboundAction, ReplyDraft, utcnow
from bot.notify.alerts import alert_account_paused
from workers.consent import after_reply_sent
from workers.send_plans import Plan, Refusal, plan_action

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A 'sending' row older than this belongs to a worker that died, not to one still working.
IN_FLIGHT = timedelta(minutes=2)
# Meta's clock and ours differ a little; a look-alike older than this is not our send.
CLOCK_SKEW = timedelta(minutes=5)
FINAL = frozenset({"done", "failed", "answer_in_inbox"})
# Errors a person must see and decide on; repeating the call would not help.
VISIBLE_FAILURES = {
    "permission": "the page has not granted Haven this permission",
    "parameter": "Meta refused the request (the comment or person may be gone)",
    "private_reply_blocked": "this person's settings do not allow private replies",
    "unavailable": "this person is not available on Messenger",
    "policy_block": "Meta has temporarily blocked the page from sending",
    "unknown": "Meta gave an error Haven does not recognise",
}


def perform(
    engine: Engine, graph: GraphClient, action_id: int, *, now: datetime | None = None
) -> str:
    """Do the action if it is still to do; returns its status. Raises to ask for a retry."""
    now = now or utcnow()
    with session_scope(engine) as session:
        action = session.get(OutboundAction, action_id)
        if action is None:
            raise LookupError(f"action {action_id} does not exist")
        if action.status in FINAL:
            return action.status
        if action.not_before is not None and action.not_before > now:
            return "waiting"
        state = session.get(AccountState, action.account_id)
        if state is not None and state.paused_at is not None:
            return "paused"
        item = session.get(Item, action.item_id)
        draft = session.get(ReplyDraft, action.draft_id) if action.draft_id else None
        plan = plan_action(session, action, item, draft, now)
        if isinstance(plan, Refusal):
            _close(session, action, plan.status, now, error=plan.reason)
            return plan.status
        interrupted = action.status == "sending"
        since = action.created_at - CLOCK_SKEW
    if not _claim(engine, action_id, now):
        return "busy"
    if interrupted and not plan.repeatable:
        outcome = _resolve_interrupted(engine, graph, action_id, plan, since, now)
        if outcome is not None:
            return outcome
    try:
        result = plan.call(graph)
    except GraphError as error:
        return _on_error(engine, action_id, error, now)
    sent = result if isinstance(result, SentMessage) else SentMessage(result or "", None)
    external_id, recipient_id = sent.message_id or None, sent.recipient_id
    with session_scope(engine) as session:
        action = session.get(OutboundAction, action_id)
        _close(session, action, "done", now, external_id=external_id, dry_run=graph.dry_run,
               recipient_id=recipient_id)  # fmt: skip
    return "done"


def _claim(engine: Engine, action_id: int, now: datetime) -> bool:
    """Take the action: pending, or 'sending' left behind by a worker that is gone."""
    with engine.begin() as connection:
        result = connection.execute(
            update(OutboundAction)
            .where(
                OutboundAction.id == action_id,
                or_(
                    OutboundAction.status == "pending",
                    and_(
                        OutboundAction.status == "sending",
                        or_(
                            OutboundAction.started_at.is_(None),
                            OutboundAction.started_at < now - IN_FLIGHT,
                        ),
                    ),
                ),
            )
            .values(
                status="sending",
                attempts=OutboundAction.attempts + 1,
                started_at=now,
                updated_at=now,
            )
        )
    return result.rowcount == 1


def _resolve_interrupted(
    engine: Engine, graph: GraphClient, action_id: int, plan: Plan, since: datetime, now: datetime
) -> str | None:
    """Ask Meta whether the interrupted attempt landed; None means send now."""
    if plan.check is None:
        return None
    try:
        check = plan.check(graph, since)
    except GraphError as error:
        return _on_error(engine, action_id, error, now)
    if check.found is True:
        with session_scope(engine) as session:
            action = session.get(OutboundAction, action_id)
            _close(session, action, "done", now, external_id=check.id, dry_run=graph.dry_run)
        return "done"
    if check.found is None and not plan.resend_if_unknown:
        # Cannot tell, and a second public reply or message cannot be taken back: a person
        # decides. (A private reply is simply resent: Meta refuses a second one with 10900.)
        with session_scope(engine) as session:
            action = session.get(OutboundAction, action_id)
            _close(session, action, "failed", now, error="could not confirm whether an "
                   f"interrupted send reached Meta ({check.detail}); check the page")  # fmt: skip
        return "failed"
    return None


def _on_error(engine: Engine, action_id: int, error: GraphError, now: datetime) -> str:
    log.warning("action %s: Graph error %s (%s)", action_id, error.code, error.kind)
    with session_scope(engine) as session:
        action = session.get(OutboundAction, action_id)
        action.error_kind, action.error_code = error.kind, error.code
        action.error = str(error.message)[:500]
        if error.kind == "already_replied":
            item = session.get(Item, action.item_id)
            item.private_reply_used_at = item.private_reply_used_at or now
            session.add(item)
            reason = "a private reply was already sent, perhaps from the Meta inbox"
            _close(session, action, "answer_in_inbox", now, error=reason)
            return "answer_in_inbox"
        if error.kind == "outside_window":
            _close(session, action, "answer_in_inbox", now, error="outside Meta's reply window")
            return "answer_in_inbox"
        if error.kind in {"token", "policy_block"}:
            _pause_account(session, action.account_id, error, now)
            if error.kind == "token":
                _back_to_pending(session, action, now)
                return "paused"
        if error.kind == "rate_limited":
            wait = error.retry_after or min(3600, 60 * 2 ** max(action.attempts - 1, 0))
            _back_to_pending(session, action, now, not_before=now + timedelta(seconds=wait))
            return "waiting"
        if error.kind == "transient" and action.attempts < MAX_ATTEMPTS:
            if error.ambiguous:
                # It may have landed: stay 'sending' (not in flight) so the retry checks first.
                action.started_at, action.updated_at = None, now
                session.add(action)
            else:
                _back_to_pending(session, action, now)
        else:
            reason = VISIBLE_FAILURES.get(error.kind, "Meta kept failing; gave up after retries")
            _close(session, action, "failed", now, error=f"{reason} (code {error.code})")
            return "failed"
    raise error  # transient: the queue retries with its back-off


def _back_to_pending(
    session: Session, action: OutboundAction, now: datetime, not_before: datetime | None = None
) -> None:
    action.status, action.started_at, action.not_before = "pending", None, not_before
    action.updated_at = now
    session.add(action)


def _pause_account(session: Session, account_id: str, error: GraphError, now: datetime) -> None:
    state = session.get(AccountState, account_id) or AccountState(account_id=account_id)
    if state.paused_at is None:
        state.paused_at = now
        state.paused_reason = f"Meta error {error.code} ({error.kind}): sending paused"
        session.add(state)
        record(session, "system", "account.paused", "account", account_id, code=error.code)
        alert_account_paused(session, account_id, code=error.code, now=now)


def _close(
    session: Session,
    action: OutboundAction,
    status: str,
    now: datetime,
    *,
    external_id: str | None = None,
    dry_run: bool = False,
    error: str | None = None,
    recipient_id: str | None = None,
) -> None:
    action.status, action.updated_at, action.done_at = status, now, now
    action.external_id, action.dry_run = external_id, dry_run
    if error:
        action.error = error[:500]
    session.add(action)
    item = session.get(Item, action.item_id)
    if status == "done":
        if action.kind == "private_reply":
            item.private_reply_used_at = now
        elif action.kind in {"hide", "unhide"}:
            item.hidden = action.kind == "hide"
        session.add(item)
    # A hide for a child's safety: the case says whether Meta did it.
    note_hide_outcome(session, action, item, now=now)
    draft = session.get(ReplyDraft, action.draft_id) if action.draft_id else None
    if draft is not None:
        draft.status = {"done": "sent"}.get(status, status)
        draft.sent_at = now if status == "done" else None
        draft.sent_external_id = external_id
        draft.error = error[:500] if error else None
        draft.updated_at = now
        session.add(draft)
    if status == "done":
        # The consent question or a boundary reply went: the case records it.
        after_reply_sent(session, action, item, draft, recipient_id=recipient_id, now=now)
    record(session, "system", f"action.{status}", "action", action.id, kind=action.kind,
           dry_run=dry_run, error_kind=action.error_kind)  # fmt: skip
    log.info("action %s (%s) %s%s", action.id, action.kind, status, " (dry run)" if dry_run else "")
