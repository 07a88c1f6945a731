"""What several worker tests do: store a delivery as the webhook would, then judge its item."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from bot.db import session_scope
from rules import load_ruleset
from tests.helpers import PAGE_ID
from webhooks.events import parse_payload
from webhooks.store import store_delivery
from workers.processing import handle_item


def store_and_judge(engine: Engine, payload: dict[str, Any]) -> int:
    """Store one delivery of one item, judge it with the default rules; its item's id."""
    with session_scope(engine) as session:
        stored = store_delivery(session, json.dumps(payload), parse_payload(payload), {PAGE_ID})
    (item_id,) = stored.new_item_ids
    with session_scope(engine) as session:
        handle_item(session, load_ruleset(), item_id)
    return item_id
