"""After an ambiguous send: did it reach Meta? Read back what Meta holds before sending again.

Kept apart from the client: it is the one place that reads conversations and replies back, and
its limits (what Meta lets us list, how far back) are worth reading on their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.graph_errors import SentCheck, match_sent
from bot.graph_shapes import check_id, get_field

if TYPE_CHECKING:
    from bot.graph import GraphClient


def find_sent(
    client: GraphClient,
    account_id: str,
    *,
    kind: str,
    target_id: str,
    text: str,
    platform: str,
    since: datetime | None = None,
) -> SentCheck:
    """See GraphClient.find_sent_message."""

    client._check_platform(account_id, platform)
    check_id(target_id, "target_id")
    facebook = platform == "facebook"
    if kind == "private_reply":
        if not facebook:
            return SentCheck(None, detail="no Instagram read-back; a resend gets 10900 if sent")
        fake = {"id": target_id, "can_reply_privately": True}
        params = {"fields": "can_reply_privately"}
        result = client._call("GET", account_id, f"/{target_id}", params=params, fake=fake)
        if get_field(result, "can_reply_privately") is True:
            return SentCheck(False, detail="can_reply_privately is true")
        # Not true also means "older than 7 days" or user settings: cannot tell them apart.
        return SentCheck(None, detail="can_reply_privately is not true")
    if kind == "comment_reply":
        key = "message" if facebook else "text"
        path = f"/{target_id}/comments" if facebook else f"/{target_id}/replies"
        params = {"fields": f"id,{key},from,{'created_time' if facebook else 'timestamp'}"}
        if facebook:  # newest first, so a reply sent moments ago is on the first page
            params.update(order="reverse_chronological", limit="100")
        result = client._call("GET", account_id, path, params=params, fake={"data": []})
        more = bool(get_field(get_field(result, "paging"), "next"))
        return match_sent(get_field(result, "data"), key, text, since=since, more=more)
    if kind == "message":
        node = f"/{account_id}" if facebook else "/me"
        params = {
            "platform": "messenger" if facebook else "instagram",
            "user_id": target_id,
            "fields": "messages.limit(20){id,message,from,created_time}",
        }
        result = client._call("GET", account_id, f"{node}/conversations", params=params, fake={})
        threads = get_field(result, "data")
        items = [
            m
            for t in (threads if isinstance(threads, list) else [])
            for m in (get_field(get_field(t, "messages"), "data") or [])
        ]
        return match_sent(items, "message", text, since=since, exclude_author=target_id)
    raise ValueError(f"kind {kind!r} must be comment_reply, private_reply or message")
