"""A page's own working hours decide whether a risk on it is out of hours (SQLite, PostgreSQL).

The same comment, arriving at the same moment on two pages: the page whose team is not in gets
the out-of-hours reply (when they are back, crisis lines) in its own name and an alert marked
out of hours; the page whose team is in gets its usual risk reply.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import HavenConfig
from bot.db import session_scope
from bot.models import Item, ReplyDraft
from bot.models.alerts import Alert
from rules import load_ruleset
from tests.helpers import IG_ID, PAGE_ID, TEST_ACCOUNTS, page_comment
from webhooks.events import parse_payload
from webhooks.store import store_delivery
from workers.processing import handle_item

PAGE_B = "222333444555666"
RISK = "I can't do this anymore, everyone would be better off without me"
# A Thursday, 11am in London: Families Together is in (the organisation's Mon to Fri, 9 to 5);
# the FCS team works Monday to Wednesday.
THURSDAY_11 = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
CONFIG = HavenConfig.model_validate(
    {
        "organisation": {"page_name": "Families Together"},
        "meta": {"accounts": [*TEST_ACCOUNTS, {**TEST_ACCOUNTS[0], "id": PAGE_B}]},
        "voices": {
            "fcs": {
                "accounts": [PAGE_ID],
                "name": "Twins Trust FCS",
                "working_hours": {
                    "days": ["mon", "tue", "wed"],
                    "opens": "10:00",
                    "closes": "16:00",
                },
            }  # fmt: skip
        },
    }
)


def _judge(engine: Engine, page: str, number: int) -> Item:
    payload = copy.deepcopy(page_comment(RISK, comment=str(number), author=f"60000000{number}"))
    payload["entry"][0]["id"] = page
    with session_scope(engine) as session:
        stored = store_delivery(
            session, json.dumps(payload), parse_payload(payload), {PAGE_ID, IG_ID, PAGE_B}
        )
        (item_id,) = stored.new_item_ids
        item = session.get(Item, item_id)
        item.received_at = THURSDAY_11  # type: ignore[union-attr]
        session.add(item)
    with session_scope(engine) as session:
        handle_item(session, load_ruleset(), item_id, config=CONFIG)
    with Session(engine) as session:
        return session.get(Item, item_id)  # type: ignore[return-value]


def test_each_page_is_out_of_hours_by_its_own_hours(migrated_engine: Engine) -> None:
    fcs, families = _judge(migrated_engine, PAGE_ID, 801), _judge(migrated_engine, PAGE_B, 802)
    with Session(migrated_engine) as session:
        drafts = {
            item.account_id: session.exec(
                select(ReplyDraft).where(
                    ReplyDraft.item_id == item.id, ReplyDraft.kind == "private"
                )
            ).one()
            for item in (fcs, families)
        }
        outside = {
            item.account_id: session.exec(
                select(Alert.out_of_hours).where(
                    Alert.item_id == item.id, Alert.kind == "escalation"
                )
            ).one()
            for item in (fcs, families)
        }
    assert outside == {PAGE_ID: True, PAGE_B: False}
    assert drafts[PAGE_ID].template == "risk_out_of_hours"
    assert "Nobody from Twins Trust FCS is online" in " ".join(drafts[PAGE_ID].text.split())
    assert "back on Monday at 10am" in drafts[PAGE_ID].text  # the FCS team's own next morning
    assert drafts[PAGE_B].template == "risk"
    assert "Families Together" in drafts[PAGE_B].text
