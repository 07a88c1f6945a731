"""Store a delivery on PostgreSQL in one statement: the event, its items and the erasure check.

The webhook's time went on round trips: a ping, BEGIN, a look for erased people, an INSERT for
the event, one per item, and COMMIT, each waiting on PostgreSQL. Here a single statement, run
outside an explicit transaction (PostgreSQL makes one statement atomic by itself), does all
of it: it inserts the event unless its bytes are already stored, inserts every item that is
new (ON CONFLICT DO NOTHING on the delivery key) and returns the new items' ids. It is committed
when it returns, so store-before-acknowledge holds as before.

What an erased person wrote before their erasure must not be stored again (bot/privacy/erased.py).
That needs care (per item, by time, with the raw body emptied), and it is rare, so the statement
only looks: when anyone in the delivery has been erased it stores nothing and says so, and the
caller stores the delivery the careful way (webhooks/store.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bot.crypto import EncryptedText, encrypt
from bot.models import Item, utcnow
from bot.models.privacy import subject_digests
from webhooks.events import Parsed
from webhooks.store import Stored, clean, item_row

# Columns the careful path leaves to the models' defaults; a new item row must say them here.
_ITEM_DEFAULTS: dict[str, Any] = {"status": "received", "attempts": 0, "hidden": False}
# Sealed as the model seals them: a column made EncryptedText on Item is sealed here too.
_ENCRYPTED = frozenset(c.name for c in Item.__table__.columns if isinstance(c.type, EncryptedText))


# The keys of webhooks/store.py item_row (a test keeps the two the same), then the defaults.
ROW_KEYS = (
    "delivery_key", "platform", "channel", "verb", "account_id", "external_id", "post_id",
    "parent_id", "thread_id", "author_id", "author_name", "author_username", "text",
    "attachments", "created_at", "is_echo", "from_page", "standby", "known_account", "app_id",
    "send_metadata", "media_product_type", "button_payload",
)  # fmt: skip
COLUMNS = (*ROW_KEYS, *_ITEM_DEFAULTS, "received_at", "status_changed_at")


def _statement() -> str:
    # The items arrive as one JSON array of rows, read into the table's own row type: one
    # parameter whatever their number, parsed by PostgreSQL rather than adapted column by
    # column in Python.
    columns = ", ".join(COLUMNS)
    return f"""
WITH erased AS (
    SELECT 1 FROM erased_subjects WHERE subject_digest = ANY(%(digests)s::varchar[]) LIMIT 1
), event AS (
    INSERT INTO inbound_events (body_sha256, object, body, received_at, item_count, unknown_count)
    SELECT %(body_sha256)s, %(object)s, %(body)s, %(received_at)s, %(item_count)s,
           %(unknown_count)s
    WHERE NOT EXISTS (SELECT 1 FROM erased)
    ON CONFLICT (body_sha256) DO NOTHING
    RETURNING id
), new_items AS (
    INSERT INTO items (event_id, {columns})
    SELECT event.id, {", ".join(f"given.{c}" for c in COLUMNS)}
    FROM event CROSS JOIN json_populate_recordset(NULL::items, %(items)s::json)
         WITH ORDINALITY AS given
    ORDER BY given.ordinality
    ON CONFLICT (delivery_key) DO NOTHING
    RETURNING id
)
SELECT EXISTS (SELECT 1 FROM erased), (SELECT id FROM event),
       ARRAY(SELECT id FROM new_items ORDER BY id)
"""


STATEMENT = _statement()


def store_in_one_statement(
    connection: Connection, raw_text: str, parsed: Parsed, known_accounts: Collection[str]
) -> Stored | None:
    """Store the delivery (committed on return, in autocommit); None when an erased person is
    in it, in which case nothing was stored and webhooks/store.py must do it."""
    now = utcnow()
    rows = []
    for item in parsed.items:
        row = item_row(item, item.account_id in known_accounts, now)
        row.update(_ITEM_DEFAULTS, received_at=now, status_changed_at=now)
        for column in _ENCRYPTED:
            if row[column] is not None:
                row[column] = encrypt(row[column])
        rows.append(row)
    people = {(i.platform, p) for i in parsed.items for p in (i.author_id, i.thread_id) if p}
    params = {
        "items": json.dumps(rows, default=datetime.isoformat),
        "digests": [d for person in people for d in subject_digests(*person)],
        "body_sha256": hashlib.sha256(raw_text.encode("utf-8", "surrogatepass")).hexdigest(),
        "object": clean(parsed.object, 40),
        "body": encrypt(clean(raw_text, None) or ""),
        "received_at": now,
        "item_count": len(parsed.items),
        "unknown_count": len(parsed.unknown),
    }
    erased, event_id, new_ids = connection.exec_driver_sql(STATEMENT, params).one()
    if erased:
        return None
    if event_id is None:
        # A byte-identical redelivery: everything in it is already stored.
        return Stored(event_id=None, duplicates=len(parsed.items))
    return Stored(event_id, list(new_ids), duplicates=len(parsed.items) - len(new_ids))
