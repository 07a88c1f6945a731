"""The safety net under the queue: the database says what is unfinished, not Redis."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from bot.models import Item, utcnow
from bot.tasks import Enqueuer, enqueue_item

log = logging.getLogger(__name__)

# An item that has killed its worker this many times is set aside for a person to look at,
# rather than taking a worker down on every sweep.
MAX_ATTEMPTS = 5


def sweep_stuck_items(engine: Engine, enqueuer: Enqueuer, *, stuck_after_seconds: int) -> int:
    """Re-enqueue items left in 'received', and reclaim ones a dead worker left in 'processing'."""
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    with engine.begin() as connection:
        # A worker killed mid-item rolled its transaction back, so the item is untouched
        # apart from its status: putting it back to 'received' loses and repeats nothing.
        connection.execute(
            update(Item)
            .where(
                Item.status.in_(("received", "processing")),
                Item.status_changed_at < cutoff,
                Item.attempts >= MAX_ATTEMPTS,
            )
            .values(status="failed", status_changed_at=utcnow(), error="gave up after retries")
        )
        connection.execute(
            update(Item)
            .where(Item.status == "processing", Item.status_changed_at < cutoff)
            .values(status="received", status_changed_at=utcnow())
        )
        stuck = connection.execute(
            select(Item.id, Item.attempts).where(
                Item.status == "received",
                or_(Item.status_changed_at < cutoff, Item.attempts > 0),
            )
        ).all()
        ids = [(row.id, row.attempts) for row in stuck]
    for item_id, attempts in ids:
        enqueue_item(enqueuer, item_id, attempts=attempts)
    if ids:
        log.warning("sweep re-enqueued %d item(s)", len(ids))
    return len(ids)
