"""Versions of one comment, post or message: edits, removals and hides, in whatever order.

Each update Meta sends is its own item row, so history is kept. Meta retries for 36 hours and
does not keep order, so an edit can arrive before its add and a removal before either: the
newest version by its own time is the one judged, and state (removed, hidden) applies to all.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from bot.audit import record
from bot.models import Finding, Item, ReplyDraft, utcnow

STATE_VERBS = frozenset({"remove", "hide", "unhide"})
# Drafts a person has already acted on stay as they are; only suggestions are withdrawn.
UNDECIDED = ("draft",)
ANSWERED = ("approved", "sending", "sent")


def _same_object(item: Item):  # type: ignore[no-untyped-def]
    return and_(
        Item.platform == item.platform,
        Item.account_id == item.account_id,
        Item.external_id == item.external_id,
        Item.id != item.id,
    )


def _newer_than(item: Item):  # type: ignore[no-untyped-def]
    return or_(
        Item.created_at > item.created_at,
        and_(Item.created_at == item.created_at, Item.id > item.id),
    )


def lock_versions(session: Session, item: Item) -> None:
    """Judge one version of an object at a time: lock every stored version, this one too.

    Without it an edit judged while its add is still being judged cannot see the add's
    uncommitted drafts to retire them, and both stay: two replies for one comment (found by
    tests/drills/test_version_race.py). In id order, so two workers never deadlock; SQLite
    has no row locks and needs none: it lets one writer in at a time.
    """
    session.exec(
        select(Item.id)
        .where(
            Item.platform == item.platform,
            Item.account_id == item.account_id,
            Item.external_id == item.external_id,
        )
        .order_by(Item.id)
        .with_for_update()
    ).all()
    session.refresh(item)  # as the version that held the lock left it


def newer_version_exists(session: Session, item: Item) -> bool:
    """True when a later text of the same object is stored (an edit that overtook this)."""
    newer = session.exec(
        select(Item.id).where(_same_object(item), Item.verb.not_in(STATE_VERBS), _newer_than(item))
    ).first()
    return newer is not None


def supersede_older_versions(session: Session, item: Item) -> set[str]:
    """Retire findings and undecided drafts of earlier texts; return reply kinds already used.

    An edit is judged afresh, but it must not be answered again: a reply approved or sent
    for an earlier version counts for the edit too.
    """
    older_ids = list(
        session.exec(
            select(Item.id).where(
                _same_object(item), Item.verb.not_in(STATE_VERBS), ~_newer_than(item)
            )
        ).all()
    )
    if not older_ids:
        return set()
    now = utcnow()
    session.execute(
        update(Finding)
        .where(
            Finding.item_id.in_(older_ids),
            Finding.superseded_at.is_(None),
            # What someone wrote about being at risk stays in front of the lead even if they
            # edit it away a minute later: that edit is itself no sign they are safe.
            Finding.category.not_like("risk.%"),
        )
        .values(superseded_at=now)
    )
    session.execute(
        update(ReplyDraft)
        .where(ReplyDraft.item_id.in_(older_ids), ReplyDraft.status.in_(UNDECIDED))
        .values(status="superseded", updated_at=now)
    )
    record(session, "system", "item.superseded", "item", item.id, older=older_ids)
    answered = session.exec(
        select(ReplyDraft.kind).where(
            ReplyDraft.item_id.in_(older_ids), ReplyDraft.status.in_(ANSWERED)
        )
    ).all()
    return set(answered)


def apply_state_update(session: Session, update_item: Item) -> None:
    """Mark every stored version removed, hidden or unhidden; nothing is deleted."""
    versions = session.exec(select(Item).where(_same_object(update_item))).all()
    for version in versions:
        _apply(version, update_item)
        session.add(version)
        if update_item.verb == "remove":
            # A removed comment cannot be answered in public any more.
            session.execute(
                update(ReplyDraft)
                .where(
                    ReplyDraft.item_id == version.id,
                    ReplyDraft.kind == "public",
                    ReplyDraft.status.in_(UNDECIDED),
                )
                .values(status="superseded", updated_at=utcnow())
            )
    record(
        session,
        "system",
        f"item.{update_item.verb}",
        "item",
        update_item.id,
        versions=[v.id for v in versions],
    )


def inherit_state(session: Session, item: Item) -> None:
    """Apply removals and hides that arrived before this version did."""
    updates = session.exec(
        select(Item)
        .where(_same_object(item), Item.verb.in_(STATE_VERBS))
        .order_by(Item.created_at, Item.id)
    ).all()
    for state_update in updates:
        _apply(item, state_update)


def _apply(version: Item, state_update: Item) -> None:
    if state_update.verb == "remove":
        version.removed_at = version.removed_at or state_update.created_at
    elif state_update.verb in {"hide", "unhide"}:
        version.hidden = state_update.verb == "hide"
