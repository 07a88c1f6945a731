"""rq jobs: thin shells that find their context and call the plain functions tests call directly."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.actions import enqueue_action
from bot.context import current
from bot.db import session_scope
from bot.directory.introductions import settle_introductions
from bot.models import OutboundAction
from bot.privacy.hold_reviews import run_hold_reminders
from bot.privacy.retention import run_retention
from workers.alerts import dispatch_quietly, run_alert_timers
from workers.follow_up import run_follow_ups
from workers.photos import photos_of_item
from workers.processing import claim_item, handle_item, release_item
from workers.sending import perform
from workers.sweep import sweep_stuck_items
from workers.timers import sweep_actions, warn_private_reply_deadlines


def process_item(item_id: int) -> str:
    """Run the rules on a stored item and record what follows from them."""
    ctx = current()
    if not claim_item(ctx.engine, item_id):
        return "already claimed"
    try:
        config = ctx.settings.config
        # Pictures are fetched and looked at first, outside the item's transaction.
        photos = photos_of_item(ctx.engine, ctx.ruleset, item_id, config.photos)
        with session_scope(ctx.engine) as session:
            page_name = config.organisation.page_name
            handle_item(
                session, ctx.ruleset, item_id, page_name=page_name, config=config, photos=photos
            )
    except Exception as exc:
        # Nothing of the failed attempt was committed; hand the item back so the queue's
        # retry (or the sweep) can claim it again.
        release_item(ctx.engine, item_id, error=type(exc).__name__)
        raise
    # Automatic actions the rules asked for (hiding a comment with personal details) are
    # recorded with the item; they are carried out by their own job, after the commit.
    with Session(ctx.engine) as session:
        actions = session.exec(
            select(OutboundAction.id).where(
                OutboundAction.item_id == item_id, OutboundAction.status == "pending"
            )
        ).all()
    for action_id in actions:
        enqueue_action(ctx.enqueuer, action_id)
    # Alerts were committed with the item; their deliveries go out now, each its own job.
    dispatch_quietly(ctx)
    return "processed"


def perform_action(action_id: int) -> str:
    """Carry out one recorded action on Meta (send a reply, hide a comment)."""
    ctx = current()
    status = perform(ctx.engine, ctx.graph, action_id)
    if status in {"paused", "failed"}:
        dispatch_quietly(ctx)  # a paused page or a failed send may have raised an alert
    return status


def sweep() -> int:
    """Put back on the queue anything stored but not processed (Redis lost, worker killed)."""
    ctx = current()
    return sweep_stuck_items(
        ctx.engine, ctx.enqueuer, stuck_after_seconds=ctx.settings.config.queue.stuck_after_seconds
    )


def tick() -> dict[str, int]:
    """Run the periodic timers that live in the database."""
    ctx = current()
    return {
        "items": sweep(),
        "actions": sweep_actions(ctx.engine, ctx.enqueuer),
        "deadline_warnings": len(warn_private_reply_deadlines(ctx.engine)),
        "introductions_settled": settle_introductions(ctx.engine),
        # Before the alert timers, so the follow-up reminders go out on this tick.
        **run_follow_ups(ctx.engine, ctx.settings.config),
        # Before the alert timers, so the reminder goes out on this tick.
        "holds_due": run_hold_reminders(ctx.engine, ctx.settings.config.data_protection),
        # After the deadline warnings, so the alerts they raise go out on this tick.
        **run_alert_timers(),
        # Last: removing old texts can wait; nothing above should wait for it.
        "retention_purged": run_retention(ctx.engine, ctx.settings.config.data_protection),
    }
