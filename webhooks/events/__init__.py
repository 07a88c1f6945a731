"""Normalise Meta webhook payloads (Page feed, Messenger, Instagram) into InboundItems (pure).

No Flask, database, environment, clock or logging here: parse_payload takes the decoded JSON
body and returns plain data, and never raises, whatever the body contains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webhooks.events.common import clean_id, clean_text, short
from webhooks.events.feed import parse_feed_change
from webhooks.events.instagram import parse_ig_comment, parse_ig_mention
from webhooks.events.messaging import parse_messaging
from webhooks.events.types import (
    CHANNELS,
    PLATFORMS,
    UNKNOWN_TIME,
    VERBS,
    Attachment,
    EntryContext,
    Ignored,
    InboundItem,
    Outcome,
    Parsed,
    Unknown,
)

__all__ = [
    "CHANNELS",
    "PLATFORMS",
    "UNKNOWN_TIME",
    "VERBS",
    "Attachment",
    "Ignored",
    "InboundItem",
    "Parsed",
    "Unknown",
    "parse_payload",
]

_PLATFORM_OF_OBJECT = {"page": "facebook", "instagram": "instagram"}
# Fields whose change value is a messaging event. Real DMs arrive in messaging[], but the
# dashboard "Test" button (Instagram Login in particular) sends them as changes[] entries.
_MESSAGING_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "message_edits",
        "message_reactions",
        "message_deliveries",
        "message_reads",
        "messaging_seen",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_optins",
    }
)
# Order for updates that share a timestamp: an add before what happens to it afterwards.
_VERB_ORDER = {"add": 0, "edited": 1, "hide": 2, "unhide": 3, "remove": 4}


def parse_payload(payload: Any) -> Parsed:
    """Return every item, ignored event and unknown shape in one decoded webhook body.

    Every entry and every changes[] / messaging[] / standby[] event is visited: Meta batches
    up to 1000 updates per POST, and stopping at the first loses the rest. Items are sorted
    by created_at (stable; adds first on ties) because Meta does not keep order after
    retries. Ordering across deliveries, e.g. an edit that arrives before its add, remains
    the caller's job: it should compare created_at and verbs, not arrival order.
    """
    if not isinstance(payload, dict):
        return Parsed(None, [], [], [Unknown("payload is not a JSON object", payload)])
    object_name = clean_text(payload.get("object"))
    outcomes: list[Outcome] = []
    entries = payload.get("entry")
    if isinstance(entries, list):
        for entry in entries:
            outcomes.extend(_parse_entry(entry, object_name))
    else:
        outcomes.append(Unknown("payload has no entry list", payload))
    items = [outcome for outcome in outcomes if isinstance(outcome, InboundItem)]
    items.sort(key=lambda item: (item.created_at, _VERB_ORDER.get(item.verb, len(_VERB_ORDER))))
    return Parsed(
        object=object_name,
        items=items,
        ignored=[outcome for outcome in outcomes if isinstance(outcome, Ignored)],
        unknown=[outcome for outcome in outcomes if isinstance(outcome, Unknown)],
    )


def _parse_entry(entry: Any, object_name: str | None) -> list[Outcome]:
    if not isinstance(entry, dict):
        return [Unknown("entry is not an object", entry)]
    account_id = clean_id(entry.get("id"))
    if account_id is None:
        return [Unknown("entry without id", entry)]
    platform = _PLATFORM_OF_OBJECT.get(object_name or "")
    base = EntryContext(platform=platform, account_id=account_id, entry_time=entry.get("time"))
    standby = EntryContext(platform, account_id, entry.get("time"), standby=True)
    # Route on which key is present, not on payload.object alone: one entry may carry
    # several of these, and standby[] holds events for threads another app or the Page
    # inbox controls (record them; never answer them).
    sources: list[tuple[str, Callable[[Any, EntryContext], Outcome], EntryContext]] = [
        ("changes", _parse_change, base),
        ("messaging", parse_messaging, base),
        ("standby", parse_messaging, standby),
    ]
    outcomes: list[Outcome] = []
    found = False
    for key, parse_event, ctx in sources:
        if key not in entry:
            continue
        found = True
        events = entry[key]
        if not isinstance(events, list):
            outcomes.append(Unknown(f"entry.{key} is not a list", events))
            continue
        outcomes.extend(_parse_safely(parse_event, event, ctx) for event in events)
    if not found:
        outcomes.append(Unknown("entry has no changes, messaging or standby", entry))
    return outcomes


def _parse_change(change: Any, ctx: EntryContext) -> Outcome:
    if not isinstance(change, dict):
        return Unknown("change is not an object", change)
    field = clean_text(change.get("field"))
    # The field, not payload.object, decides the platform: feed is Page-only, comments,
    # live_comments and mentions are Instagram-only.
    if field == "feed":
        return parse_feed_change(change, ctx)
    if field in ("comments", "live_comments"):
        return parse_ig_comment(change, ctx, live=field == "live_comments")
    if field == "mentions":
        return parse_ig_mention(change, ctx)
    if field in _MESSAGING_FIELDS and isinstance(change.get("value"), dict):
        return parse_messaging(change["value"], ctx, raw=change)
    return Unknown(f"change field {short(field)} not understood", change)


def _parse_safely(
    parse_event: Callable[[Any, EntryContext], Outcome], event: Any, ctx: EntryContext
) -> Outcome:
    """Run one event's parser; a bug on one odd shape must not lose the rest of the batch."""
    try:
        return parse_event(event, ctx)
    except Exception as error:  # the property tests assert that this never happens
        return Unknown(f"parser failed: {type(error).__name__}", event)
