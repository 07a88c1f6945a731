"""rq jobs: thin shells that find their context and call the plain functions tests call directly."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.actions import enqueue_action
from bot.config.voices import retention_by_account
from bot.context import current
from bot.directory.introductions import settle_introductions
from bot.models import OutboundAction
from bot.privacy.hold_reviews import run_hold_reminders
from bot.privacy.retention import run_retention
from bot.tasks import enqueue_item
from workers.alerts import dispatch_quietly, run_alert_timers
from workers.batches import claim_batch, process_batch
from workers.follow_up import run_follow_ups
from workers.sending import perform
from workers.sweep import sweep_stuck_items
from workers.timers import sweep_actions, warn_private_reply_deadlines


def process_item(item_id: int) -> str:
    """Run the rules on a stored item, and on the others waiting with it, and record the outcome."""
    ctx = current()
    config = ctx.settings.config
    claimed = claim_batch(ctx.engine, item_id, config.queue.batch_size)
    if not claimed:
        return "already claimed"
    outcome = process_batch(ctx.engine, ctx.ruleset, config, claimed)
    # Automatic actions the rules asked for (hiding a comment with personal details) are
    # recorded with the items; they are carried out by their own jobs, after the commit.
    if outcome.done:
        with Session(ctx.engine) as session:
            actions = session.exec(
                select(OutboundAction.id).where(
                    OutboundAction.item_id.in_(outcome.done),  # type: ignore[attr-defined]
                    OutboundAction.status == "pending",
                )
            ).all()
        for action_id in actions:
            enqueue_action(ctx.enqueuer, action_id)
        # Alerts were committed with the items; their deliveries go out now, each its own job.
        dispatch_quietly(ctx)
    for other_id in outcome.failed.keys() - {item_id}:
        # Released by the batch; its own job may have come and gone ("already claimed").
        enqueue_item(ctx.enqueuer, other_id, attempts=1)
    if item_id in outcome.failed:
        raise outcome.failed[item_id]  # released: the queue's retry (or the sweep) claims it again
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
        "retention_purged": run_retention(
            ctx.engine,
            ctx.settings.config.data_protection,
            days_by_account=retention_by_account(ctx.settings.config),
        ),
    }
