"""The queue's paging at scale (issue 10): the waiting view by number, reviewed by position."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from bot.app import create_app
from bot.db import session_scope
from bot.models import Item, utcnow
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.web.dashboard.support import PII, RISK, add_user, comment, sign_in

ITEM_ID = re.compile(r'id="item-(\d+)"')


def _ids(html: str) -> list[int]:
    return [int(i) for i in ITEM_ID.findall(html)]


def test_the_reviewed_history_pages_by_position_without_gaps_or_repeats(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    settings = make_settings(tmp_path, config={"dashboard": {"page_size": 2}})
    app = create_app(settings, enqueuer=enqueuer)
    app.config["WTF_CSRF_ENABLED"] = False
    feeder = app.test_client()
    items = [comment(app, feeder, PII, author=f"70{n}") for n in range(5)]
    waiting = comment(app, feeder, RISK, author="799")
    start = utcnow() - timedelta(hours=1)
    with session_scope(app.extensions["haven"].engine) as db:
        for n, item in enumerate(items):  # two share a time: the id breaks the tie
            at = start + timedelta(minutes=min(n, 3))
            db.execute(update(Item).where(Item.id == item.id).values(reviewed_at=at))
    lead = app.test_client()
    sign_in(lead, app, "lead", add_user(app, "lead", "safeguarding_lead"))
    seen: list[int] = []
    page = lead.get("/?view=reviewed").get_data(as_text=True)
    for _ in range(5):
        seen += _ids(page)
        older = re.search(r'href="([^"]*before=[^"]*)"[^>]*>Older', page)
        if older is None:
            break
        page = lead.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
        assert "Most recent" in page
    newest_first = sorted(items, key=lambda i: (min(items.index(i), 3), i.id), reverse=True)
    assert seen == [i.id for i in newest_first]
    assert waiting.id not in seen and _ids(lead.get("/").get_data(as_text=True)) == [waiting.id]
    app.extensions["haven"].engine.dispose()


def test_a_malformed_position_shows_the_most_recent_page(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    lead = as_role("safeguarding_lead")
    for bad in ("nonsense", "2020-01-01T00:00:00_x", "2020-01-01T00:00:00_5", "_"):
        answer = lead.get(f"/?view=reviewed&before={bad}")
        assert answer.status_code == 200 and "Most recent" not in answer.get_data(as_text=True)


def test_a_page_past_the_end_of_the_waiting_queue_shows_the_last_one(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    app = create_app(make_settings(tmp_path, config={"dashboard": {"page_size": 2}}),
                     enqueuer=enqueuer)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    feeder = app.test_client()
    waiting = [comment(app, feeder, PII, author=f"71{n}") for n in range(3)]
    lead = app.test_client()
    sign_in(lead, app, "lead", add_user(app, "lead", "safeguarding_lead"))
    first, last = lead.get("/").get_data(as_text=True), lead.get("/?page=9").get_data(as_text=True)
    assert "Page 1 of 2 (3)" in first and "Page 2 of 2 (3)" in last
    assert sorted(_ids(first) + _ids(last)) == sorted(i.id for i in waiting)
    app.extensions["haven"].engine.dispose()
