"""Messenger and Instagram direct messages: entry.messaging[] and entry.standby[] (pure)."""

from __future__ import annotations

from typing import Any

from rules.consent import HAVEN_PAYLOAD_PREFIX
from webhooks.events.common import (
    as_dict,
    as_list,
    clean_id,
    clean_text,
    content_version,
    delivery_key,
    epoch_part,
    first_time,
    flag,
)
from webhooks.events.types import Attachment, EntryContext, Ignored, InboundItem, Outcome, Unknown

_CHANNELS = {"facebook": "fb_dm", "instagram": "ig_dm"}
# Each messaging event carries exactly one event key. These carry nothing to moderate.
_IGNORED_EVENTS = {
    "reaction": "message reactions are not moderated",
    "read": "read receipts carry no content",
    "delivery": "delivery receipts carry no content",
    "postback": "taps on buttons Haven did not send are not moderated",
    "referral": "referrals (ads, m.me links) carry no user text",
    "optin": "opt-ins carry no user text",
    "account_linking": "account linking carries no user text",
    "pass_thread_control": "thread control changes carry no content",
    "take_thread_control": "thread control changes carry no content",
    "request_thread_control": "thread control changes carry no content",
}


def parse_messaging(event: object, ctx: EntryContext, raw: dict | None = None) -> Outcome:
    """Return the item, ignored event or unknown shape for one messaging/standby event.

    raw is what gets stored: the event itself, or the wrapping change when the Instagram
    dashboard "Test" button sends a DM as a changes[] entry.
    """
    if not isinstance(event, dict):
        return Unknown("messaging event is not an object", event if raw is None else raw)
    stored = event if raw is None else raw
    # Messenger and Instagram DMs share one envelope; only payload.object tells them apart.
    channel = _CHANNELS.get(ctx.platform or "")
    if channel is None:
        return Unknown("messaging event under an unknown object", stored)
    if "message_edit" in event:
        return _message_edit(event, stored, channel, ctx)
    if "message" in event:
        return _message(event, stored, channel, ctx)
    if _haven_postback(event):
        return _postback(event, stored, channel, ctx)
    for key, reason in _IGNORED_EVENTS.items():
        if key in event:
            return Ignored(f"{channel}.{key}", reason)
    return Unknown("messaging event without a known event key", stored)


def _message(event: dict, stored: dict, channel: str, ctx: EntryContext) -> Outcome:
    found = _with_mid(event, "message", stored)
    if isinstance(found, Unknown):
        return found
    message, mid = found
    is_echo = flag(message.get("is_echo"))
    author_id, thread_id, from_page = _participants(event, ctx, is_echo)
    # Instagram unsend: the same mid returns with is_deleted and no content. It marks the
    # stored message removed; it is not a new message.
    deleted = flag(message.get("is_deleted"))
    verb = "remove" if deleted else "add"
    attachments = () if deleted else _attachments(message)
    if flag(message.get("is_unsupported")):
        # Content Meta cannot deliver over the API: a human has to look in the inbox.
        attachments += (Attachment("unsupported"),)
    reply_to = as_dict(message.get("reply_to"))
    # A reply names the message it answers; an Instagram story reply names the story.
    parent_id = clean_id(reply_to.get("mid")) or clean_id(as_dict(reply_to.get("story")).get("id"))
    return _dm_item(
        event,
        stored,
        channel,
        ctx,
        verb=verb,
        external_id=mid,
        parent_id=parent_id,
        thread_id=thread_id,
        author_id=author_id,
        text=None if deleted else clean_text(message.get("text")),
        attachments=attachments,
        is_echo=is_echo,
        from_page=from_page,
        # mid is unique per message and identical across retries and across both Instagram
        # connection paths; an unsend of the same mid is a separate 'remove' update.
        delivery_key=delivery_key(channel, verb, mid),
        app_id=clean_id(message.get("app_id")),
        metadata=clean_text(message.get("metadata")),
        # A tapped quick reply arrives as a message: its title as text, and this payload.
        payload=clean_text(as_dict(message.get("quick_reply")).get("payload")),
    )


def _with_mid(event: dict, key: str, stored: dict) -> tuple[dict, str] | Unknown:
    """The event's `key` object and its mid, or why the shape is unknown."""
    body = event.get(key)
    if not isinstance(body, dict):
        return Unknown(f"{key} is not an object", stored)
    mid = clean_id(body.get("mid"))
    if mid is None:
        return Unknown(f"{key} without mid", stored)
    return body, mid


