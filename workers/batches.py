"""Items judged in batches: one claim, one detector call and one commit for many items.

A worker's job for one item also takes up to `queue.batch_size - 1` other items that are
waiting; their own jobs then find nothing to claim ("already claimed"). Only fresh items join
a batch: one that failed before is retried alone by its own job. The claim is a lease: the
items are `processing` from `status_changed_at`, and the sweep hands back what a dead worker
held after `queue.stuck_after_seconds`.

Everything a batch writes is one transaction, so the audit chain is appended to once, at its
commit, and a worker killed mid-batch leaves nothing half done. A batch that raises has
committed nothing; its items are then done one by one, each in its own transaction, so one
bad item cannot hold the others back, and only the items that fail alone are released.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import select as core_select
from sqlalchemy import tuple_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import HavenConfig
from bot.db import session_scope
from bot.judging import message_of
from bot.models import Item, utcnow
from bot.photos.look import PhotoLook
from rules import RuleSet
from rules.semantic import evaluate_many
from workers.batch_context import prepare
from workers.photos import photos_of_item, with_pictures
from workers.processing import claim_item, handle_item, needs_judging, release_item

log = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    done: list[int] = field(default_factory=list)
    failed: dict[int, Exception] = field(default_factory=dict)  # released for a retry


def claim_batch(engine: Engine, item_id: int, size: int) -> list[int]:
    """Claim `item_id` and up to `size - 1` other fresh items, in id order; [] if it is taken."""
    if not claim_item(engine, item_id):
        return []
    others = claim_ready(engine, size - 1) if size > 1 else []
    return sorted({item_id, *others})


def claim_ready(engine: Engine, limit: int) -> list[int]:
    """Claim up to `limit` items nobody has tried yet, oldest first, in one statement."""
    table = Item.__table__  # type: ignore[attr-defined]
    waiting = table.alias("waiting")  # not correlated with the table being updated
    ready = (
        core_select(waiting.c.id)
        .where(waiting.c.status == "received", waiting.c.attempts == 0)
        .order_by(waiting.c.id)
        .limit(limit)
    )
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Rows another worker is claiming right now are passed over, not waited for.
            # SQLite lets one writer in at a time, so its plain UPDATE is already atomic.
            ready = ready.with_for_update(skip_locked=True)
        # Chosen once. As a plain subquery PostgreSQL may run it again for every row it
        # updates (a nested-loop semi-join, its plan for a table it has few statistics of),
        # each run passing over the rows the runs before it locked: one batch then took every
        # waiting item, whatever `limit` said.
        chosen = ready.cte("ready").prefix_with("MATERIALIZED")
        claimed = connection.execute(
            update(table)
            .where(table.c.id.in_(core_select(chosen.c.id)), table.c.status == "received")
            .values(status="processing", attempts=table.c.attempts + 1, status_changed_at=utcnow())
            .returning(table.c.id)
        )
        return list(claimed.scalars())


def handle_batch(
    session: Session,
    ruleset: RuleSet,
    item_ids: Sequence[int],
    *,
    config: HavenConfig,
    photos: Mapping[int, Sequence[PhotoLook]] | None = None,
) -> dict[int, list[str]]:
    """Judge claimed items together and record each outcome in the session; the caller commits.

    Items are handled in id order, each seeing what the ones before it wrote (two messages of
    one conversation meet on one case, an edit finds its original), as one by one would.
    """
    wanted = select(Item).where(Item.id.in_(item_ids)).order_by(Item.id)  # type: ignore[union-attr]
    found = session.exec(wanted).all()
    if len(found) != len(set(item_ids)):
        raise LookupError(f"items {sorted(set(item_ids) - {i.id for i in found})} do not exist")
    # Every version locked at once, in id order: handle_item locking each object's versions
    # as it came to them, two batches could each hold what the other waits for.
    context = prepare(session, found, config)
    # Read again under the locks, as the versions that held them left them.
    items = list(session.exec(wanted.execution_options(populate_existing=True)).all())
    judged_items = [item for item in items if needs_judging(item)]
    # One detector call for the whole batch: the embedding model runs once over every text.
    messages = [
        message_of(item, no_family_posts=context.voice(item.account_id).no_family_posts)
        for item in judged_items
    ]
    found = evaluate_many(ruleset, messages)
    judged = {item.id: findings for item, findings in zip(judged_items, found, strict=True)}
    return {
        item.id: handle_item(
            session,
            ruleset,
            item.id,
            config=config,
            judged=judged.get(item.id),
            batch=context,
            photos=(photos or {}).get(item.id, ()),
        )
        for item in items
    }


def process_batch(
    engine: Engine, ruleset: RuleSet, config: HavenConfig, item_ids: Sequence[int]
) -> BatchOutcome:
    """Do claimed items in one transaction, or one by one if that raises."""
    # Each item speaks in its own page's voice (handle_item asks bot/config/voices.py).
    # Pictures are fetched and looked at first, outside the batch's transaction: a download
    # may take seconds, and nothing should hold the database meanwhile.
    claimed_at = _claim_times(engine, item_ids)
    photos, unlooked = _look_at_photos(engine, ruleset, config, item_ids)
    item_ids = [i for i in item_ids if i not in unlooked]
    if any(photos.values()):
        # Downloads can outlast `queue.stuck_after_seconds`, after which the sweep hands an
        # item to another worker: keep only the items still held by this claim, and renew it.
        item_ids = _renew_claim(engine, {i: claimed_at[i] for i in item_ids if i in claimed_at})
    if not item_ids:
        return BatchOutcome(failed=unlooked)
    try:
        with session_scope(engine) as session:
            handle_batch(session, ruleset, item_ids, config=config, photos=photos)
        return BatchOutcome(done=list(item_ids), failed=unlooked)
    except Exception as exc:
        if len(item_ids) == 1:
            release_item(engine, item_ids[0], error=type(exc).__name__)
            return BatchOutcome(failed={**unlooked, item_ids[0]: exc})
        # Nothing of the batch was committed. Ids and the error's class only in the log.
        log.warning("batch of %d failed (%s); item by item now", len(item_ids), type(exc).__name__)
    outcome = BatchOutcome(failed=dict(unlooked))
    for item_id in item_ids:
        try:
            with session_scope(engine) as session:
                handle_item(
                    session, ruleset, item_id, config=config, photos=photos.get(item_id, ())
                )
            outcome.done.append(item_id)
        except Exception as exc:
            release_item(engine, item_id, error=type(exc).__name__)
            outcome.failed[item_id] = exc
    return outcome


def _look_at_photos(
    engine: Engine, ruleset: RuleSet, config: HavenConfig, item_ids: Sequence[int]
) -> tuple[dict[int, list[PhotoLook]], dict[int, Exception]]:
    """What each item's pictures show; an item whose look raised is released, not the batch."""
    photos: dict[int, list[PhotoLook]] = {}
    failed: dict[int, Exception] = {}
    # One HTTP session for the batch: its pictures come from the same few CDN hosts.
    with requests.Session() as http:
        for item_id in sorted(with_pictures(engine, item_ids)):
            try:
                photos[item_id] = photos_of_item(engine, ruleset, item_id, config, http)
            except Exception as exc:
                release_item(engine, item_id, error=type(exc).__name__)
                failed[item_id] = exc
    return photos, failed


def _claim_times(engine: Engine, item_ids: Sequence[int]) -> dict[int, Any]:
    """When each claimed item was claimed (its `status_changed_at`): what makes the claim ours."""
    with Session(engine) as session:
        rows = session.exec(
            select(Item.id, Item.status_changed_at).where(
                Item.id.in_(item_ids),  # type: ignore[union-attr]
                Item.status == "processing",
            )
        ).all()
    return {item_id: at for item_id, at in rows}


def _renew_claim(engine: Engine, claimed_at: Mapping[int, Any]) -> list[int]:
    """The items this claim still holds, each claimed afresh; in id order."""
    if not claimed_at:
        return []
    with engine.begin() as connection:
        renewed = connection.execute(
            update(Item)
            .where(
                tuple_(Item.id, Item.status_changed_at).in_(sorted(claimed_at.items())),
                Item.status == "processing",
            )
            .values(status_changed_at=utcnow())
            .returning(Item.id)
        )
        return sorted(renewed.scalars())
