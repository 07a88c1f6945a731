"""The person-and-thread key: one open case per person and thread (`cases.open_key`).

The worker that opens cases (workers/cases.py) and staff opening one by hand use this one
function, so a message and a hand-opened case about it always meet on the same case.
"""

from __future__ import annotations

from bot.models import Item


def open_key(item: Item) -> str:
    """The person-and-thread key; an unnamed author gets a case of their own per item."""
    author = item.author_id or f"anon-{item.external_id}"
    thread = item.thread_id or item.post_id or item.external_id
    return f"{item.platform}:{item.account_id}:{author}:{thread}"
