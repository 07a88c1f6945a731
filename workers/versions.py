"""Versions of one comment, post or message: edits, removals and hides, in whatever order.

Each update Meta sends is its own item row, so history is kept. Meta retries for 36 hours and
does not keep order, so an edit can arrive before its add and a removal before either: the
newest version by its own time is the one judged, and state (removed, hidden) applies to all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, tuple_, update
from sqlmodel import Session, select

from bot.audit import record
from bot.models import Finding, Item, ReplyDraft, utcnow

STATE_VERBS = frozenset({"remove", "hide", "unhide"})
# Drafts a person has already acted on stay as they are; only suggestions are withdrawn.
UNDECIDED = ("draft",)
ANSWERED = ("approved", "sending", "sent")


class Version(NamedTuple):
    """What ordering the versions of one object needs of each: read once, under the lock."""

    id: int
    verb: str
    created_at: datetime


ObjectKey = tuple[str, str, str]  # platform, account, external id: one comment, post or message


def object_of(item: Item) -> ObjectKey:
    return (item.platform, item.account_id, item.external_id)


def _same_object(item: Item):  # type: ignore[no-untyped-def]
    return and_(
        Item.platform == item.platform,
        Item.account_id == item.account_id,
        Item.external_id == item.external_id,
        Item.id != item.id,
    )


def _newer(version: Version, item: Item) -> bool:
    return (version.created_at, version.id) > (item.created_at, item.id)


def lock_versions(session: Session, items: Sequence[Item]) -> dict[ObjectKey, list[Version]]:
    """Judge one version of an object at a time: lock every stored version, these too.

    Without it an edit judged while its add is still being judged cannot see the add's
    uncommitted drafts to retire them, and both stay: two replies for one comment (found by
    tests/drills/test_version_race.py). All at once and in id order, so two workers (or two
    batches) never deadlock; SQLite has no row locks and needs none: it lets one writer in
    at a time. Returns every version by object, which is all the functions below read of
    them, so a batch asks once, not three times per item.
    """
    objects = sorted({object_of(item) for item in items})
    rows = session.exec(
        select(
            Item.id, Item.platform, Item.account_id, Item.external_id, Item.verb, Item.created_at
        )
        .where(tuple_(Item.platform, Item.account_id, Item.external_id).in_(objects))
        .order_by(Item.id)
        .with_for_update()
    ).all()
    versions: dict[ObjectKey, list[Version]] = {key: [] for key in objects}
    for row in rows:
        versions[(row.platform, row.account_id, row.external_id)].append(
            Version(row.id, row.verb, row.created_at)
        )
    return versions


def _other_texts(item: Item, versions: Sequence[Version]) -> list[Version]:
    """The object's other versions that carry a text (not removals or hides)."""
    return [v for v in versions if v.id != item.id and v.verb not in STATE_VERBS]


def newer_version_exists(item: Item, versions: Sequence[Version]) -> bool:
    """True when a later text of the same object is stored (an edit that overtook this)."""
    return any(_newer(v, item) for v in _other_texts(item, versions))


def supersede_older_versions(session: Session, item: Item, versions: Sequence[Version]) -> set[str]:
    """Retire findings and undecided drafts of earlier texts; return reply kinds already used.

    An edit is judged afresh, but it must not be answered again: a reply approved or sent
    for an earlier version counts for the edit too.
    """
    older_ids = [v.id for v in _other_texts(item, versions) if not _newer(v, item)]
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


def inherit_state(item: Item, versions: Sequence[Version]) -> None:
    """Apply removals and hides that arrived before this version did."""
    updates = [v for v in versions if v.id != item.id and v.verb in STATE_VERBS]
    for state_update in sorted(updates, key=lambda v: (v.created_at, v.id)):
        _apply(item, state_update)


def _apply(version: Item, state_update: Item | Version) -> None:
    if state_update.verb == "remove":
        version.removed_at = version.removed_at or state_update.created_at
    elif state_update.verb in {"hide", "unhide"}:
        version.hidden = state_update.verb == "hide"
