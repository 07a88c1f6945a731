"""The photo step of processing an item: look at its pictures before its transaction opens.

A download may take seconds; nothing holds the database meanwhile. What comes back holds no
picture, only what was seen (bot/photos/look.py), and processing.handle_item records it.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import HavenConfig
from bot.config.voices import voice_for
from bot.models import Item
from bot.photos.look import PICTURE_TYPES, PhotoLook, look_at_photos, pictures_of
from rules import RuleSet
from workers.processing import needs_judging


def with_pictures(engine: Engine, item_ids: Sequence[int]) -> set[int]:
    """The items among these that have a picture attached: one query for a whole batch.

    Most items have none: their attachments alone say so, nothing is decrypted.
    """
    with Session(engine) as session:
        rows = session.exec(
            select(Item.id, Item.attachments).where(Item.id.in_(item_ids))  # type: ignore[union-attr]
        ).all()
    return {
        item_id
        for item_id, attachments in rows
        if attachments and any(a.get("type") in PICTURE_TYPES for a in attachments)
    }


def photos_of_item(
    engine: Engine,
    ruleset: RuleSet,
    item_id: int,
    config: HavenConfig,
    http: requests.Session | None = None,
) -> list[PhotoLook]:
    """Fetch and analyse the pictures of an item that has some, if it is one Haven will judge."""
    with Session(engine) as session:
        item = session.get(Item, item_id)
        if item is None or not _judged(item) or not pictures_of(item, config.photos):
            return []
        session.expunge(item)
    # The page's own post, from a page that never posts about its families: any person counts.
    strict = item.from_page and voice_for(config, item.account_id).no_family_posts
    return look_at_photos(item, ruleset, config.photos, http, no_family_photos=strict)


def _judged(item: Item) -> bool:
    # As handle_item; and the page's own private messages (echoes) are between it and one
    # person: their pictures are not looked at.
    return needs_judging(item) and not item.is_echo
