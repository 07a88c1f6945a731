"""Store a verified delivery: the raw body and its normalised items, in one transaction.

What an erased person wrote up to their erasure is not stored again when Meta redelivers it
(bot/privacy/erased.py): those items are left out and the raw body, which quotes them, is
stored already emptied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bot.db import insert_ignoring_duplicates
from bot.models import ErasedSubject, InboundEvent, Item, PrivacyRemoval, utcnow
from bot.models.privacy import REMOVED_BODY, subject_digests
from webhooks.events import InboundItem, Parsed
from webhooks.events.types import UNKNOWN_TIME

ERASURE = "erasure"


@dataclass
class Stored:
    event_id: int | None
    new_item_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    # Updates an erased person wrote before their erasure: not stored.
    erased: int = 0


def store_delivery(
    session: Session, raw_text: str, parsed: Parsed, known_accounts: Collection[str]
) -> Stored:
    """Insert what is new and report what was already here; the caller commits."""
    digest = hashlib.sha256(raw_text.encode("utf-8", "surrogatepass")).hexdigest()
    connection = session.connection()
    erased = _erased_content(session, parsed.items)
    event_insert = insert_ignoring_duplicates(session, InboundEvent, "body_sha256")
    event_values = {
        "body_sha256": digest,
        "object": clean(parsed.object, 40),
        "body": REMOVED_BODY if erased else clean(raw_text, None),
        "item_count": len(parsed.items),
        "unknown_count": len(parsed.unknown),
    }
    returning_id = event_insert.returning(event_insert.table.c.id)
    event_id = connection.execute(returning_id, event_values).scalar()
    if event_id is None:
        # A byte-identical redelivery: everything in it is already stored.
        return Stored(event_id=None, duplicates=len(parsed.items))
    stored = Stored(event_id=event_id, erased=len(erased))
    if erased:
        # Recorded as emptied, as erasure would have: retention and subject access see it so.
        connection.execute(
            insert(PrivacyRemoval),
            {"table_name": "inbound_events", "row_id": event_id, "reason": ERASURE,
             "removed_at": utcnow()},
        )  # fmt: skip
    item_insert = insert_ignoring_duplicates(session, Item, "delivery_key")
    item_insert = item_insert.returning(item_insert.table.c.id)
    for index, item in enumerate(parsed.items):
        if index in erased:
            continue
        values = {"event_id": event_id, **item_row(item, item.account_id in known_accounts)}
        item_id = connection.execute(item_insert, values).scalar()
        if item_id is None:
            stored.duplicates += 1
        else:
            stored.new_item_ids.append(item_id)
    return stored


def _erased_content(session: Session, items: Sequence[InboundItem]) -> set[int]:
    """The positions of updates by (or in the conversation of) an erased person, written
    before their erasure or already stored once (and so erased with the rest)."""
    people: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(items):
        for person in {item.author_id, item.thread_id} - {None}:
            people.setdefault((item.platform, person), []).append(index)  # type: ignore[arg-type]
    if not people:
        return set()
    whose = {d: person for person in people for d in subject_digests(*person)}
    rows = session.exec(
        select(ErasedSubject.subject_digest, ErasedSubject.erased_at).where(
            col(ErasedSubject.subject_digest).in_(whose)
        )
    ).all()
    erased_at: dict[int, datetime] = {}
    for found, at in rows:
        for index in people[whose[found]]:
            erased_at[index] = max(at, erased_at.get(index, at))
    if not erased_at:
        return set()
    keys = [items[i].delivery_key for i in erased_at]
    seen = set(session.exec(select(Item.delivery_key).where(col(Item.delivery_key).in_(keys))))
    return {
        i
        for i, at in erased_at.items()
        if items[i].delivery_key in seen or UNKNOWN_TIME < items[i].created_at <= at
    }


def item_row(item: InboundItem, known: bool, now: datetime | None = None) -> dict[str, Any]:
    """The items row for one update, without its event: every value cut to what the column
    takes (webhooks/one_statement.py lists these keys in its statement)."""
    return {
        "delivery_key": clean(item.delivery_key, 200),
        "platform": clean(item.platform, 20),
        "channel": clean(item.channel, 20),
        "verb": clean(item.verb, 20),
        "account_id": clean(item.account_id, 64),
        "external_id": clean(item.external_id, 200),
        "post_id": clean(item.post_id, 200),
        "parent_id": clean(item.parent_id, 200),
        "thread_id": clean(item.thread_id, 200),
        "author_id": clean(item.author_id, 64),
        "author_name": clean(item.author_name, 200),
        "author_username": clean(item.author_username, 200),
        "text": clean(item.text, None),
        "attachments": [
            {"type": clean(a.type, 40), "url": clean(a.url, 2000)} for a in item.attachments
        ],
        # The parser reads no clock; an update with no usable time of its own is dated on arrival.
        "created_at": item.created_at if item.created_at != UNKNOWN_TIME else now or utcnow(),
        "is_echo": item.is_echo,
        "from_page": item.from_page,
        "standby": item.standby,
        "known_account": known,
        "app_id": clean(item.app_id, 64),
        "send_metadata": clean(item.metadata, 1000),
        "media_product_type": clean(item.media_product_type, 20),
        "button_payload": clean(item.payload, 1000),
    }


def clean(value: str | None, limit: int | None) -> str | None:
    """Text every database accepts: no NUL, no lone surrogates, within the column's size."""
    if value is None:
        return None
    text = value.replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text
