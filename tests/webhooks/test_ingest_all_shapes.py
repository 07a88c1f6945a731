"""Every recorded shape through the real route and worker: stored once, judged, never a 500."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from bot.app import create_app
from bot.models import InboundEvent, Item
from bot.tasks import LocalEnqueuer
from tests.helpers import FIXTURES, make_settings, page_comment, signed_post
from webhooks.events import parse_payload

WEBHOOK_FIXTURES = sorted(
    p.name for p in (FIXTURES / "meta").glob("*.json") if not p.name.startswith("graph_")
)


def _items(app: Flask) -> list[Item]:
    with Session(app.extensions["haven"].engine) as session:
        return list(session.exec(select(Item)).all())


@pytest.mark.parametrize("name", WEBHOOK_FIXTURES)
def test_every_fixture_is_stored_once_and_processed(
    app: Flask, client: FlaskClient, name: str
) -> None:
    raw = (FIXTURES / "meta" / name).read_bytes()
    expected = len(parse_payload(json.loads(raw)).items)
    first = signed_post(client, raw)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["stored"] == expected
    assert signed_post(client, raw).get_json()["stored"] == 0  # Meta's redelivery
    assert app.extensions["haven"].enqueuer.wait_idle(30)
    items = _items(app)
    assert len(items) == expected
    assert {i.status for i in items} <= {"processed", "skipped", "superseded"}


@pytest.fixture
def rules_only_app(tmp_path: Path, enqueuer: LocalEnqueuer) -> Flask:
    """The app with the rules alone judging: the learned stage embeds every item (about 30 ms
    each on a quiet core, twice that under load), which for a thousand items was most of the
    test's minute and proves nothing about batches (tests/semantic/ test the stage)."""
    settings = make_settings(tmp_path, config={"rules": {"semantic": {"enabled": False}}})
    return create_app(settings, enqueuer=enqueuer)


def test_a_batch_of_a_thousand_updates_is_stored_whole(rules_only_app: Flask) -> None:
    app, client = rules_only_app, rules_only_app.test_client()
    batch = page_comment("first")
    change = batch["entry"][0]["changes"][0]
    batch["entry"][0]["changes"] = []
    for n in range(1000):
        extra = copy.deepcopy(change)
        extra["value"]["comment_id"] = f"900000000000001_{n}"
        extra["value"]["message"] = f"Is the group on {n % 7} this week?"
        batch["entry"][0]["changes"].append(extra)
    response = signed_post(client, batch)
    assert response.status_code == 200 and response.get_json()["stored"] == 1000
    assert app.extensions["haven"].enqueuer.wait_idle(120)
    assert len(_items(app)) == 1000
    assert {i.status for i in _items(app)} == {"processed"}


@pytest.mark.parametrize(
    "text",
    [
        "\u202eevil\u202c \u200b\u200dzero width \ufeff and emoji 🙂👨‍👩‍👧",
        "a" * 500_000,
        "\ud800 lone surrogate and \x00 NUL",
        "",
    ],
    ids=["bidi-zero-width-emoji", "huge", "surrogate-nul", "empty"],
)
def test_odd_text_is_stored_safely(app: Flask, client: FlaskClient, text: str) -> None:
    body = json.dumps(page_comment(text)).encode()  # json escapes the surrogate as \\ud800
    response = signed_post(client, body)
    assert response.status_code == 200
    assert app.extensions["haven"].enqueuer.wait_idle(30)
    (item,) = _items(app)
    assert item.status == "processed"
    assert "\x00" not in (item.text or "")


def test_a_delivery_that_is_json_but_not_a_meta_payload_is_kept_and_answered(
    app: Flask, client: FlaskClient
) -> None:
    for body in ([1, 2, 3], {"object": "page"}, {"entry": "nope"}, "just a string", None):
        assert signed_post(client, json.dumps(body).encode()).status_code == 200
    with Session(app.extensions["haven"].engine) as session:
        assert session.exec(select(func.count()).select_from(InboundEvent)).one() == 5
    assert _items(app) == []
