"""Finding a person by name or handle, among the people a role may see (issue 18).

Names and handles are encrypted at rest with Fernet, whose tokens differ every time the same
name is sealed, so SQL cannot compare them (bot/models/moderation.py). The search therefore
decrypts and filters a bounded set: one name and one handle for each of the `SCAN_LIMIT`
people who wrote most recently, among those the role may see (bot/cases/access.py), and
matches the query as a case-insensitive part of either. Why not a keyed blind index
(docs/decisions.md): a searchable index of name fragments is a second copy of every name, one
more thing to erase, re-key and keep out of reach, to speed up a search over a few thousand
people that decrypting already answers in well under a second; retention keeps the set small.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.cases.access import items_seen_by
from bot.models import Item

SCAN_LIMIT = 5000  # people, most recent first; said on the page when reached
MIN_QUERY = 2


@dataclass(frozen=True)
class Person:
    platform: str
    author_id: str
    name: str | None
    handle: str | None
    last_seen: datetime
    items: int


@dataclass(frozen=True)
class Found:
    people: list[Person]
    scanned: int
    capped: bool  # the scan stopped at SCAN_LIMIT: older people were not searched


def fold(text: str) -> str:
    """Text as compared: compatibility forms joined, case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def search_people(db: Session, role: str | None, query: str, limit: int = SCAN_LIMIT) -> Found:
    """People whose name or handle contains the query, most recently seen first.

    Only items the role may see count, for finding a person and for their name: someone known
    only through a safeguarding case is nobody to a moderator.
    """
    wanted = fold(query).removeprefix("@")
    if len(wanted) < MIN_QUERY:
        return Found([], 0, False)
    last_seen = func.max(Item.created_at)
    rows = db.exec(
        select(
            Item.platform,
            Item.author_id,
            func.max(Item.author_name),
            func.max(Item.author_username),
            last_seen,
            func.count(),
        )
        .where(Item.author_id.is_not(None), items_seen_by(role))  # type: ignore[union-attr]
        .group_by(Item.platform, Item.author_id)
        .order_by(last_seen.desc(), Item.platform, Item.author_id)
        .limit(limit + 1)
    ).all()
    capped = len(rows) > limit
    people = [
        Person(platform, author_id, name, handle, seen, count)
        for platform, author_id, name, handle, seen, count in rows[:limit]
        if wanted in fold(name or "") or wanted in fold(handle or "")
    ]
    return Found(people, min(len(rows), limit), capped)
