"""Instagram `comments`, `live_comments` and `mentions` changes (pure)."""

from __future__ import annotations

from typing import Any

from webhooks.events.common import (
    as_dict,
    as_list,
    clean_id,
    clean_text,
    delivery_key,
    first_time,
)
from webhooks.events.types import Attachment, EntryContext, InboundItem, Outcome, Unknown


def parse_ig_comment(change: dict, ctx: EntryContext, *, live: bool = False) -> Outcome:
    """Return the item for one Instagram comment (or Live comment), or Unknown."""
    value = change.get("value")
    if not isinstance(value, dict):
        return Unknown("instagram comment change without a value object", change)
    # Meta's Facebook-Login sample names the key comment_id; captured production payloads
    # (2025-2026, Instagram Login and Facebook Login) use id. Accept both.
    comment_id = clean_id(value.get("id")) or clean_id(value.get("comment_id"))
    if comment_id is None:
        return Unknown("instagram comment without id", change)
    author = as_dict(value.get("from"))
    author_id = clean_id(author.get("id"))
    media = as_dict(value.get("media"))
    media_id = clean_id(media.get("id")) or clean_id(value.get("media_id"))
    product_type = clean_text(media.get("media_product_type"))
    if product_type is None and live:
        product_type = "LIVE"  # live_comments only fire during a broadcast
    return _ig_item(
        change,
        ctx,
        "ig_comment",
        comment_id,
        media_id,
        parent_id=clean_id(value.get("parent_id")),
        author_id=author_id,
        author_username=clean_text(author.get("username")),
        text=clean_text(value.get("text")),
        # The comment value carries no time of its own; entry.time (seconds) is the event time.
        created_at=first_time(value.get("timestamp"), value.get("created_time"), ctx.entry_time),
        # The account's own replies come back as comments with from.id == the account id.
        from_page=author_id is not None and author_id == ctx.account_id,
        media_product_type=product_type,
        attachments=_comment_attachments(value),
    )


def _comment_attachments(value: dict) -> tuple[Attachment, ...]:
    """The picture on a comment, so the worker can look at it rather than never see it.

    The reference documents no media field of the comment itself (`media` is the post it is
    on). When one comes it is read in the two shapes Meta uses elsewhere: messaging's
    `attachments[]` with `payload.url`, and the feed comment's `photo` URL.
    """
    found: list[Attachment] = []
    for raw in as_list(value.get("attachments")):
        attachment = as_dict(raw)
        kind = (clean_text(attachment.get("type")) or "unknown").lower()[:32]
        url = clean_text(as_dict(attachment.get("payload")).get("url")) or clean_text(
            attachment.get("url")
        )
        found.append(Attachment("image" if kind == "photo" else kind, url))
    if value.get("photo"):
        found.append(Attachment("image", clean_text(value.get("photo"))))
    return tuple(found)


def parse_ig_mention(change: dict, ctx: EntryContext) -> Outcome:
    """Return the item for an @mention of the account in someone else's comment or caption."""
    value = change.get("value")
    if not isinstance(value, dict):
        return Unknown("instagram mention change without a value object", change)
    media_id = clean_id(value.get("media_id")) or clean_id(as_dict(value.get("media")).get("id"))
    # comment_id is absent when the mention is in a caption: the media is then the item.
    comment_id = clean_id(value.get("comment_id"))
    external_id = comment_id or media_id
    if external_id is None:
        return Unknown("instagram mention without media_id or comment_id", change)
    return _ig_item(
        change,
        ctx,
        "ig_mention",
        external_id,
        media_id,
        parent_id=None,
        # The mention webhook names only the ids; the worker fetches text and author via the
        # IG user's mentioned_comment / mentioned_media fields.
        author_id=None,
        author_username=None,
        text=clean_text(value.get("text")),
        created_at=first_time(value.get("timestamp"), ctx.entry_time),
        from_page=False,
        attachments=(),
    )


def _ig_item(
    change: dict,
    ctx: EntryContext,
    channel: str,
    external_id: str,
    media_id: str | None,
    **fields: Any,
) -> InboundItem:
    """An Instagram comment or mention: what both share, plus their own fields."""
    return InboundItem(
        platform="instagram",
        channel=channel,
        # Users cannot edit Instagram comments and deletions are not sent as webhooks,
        # so every comment or mention change is an add.
        verb="add",
        account_id=ctx.account_id,
        external_id=external_id,
        post_id=media_id,
        thread_id=media_id,
        author_name=None,
        is_echo=False,
        standby=ctx.standby,
        delivery_key=delivery_key(channel, "add", external_id),
        raw=change,
        **fields,
    )
