"""Erasure that sticks: a redelivery of what was erased does not bring it back (SQLite, PostgreSQL).

Meta redelivers an update for up to 36 hours, and a retry need not be byte-identical (another
batch, another entry time), so before this the raw body was stored again with the erased text.
"""

from __future__ import annotations

import json
import time
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import InboundEvent, Item
from bot.models.privacy import ErasedSubject
from bot.privacy.subject import erase_subject
from tests.helpers import DATA_KEY, REPO, page_comment, signed_post
from tests.privacy.support import OTHER, PERSON, SECRET_TEXT
from webhooks.events import parse_payload
from webhooks.store import Stored, store_delivery

KNOWN = ("111222333444555",)


def _deliver(engine: Engine, payload: dict[str, Any]) -> Stored:
    raw = json.dumps(payload)
    with session_scope(engine) as db:
        return store_delivery(db, raw, parse_payload(json.loads(raw)), KNOWN)


def _with_other(payload: dict[str, Any], entry_time: int) -> dict[str, Any]:
    """The same update in another batch: another person's comment beside it, another time."""
    other = page_comment("hello all", comment="8002", author=OTHER)["entry"][0]["changes"][0]
    payload["entry"][0]["changes"].append(other)
    payload["entry"][0]["time"] = entry_time
    return payload


def _bodies(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return [e.body or "" for e in db.exec(select(InboundEvent).order_by(InboundEvent.id))]


def _texts(engine: Engine) -> list[str | None]:
    with Session(engine) as db:
        return [i.text for i in db.exec(select(Item).order_by(Item.id))]


def test_a_redelivery_after_erasure_stores_neither_the_body_nor_the_item_again(
    db_engine: Engine,
) -> None:
    first = _deliver(db_engine, page_comment(SECRET_TEXT, comment="8001", author=PERSON))
    assert len(first.new_item_ids) == 1
    with session_scope(db_engine) as db:
        erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
    assert not any(SECRET_TEXT in body for body in _bodies(db_engine))

    again = page_comment(SECRET_TEXT, comment="8001", author=PERSON)
    stored = _deliver(db_engine, _with_other(again, entry_time=1742667999))
    assert stored.event_id is not None and stored.erased == 1
    assert not any(SECRET_TEXT in body for body in _bodies(db_engine))
    assert SECRET_TEXT not in _texts(db_engine)
    # The other person's comment in the same batch is stored as usual.
    assert "hello all" in _texts(db_engine) and len(stored.new_item_ids) == 1


def test_an_earlier_update_arriving_late_is_not_stored_but_a_new_message_is(
    db_engine: Engine,
) -> None:
    with session_scope(db_engine) as db:
        erase_subject(db, "facebook", PERSON, actor="meta", source="meta_callback")
    # Written before the erasure, delivered after it (Meta's queue was behind).
    late = _deliver(db_engine, page_comment(SECRET_TEXT, comment="8003", author=PERSON))
    assert late.erased == 1 and late.new_item_ids == []
    assert not any(SECRET_TEXT in body for body in _bodies(db_engine))
    # Written after the erasure: new, and moderated like anything else (it may be a cry for help).
    later = int(time.time()) + 60
    new = "please can someone call me back"
    fresh = _deliver(
        db_engine, page_comment(new, comment="8004", author=PERSON, created_time=later)
    )
    assert fresh.erased == 0 and len(fresh.new_item_ids) == 1
    assert new in _texts(db_engine) and any(new in body for body in _bodies(db_engine))


def test_the_record_of_an_erasure_holds_a_keyed_digest_not_the_id(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
        erase_subject(db, "facebook", PERSON, actor="cli", source="cli")  # a repeat: one row
    with Session(db_engine) as db:
        rows = db.exec(select(ErasedSubject)).all()
        dumped = db.execute(text("SELECT * FROM erased_subjects")).all()
    assert len(rows) == 1 and len(rows[0].subject_digest) == 64
    assert PERSON not in repr(dumped)


def test_after_haven_subject_erase_a_signed_redelivery_brings_nothing_back(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    comment = page_comment(SECRET_TEXT, comment="8005", author=PERSON)
    assert signed_post(client, comment).get_json()["stored"] == 1
    assert app.extensions["haven"].enqueuer.wait_idle()
    result = CliRunner().invoke(
        main,
        ["subject", "erase", "--platform", "facebook", "--user", PERSON, "--yes",
         "--config", str(REPO / "config.yaml")],
        env={"DATABASE_URL": settings.database_url, "HAVEN_DATA_KEYS": DATA_KEY},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = signed_post(client, _with_other(comment, entry_time=1742668999)).get_json()
    assert answer["erased"] == 1 and answer["stored"] == 1
    engine = app.extensions["haven"].engine
    assert not any(SECRET_TEXT in body for body in _bodies(engine))
    assert SECRET_TEXT not in _texts(engine)
