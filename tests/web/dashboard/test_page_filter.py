"""The queue and the case list filter by page (`account=<page id>`), and show each item's and
case's page by name, on SQLite and PostgreSQL (issue 18, page voices)."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from bot.app import create_app
from bot.db import session_scope
from bot.models import Item
from bot.tasks import LocalEnqueuer
from tests.helpers import IG_ID, PAGE_ID, load_payload, make_settings, signed_post
from tests.web.dashboard.support import HELP, add_user, case_of, comment, item_order, sign_in


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path, enqueuer: LocalEnqueuer) -> Iterator[Flask]:
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
    flask_app = create_app(make_settings(tmp_path, **env), enqueuer=enqueuer, migrate=True)
    flask_app.config["WTF_CSRF_ENABLED"] = False
    yield flask_app
    flask_app.extensions["haven"].engine.dispose()


def _instagram_comment(app: Flask, text: str, number: int) -> Item:
    payload = copy.deepcopy(load_payload("ig_comment.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    value.update(id=f"1786730127052{number}", text=text, timestamp=int(time.time()) - 600)
    value["from"]["id"] = f"84806741832{number}"
    assert signed_post(app.test_client(), payload).status_code == 200
    assert app.extensions["haven"].enqueuer.wait_idle()
    with Session(app.extensions["haven"].engine) as db:
        return db.exec(select(Item).where(Item.external_id == value["id"])).one()


def _case_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/cases/(\d+)">#', page)]


def test_the_queue_and_cases_show_one_page_when_asked(app: Flask) -> None:
    on_facebook = comment(app, app.test_client(), HELP, author="901")
    on_instagram = _instagram_comment(app, HELP, 1001)
    assert (on_facebook.account_id, on_instagram.account_id) == (PAGE_ID, IG_ID)
    admin = app.test_client()
    sign_in(admin, app, "admin", add_user(app, "admin", "admin"))

    everything = admin.get("/").get_data(as_text=True)
    assert set(item_order(everything)) == {on_facebook.id, on_instagram.id}
    # Each item says which page it came to, by the name staff gave it in meta.accounts.
    assert '<span class="page-name">Test page</span>' in everything
    assert '<span class="page-name">Test IG</span>' in everything
    assert '<option value="17841400000000000" >Test IG</option>' in everything
    instagram = admin.get(f"/?account={IG_ID}").get_data(as_text=True)
    assert item_order(instagram) == [on_instagram.id]
    assert "1 flagged item waiting" in instagram
    assert f'<option value="{IG_ID}" selected>Test IG</option>' in instagram
    assert item_order(admin.get(f"/?account={PAGE_ID}").get_data(as_text=True)) == [on_facebook.id]

    facebook_case = case_of(app, on_facebook)
    instagram_case = case_of(app, on_instagram)
    cases = admin.get("/cases").get_data(as_text=True)
    assert set(_case_ids(cases)) == {facebook_case.id, instagram_case.id}
    assert '<td data-label="Page">Test IG</td>' in cases
    one = admin.get(f"/cases?account={PAGE_ID}").get_data(as_text=True)
    assert _case_ids(one) == [facebook_case.id]
    detail = admin.get(f"/cases/{instagram_case.id}").get_data(as_text=True)
    assert "<div><dt>Page</dt><dd>Test IG</dd></div>" in detail


@pytest.mark.parametrize(
    "value",
    [
        "١٢٣",  # Arabic-Indic digits: digits to Python, not an id
        "12 OR 1=1",
        "9" * 65,
        "999",  # well formed, but no page Haven looks after
    ],
)
def test_a_page_filter_that_is_not_a_page_is_a_400(app: Flask, value: str) -> None:
    admin = app.test_client()
    sign_in(admin, app, "admin", add_user(app, "admin", "admin"))
    for path, extra in (("/", {}), ("/cases", {}), ("/", {"view": "reviewed"})):
        response = admin.get(path, query_string={"account": value, **extra})
        assert response.status_code == 400, path
        assert "check what you entered" in response.get_data(as_text=True)


def test_the_queue_shown_for_one_page_names_its_lead_and_deputy(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    voices = {"fcs": {"accounts": [PAGE_ID], "lead": "sam", "deputy": "alex"}}
    app = create_app(make_settings(tmp_path, config={"voices": voices}), enqueuer=enqueuer,
                     migrate=True)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    staff = app.test_client()
    sign_in(staff, app, "admin", add_user(app, "admin", "admin"))
    assert "On duty now" not in staff.get("/").get_data(as_text=True)  # no rota of the charity's
    fcs_queue = staff.get(f"/?account={PAGE_ID}").get_data(as_text=True)
    assert "On duty now: sam (safeguarding lead), alex (deputy)." in fcs_queue
    ig_queue = staff.get(f"/?account={IG_ID}").get_data(as_text=True)
    assert "On duty now" not in ig_queue
    app.extensions["haven"].engine.dispose()


def test_response_times_count_each_pages_own_working_hours(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    weekend_team = {"days": ["sat", "sun"], "opens": "10:00", "closes": "13:00"}
    voices = {"fcs": {"accounts": [PAGE_ID], "working_hours": weekend_team}}
    app = create_app(make_settings(tmp_path, config={"voices": voices}), enqueuer=enqueuer,
                     migrate=True)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    on_fcs = comment(app, app.test_client(), HELP, author="911")
    on_instagram = _instagram_comment(app, HELP, 1011)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    with session_scope(app.extensions["haven"].engine) as db:
        for item in (on_fcs, on_instagram):
            db.execute(update(Item).where(Item.id == item.id).values(received_at=week_ago))
    staff = app.test_client()
    sign_in(staff, app, "moderator", add_user(app, "moderator", "moderator"))
    page = staff.get("/response-times?days=30").get_data(as_text=True)
    # A week unanswered: the charity's 40 working hours (Mon to Fri, 9 to 5) for Instagram,
    # two weekend mornings for the FCS team.
    assert re.search(r'late">40.0 h</span> \(target 4 h\) ·\s+Instagram comment', page), page
    assert re.search(r'late">6.0 h</span> \(target 4 h\) ·\s+Facebook comment', page), page
    app.extensions["haven"].engine.dispose()