def _dm_item(
    event: dict, stored: dict, channel: str, ctx: EntryContext, **fields: Any
) -> InboundItem:
    """A direct message update: what every messaging item shares, plus its own fields."""
    fields.setdefault("parent_id", None)
    fields.setdefault("attachments", ())
    fields.setdefault("is_echo", False)
    return InboundItem(
        platform="facebook" if channel == "fb_dm" else "instagram",
        channel=channel,
        account_id=ctx.account_id,
        post_id=None,
        author_name=None,  # the messaging webhook never names the sender
        author_username=None,
        created_at=first_time(event.get("timestamp"), ctx.entry_time),  # milliseconds
        standby=ctx.standby,
        raw=stored,
        **fields,
    )


def _haven_postback(event: dict) -> bool:
    """A tap on one of Haven's own buttons (the consent question's); others are ignored."""
    payload = clean_text(as_dict(event.get("postback")).get("payload")) or ""
    return payload.startswith(HAVEN_PAYLOAD_PREFIX)


def _postback(event: dict, stored: dict, channel: str, ctx: EntryContext) -> Outcome:
    """A tapped postback button (Messenger, Instagram): the button's title and its payload.

    Kept as a message from the person, so an answer given by a button is read like one typed.
    """
    postback = event.get("postback")
    if not isinstance(postback, dict):
        return Unknown("postback is not an object", stored)
    payload = clean_text(postback.get("payload"))
    author_id, thread_id, from_page = _participants(event, ctx, is_echo=False)
    if payload is None or author_id is None:
        return Unknown("postback without payload or sender", stored)
    # Newer postbacks carry a mid; older Messenger ones do not, and are told apart by sender,
    # time and payload (a redelivery repeats all three).
    mid = clean_id(postback.get("mid"))
    external_id = mid or "postback:" + content_version(
        author_id, epoch_part(event.get("timestamp")), payload
    )
    return _dm_item(
        event,
        stored,
        channel,
        ctx,
        verb="add",
        external_id=external_id,
        thread_id=thread_id,
        author_id=author_id,
        text=clean_text(postback.get("title")),
        from_page=from_page,
        delivery_key=delivery_key(channel, "postback", external_id),
        payload=payload,
    )


def _message_edit(event: dict, stored: dict, channel: str, ctx: EntryContext) -> Outcome:
    found = _with_mid(event, "message_edit", stored)
    if isinstance(found, Unknown):
        return found
    edit, mid = found
    author_id, thread_id, from_page = _participants(event, ctx, is_echo=False)
    text = clean_text(edit.get("text"))
    # num_edit counts a message's edits (at most 5), so it tells a second edit from a
    # redelivery of the first; without it, the new text and edit time do.
    version = clean_id(edit.get("num_edit")) or content_version(
        text, epoch_part(event.get("timestamp"))
    )
    return _dm_item(
        event,
        stored,
        channel,
        ctx,
        verb="edited",
        external_id=mid,
        thread_id=thread_id,
        author_id=author_id,
        text=text,
        from_page=from_page,
        delivery_key=delivery_key(channel, "edited", mid, version),
    )


def _participants(
    event: dict, ctx: EntryContext, is_echo: bool
) -> tuple[str | None, str | None, bool]:
    """Return (author id, conversation key, from_page) for one messaging event."""
    sender_id = clean_id(as_dict(event.get("sender")).get("id"))
    recipient_id = clean_id(as_dict(event.get("recipient")).get("id"))
    from_page = is_echo or (sender_id is not None and sender_id == ctx.account_id)
    # The conversation is keyed by the other party: the sender of an inbound message, the
    # recipient of an echo (an echo's sender is the Page or IG account itself).
    thread_id = recipient_id if from_page else sender_id
    return sender_id, thread_id, from_page


def _attachments(message: dict) -> tuple[Attachment, ...]:
    raw_attachments = as_list(message.get("attachments"))
    types = [_attachment_type(as_dict(item).get("type")) for item in raw_attachments]
    has_sticker = "sticker" in types
    result: list[Attachment] = []
    for item, kind in zip(raw_attachments, types, strict=True):
        attachment = as_dict(item)
        payload = as_dict(attachment.get("payload"))
        if kind == "image" and payload.get("sticker_id") is not None:
            # Stickers used to arrive as images with a sticker_id. From 2026-06-01 Meta sends
            # a 'sticker' attachment alongside that image, and from 2026-08-30 only the sticker.
            # Report one sticker either way, never a photo for the photo rules to flag.
            if has_sticker:
                continue
            kind = "sticker"
        # Older fallback (shared link) attachments put the URL beside a null payload, as
        # 'url' or 'URL'.
        url = (
            clean_text(payload.get("url"))
            or clean_text(attachment.get("url"))
            or clean_text(attachment.get("URL"))
        )
        result.append(Attachment(kind, url))
    return tuple(result)


def _attachment_type(value: object) -> str:
    """Return Meta's attachment type in lowercase; missing or absurd types become 'unknown'."""
    kind = (clean_text(value) or "").strip().lower()
    return kind if 0 < len(kind) <= 32 else "unknown"
