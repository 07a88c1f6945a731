"""Page `feed` changes: comments, visitor posts and the Page's own posts and replies (pure)."""

from __future__ import annotations

from typing import Any

from webhooks.events.common import (
    as_dict,
    as_list,
    clean_id,
    clean_text,
    content_version,
    delivery_key,
    epoch_part,
    first_time,
    short,
    url_identity,
)
from webhooks.events.types import Attachment, EntryContext, Ignored, InboundItem, Outcome, Unknown

# The documented verb enum has both 'edit' and 'edited' (captured comment and post edits use
# 'edited', reaction edits 'edit'); 'delete' and 'update' are listed without captured samples.
_VERBS = {
    "add": "add",
    "edited": "edited",
    "edit": "edited",
    "update": "edited",
    "remove": "remove",
    "delete": "remove",
    "hide": "hide",
    "unhide": "unhide",
}
_USER_ACTION_VERBS = frozenset({"block", "unblock", "follow", "mute"})
# Items that are a post on the Page: a visitor's post or the Page's own (checked for photos
# and names too). 'post' is what a removal reports whatever the original item was.
_POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link", "album", "note"})
_IGNORED_ITEMS = {
    "reaction": "reactions are not moderated",
    "like": "likes are not moderated",
}


def parse_feed_change(change: dict, ctx: EntryContext) -> Outcome:
    """Return the item, ignored event or unknown shape for one `feed` change."""
    value = change.get("value")
    if not isinstance(value, dict):
        return Unknown("feed change without a value object", change)
    item_kind = (clean_text(value.get("item")) or "").lower()
    if item_kind in _IGNORED_ITEMS:
        return Ignored(f"feed.{item_kind}", _IGNORED_ITEMS[item_kind])
    if item_kind != "comment" and item_kind not in _POST_ITEMS:
        return Unknown(f"feed item {short(item_kind)} not understood", change)
    raw_verb = (clean_text(value.get("verb")) or "").lower()
    verb = _VERBS.get(raw_verb)
    if verb is None:
        if raw_verb in _USER_ACTION_VERBS:
            return Ignored(f"feed.{item_kind}.{raw_verb}", "actions on users carry no content")
        return Unknown(f"feed verb {short(raw_verb)} not understood", change)
    if item_kind == "comment":
        return _comment(change, value, verb, ctx)
    return _post(change, value, item_kind, verb, ctx)


def _comment(change: dict, value: dict, verb: str, ctx: EntryContext) -> Outcome:
    comment_id = clean_id(value.get("comment_id"))
    if comment_id is None:
        return Unknown("feed comment without comment_id", change)
    post_id = clean_id(value.get("post_id"))
    parent_id = clean_id(value.get("parent_id"))
    if parent_id == post_id:
        parent_id = None  # Meta sets parent_id to the post id on top-level comments
    # A comment with a picture, video or GIF carries its CDN URL and often no message at all.
    attachments = tuple(
        Attachment(kind, clean_text(value.get(field)))
        for field, kind in (("photo", "image"), ("video", "video"))
        if value.get(field)
    )
    return _build(
        change, value, ctx, "fb_comment", verb, comment_id, post_id, parent_id, attachments
    )


def _post(change: dict, value: dict, item_kind: str, verb: str, ctx: EntryContext) -> Outcome:
    post_id = clean_id(value.get("post_id"))
    if post_id is None:
        return Unknown("feed post without post_id", change)
    attachments = _post_attachments(value, item_kind)
    # Several videos posted at once arrive one by one as separate 'add's on the same post_id
    # (seen in fbtools); the media id keeps those adds from looking like redeliveries.
    media_id = clean_id(value.get("photo_id")) or clean_id(value.get("video_id"))
    return _build(
        change, value, ctx, "fb_post", verb, post_id, post_id, None, attachments, media_id
    )


def _post_attachments(value: dict, item_kind: str) -> tuple[Attachment, ...]:
    photos = as_list(value.get("photos"))
    if photos:  # a status with several images lists their URLs; 'link' is then the post's
        return tuple(Attachment("image", clean_text(url)) for url in photos)
    link = clean_text(value.get("link"))
    if item_kind in ("photo", "album") and (link or value.get("photo_id")):
        return (Attachment("image", link),)
    if item_kind == "video" and (link or value.get("video_id")):
        return (Attachment("video", link),)
    if link:  # share/link/status posts: the shared URL
        return (Attachment("share", link),)
    return ()


def _build(
    change: dict,
    value: dict,
    ctx: EntryContext,
    channel: str,
    verb: str,
    external_id: str,
    post_id: str | None,
    parent_id: str | None,
    attachments: tuple[Attachment, ...],
    media_id: str | None = None,
) -> InboundItem:
    # 'from' (or just its 'name') is missing when privacy rules or a missing
    # pages_read_user_content permission hide the author: record the item anyway.
    author = as_dict(value.get("from"))
    author_id = clean_id(author.get("id"))
    text = clean_text(value.get("message"))
    edited_time = value.get("edited_time") if verb == "edited" else None
    return InboundItem(
        platform="facebook",
        channel=channel,
        verb=verb,
        account_id=ctx.account_id,
        external_id=external_id,
        post_id=post_id,
        parent_id=parent_id,
        thread_id=post_id,
        author_id=author_id,
        author_name=clean_text(author.get("name")),
        author_username=None,
        text=text,
        attachments=attachments,
        # feed created_time is unix seconds; entry.time is the fallback (also seconds here).
        created_at=first_time(edited_time, value.get("created_time"), ctx.entry_time),
        is_echo=False,
        # The Page's own posts and public replies (the bot's included) come back through the
        # same feed; from.id == entry.id marks them so they are never answered.
        from_page=author_id is not None and author_id == ctx.account_id,
        standby=ctx.standby,
        delivery_key=delivery_key(
            channel, verb, external_id, _version(value, verb, text, attachments, media_id)
        ),
        raw=change,
    )


def _version(
    value: dict, verb: str, text: str | None, attachments: tuple[Attachment, ...], media_id: Any
) -> str | None:
    """Return what tells this update apart from other updates with the same verb and id."""
    if verb == "edited":
        # Edits repeat the comment_id/post_id, and created_time may be the item's creation
        # time rather than the edit's, so the new content is what tells a second edit from a
        # redelivery of the first (edited_time too, when Meta sends it). URLs lose their
        # expiring query string. Known gap: with no edited_time, A -> B -> A reuses A's key.
        media = [(attachment.type, url_identity(attachment.url)) for attachment in attachments]
        return content_version(
            epoch_part(value.get("edited_time")), epoch_part(value.get("created_time")), text, media
        )
    if verb in ("hide", "unhide"):
        # A comment can be hidden, unhidden and hidden again; the event time separates them.
        return epoch_part(value.get("created_time"))
    if verb == "add":
        return media_id
    return None  # an item is removed once
