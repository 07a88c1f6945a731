"""The normalised shapes webhooks.events produces from Meta webhook payloads (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PLATFORMS = frozenset({"facebook", "instagram"})
CHANNELS = frozenset({"fb_comment", "fb_post", "fb_dm", "ig_comment", "ig_mention", "ig_dm"})
VERBS = frozenset({"add", "edited", "remove", "hide", "unhide"})

# created_at when neither the event nor its entry carries a usable time. A fixed value keeps
# parsing pure (no clock read); the caller substitutes its own received-at time.
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Attachment:
    """One media item on a comment, post or message.

    type uses Meta's messaging names (image, video, audio, file, sticker, share, story_mention,
    ig_reel, reel, fallback, template, ...); Page feed photos are reported as "image" so rules
    need one name for pictures. "unsupported" marks an Instagram message Meta could not deliver.
    """

    type: str
    url: str | None = None


@dataclass(frozen=True)
class InboundItem:
    """One update to one comment, post or message, whatever platform or channel it came from."""

    platform: str
    channel: str
    verb: str
    account_id: str
    external_id: str
    post_id: str | None
    parent_id: str | None
    thread_id: str | None
    author_id: str | None
    author_name: str | None
    author_username: str | None
    text: str | None
    attachments: tuple[Attachment, ...]
    created_at: datetime
    is_echo: bool
    from_page: bool
    standby: bool
    delivery_key: str
    raw: dict
    # Echoes only: which app sent it (Page inbox humans echo as 263902037430900) and the
    # metadata string our own sends attach, so the worker can tell bot sends from human ones.
    app_id: str | None = None
    metadata: str | None = None
    # Instagram comments: FEED, REELS, STORY, AD, LIVE... (Live allows no public reply).
    media_product_type: str | None = None
    # Messages: the payload of a tapped quick reply or postback button.
    payload: str | None = None


@dataclass(frozen=True)
class Ignored:
    """An event Haven deliberately does not moderate (reactions, reads, deliveries...)."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Unknown:
    """A shape we do not understand: the caller stores it as unknown and still answers 200."""

    reason: str
    raw: Any


@dataclass(frozen=True)
class Parsed:
    """Everything one webhook body contained, sorted into items, ignored and unknown."""

    object: str | None
    items: list[InboundItem]
    ignored: list[Ignored]
    unknown: list[Unknown]


@dataclass(frozen=True)
class EntryContext:
    """What every change or messaging event inherits from the entry that carried it."""

    platform: str | None  # from payload.object; None when it is neither page nor instagram
    account_id: str
    entry_time: Any  # raw entry.time: seconds for feed/comments, milliseconds for messaging
    standby: bool = False


Outcome = InboundItem | Ignored | Unknown
