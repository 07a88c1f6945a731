"""rq jobs: thin shells that find their context and call the plain functions tests call directly."""

from __future__ import annotations

from bot.context import current
from bot.db import session_scope
from workers.processing import claim_item, handle_item, release_item
from workers.sweep import sweep_stuck_items


def process_item(item_id: int) -> str:
    """Run the rules on a stored item and record what follows from them."""
    ctx = current()
    if not claim_item(ctx.engine, item_id):
        return "already claimed"
    try:
        with session_scope(ctx.engine) as session:
            page_name = ctx.settings.config.organisation.page_name
            handle_item(session, ctx.ruleset, item_id, page_name=page_name)
    except Exception as exc:
        # Nothing of the failed attempt was committed; hand the item back so the queue's
        # retry (or the sweep) can claim it again.
        release_item(ctx.engine, item_id, error=type(exc).__name__)
        raise
    return "processed"


def sweep() -> int:
    """Put back on the queue anything stored but not processed (Redis lost, worker killed)."""
    ctx = current()
    return sweep_stuck_items(
        ctx.engine, ctx.enqueuer, stuck_after_seconds=ctx.settings.config.queue.stuck_after_seconds
    )


def tick() -> int:
    """Run the periodic timers that live in the database."""
    return sweep()
