"""What the rules see of a stored item: the worker judges it so, and "why?" judges it again so.

One place, so the words weighed on demand (bot/cases/weighing.py) come from exactly the message
the worker judged.
"""

from __future__ import annotations

from bot.models import Item
from rules import Attachment, Message


def message_of(item: Item, *, no_family_posts: bool) -> Message:
    """What the rules see of an item (`no_family_posts`: its page's voice says so)."""
    return Message(
        text=item.text or "",
        channel=item.channel,
        platform=item.platform,
        attachments=tuple(Attachment(a.get("type", ""), a.get("url")) for a in item.attachments),
        from_page=item.from_page,
        author_id=item.author_id,
        # The page's own posts: may staff post about the families it supports at all?
        no_family_posts=no_family_posts,
    )
