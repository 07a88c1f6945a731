"""Retention per page, on SQLite and PostgreSQL: a page that promised not to save chats
(policy 003) keeps texts only for data_protection.minimum_days; the others keep them for the
organisation's period (policy 004: three months); a safeguarding case is held on either."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import HavenConfig
from bot.config.voices import retention_by_account
from bot.db import session_scope
from bot.models import Case, InboundEvent, Item, ReplyDraft
from bot.privacy.core_data import REMOVED_BODY, REMOVED_TEXT
from bot.privacy.retention import run_retention
from tests.helpers import IG_ID, PAGE_ID, TEST_ACCOUNTS
from tests.privacy.support import SECRET_TEXT, Seeded, seed_message

CONFIG = HavenConfig.model_validate(
    {
        "meta": {"accounts": TEST_ACCOUNTS},
        "data_protection": {"retention_days": 90, "minimum_days": 1},
        "voices": {"webchat": {"accounts": [IG_ID], "retention": "not_saved"}},
    }
)


def _on_page(db: Session, seeded: Seeded, account: str) -> None:
    for model, row_id in ((Item, seeded.item_id), (Case, seeded.case_id)):
        row = db.get(model, row_id)
        row.account_id = account  # type: ignore[union-attr]
        db.add(row)


def test_a_page_that_saves_no_chats_keeps_none_past_the_minimum(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        kept = seed_message(db, age_days=3)
        gone = seed_message(db, age_days=3)
        held = seed_message(db, age_days=3, case_type="safeguarding")
        fresh = seed_message(db, age_days=0.5)
        for seeded in (gone, held, fresh):
            _on_page(db, seeded, IG_ID)
    days = retention_by_account(CONFIG)
    assert days == {IG_ID: 1}
    assert run_retention(db_engine, CONFIG.data_protection, days_by_account=days) == 3
    with Session(db_engine) as db:
        assert db.get(Item, gone.item_id).text is None  # type: ignore[union-attr]
        assert db.get(InboundEvent, gone.event_id).body == REMOVED_BODY  # type: ignore[union-attr]
        assert db.get(ReplyDraft, gone.draft_id).text == REMOVED_TEXT  # type: ignore[union-attr]
        # The other page keeps its three months; a held safeguarding case and a message
        # younger than the minimum keep theirs on this page too.
        for seeded in (kept, held, fresh):
            assert db.get(Item, seeded.item_id).text == SECRET_TEXT  # type: ignore[union-attr]
        assert db.get(Item, kept.item_id).account_id == PAGE_ID  # type: ignore[union-attr]
    # Nothing more to do: the next tick changes nothing.
    assert run_retention(db_engine, CONFIG.data_protection, days_by_account=days) == 0
