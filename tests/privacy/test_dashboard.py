"""The data-protection pages: admins only, a confirm step before erasure, CSRF, audited."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.db import session_scope
from bot.models import AuditEntry, Item
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.privacy.support import PERSON, SECRET_TEXT, seed_message
from tests.web.dashboard.support import RISK, add_user, comment, sign_in

FORM = {"platform": "facebook", "user_id": PERSON}


@pytest.fixture
def seeded(app: Flask, client: FlaskClient) -> dict[str, int]:
    """One plain item (seeded) and one real risk comment that became a safeguarding case."""
    with session_scope(app.extensions["haven"].engine) as db:
        plain = seed_message(db, age_days=100)
    risk = comment(app, client, RISK, author=PERSON)
    assert risk.case_id is not None
    return {"plain": plain.item_id, "risk": risk.id, "risk_case": risk.case_id}  # type: ignore[dict-item]


@pytest.mark.parametrize("role", ["moderator", "safeguarding_lead", "safeguarding_deputy"])
def test_only_admins_reach_data_protection(
    as_role: Callable[[str], FlaskClient], seeded: dict[str, int], role: str
) -> None:
    other = as_role(role)
    assert other.get("/privacy").status_code == 403
    assert other.post("/privacy/export", data=FORM).status_code == 403
    assert other.post("/privacy/erase", data={**FORM, "confirm": "erase"}).status_code == 403
    assert "Data protection" not in other.get("/").get_data(as_text=True)


def test_admin_sees_the_retention_report(
    as_role: Callable[[str], FlaskClient], seeded: dict[str, int]
) -> None:
    admin = as_role("admin")
    page = admin.get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Retention" in html and "Overdue (removed at the next tick): 1 items" in html
    assert SECRET_TEXT not in html
    assert "Data protection" in admin.get("/").get_data(as_text=True)


def test_admin_export_withholds_what_a_safeguarding_case_holds(
    app: Flask, as_role: Callable[[str], FlaskClient], seeded: dict[str, int]
) -> None:
    response = as_role("admin").post("/privacy/export", data=FORM)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    items = {row["id"]: row for row in data["data"]["items"]}
    assert items[seeded["plain"]]["text"] == SECRET_TEXT
    assert "withheld" in items[seeded["risk"]] and "text" not in items[seeded["risk"]]
    assert RISK not in response.get_data(as_text=True)
    with Session(app.extensions["haven"].engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "subject.exported")).one()
    assert entry.detail["source"] == "dashboard" and entry.detail["withheld_cases"] == [
        seeded["risk_case"]
    ]


def test_erasure_asks_for_confirmation_then_erases_and_shows_what_was_kept(
    app: Flask, as_role: Callable[[str], FlaskClient], seeded: dict[str, int]
) -> None:
    admin = as_role("admin")
    confirm = admin.post("/privacy/erase", data=FORM)
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert (
        "Erase their data" in html and 'value="erase"' in html and f"#{seeded['risk_case']}" in html
    )
    engine = app.extensions["haven"].engine
    with Session(engine) as db:
        assert db.get(Item, seeded["plain"]).text == SECRET_TEXT  # type: ignore[union-attr]
    done = admin.post("/privacy/erase", data={**FORM, "confirm": "erase"})
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "Kept, and why" in html and f"case {seeded['risk_case']}" in html
    with Session(engine) as db:
        assert db.get(Item, seeded["plain"]).text is None  # type: ignore[union-attr]
        assert db.get(Item, seeded["risk"]).text == RISK  # type: ignore[union-attr]
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "subject.erased")).one()
    assert entry.actor.startswith("user:") and PERSON not in json.dumps(entry.detail)
    again = admin.post("/privacy/erase", data={**FORM, "confirm": "erase"})
    assert "Nothing was left to erase" in again.get_data(as_text=True)


def test_a_bad_id_is_refused(as_role: Callable[[str], FlaskClient]) -> None:
    admin = as_role("admin")
    assert (
        admin.post("/privacy/export", data={"platform": "facebook", "user_id": 'a"b'}).status_code
        == 400
    )
    assert (
        admin.post("/privacy/erase", data={"platform": "myspace", "user_id": "1"}).status_code
        == 400
    )


def test_erasure_needs_the_csrf_token(tmp_path: Path) -> None:
    enqueuer = LocalEnqueuer([0, 0, 0])
    try:
        app = create_app(make_settings(tmp_path), enqueuer=enqueuer)  # CSRF on
        key = add_user(app, "boss", "admin")
        admin = app.test_client()
        sign_in_with_csrf(admin, app, key)
        with session_scope(app.extensions["haven"].engine) as db:
            item_id = seed_message(db, age_days=1).item_id
        assert admin.post("/privacy/erase", data={**FORM, "confirm": "erase"}).status_code == 400
        page = admin.get("/privacy").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        done = admin.post("/privacy/erase", data={**FORM, "confirm": "erase", "csrf_token": token})
        assert done.status_code == 200
        with Session(app.extensions["haven"].engine) as db:
            assert db.get(Item, item_id).text is None  # type: ignore[union-attr]
    finally:
        enqueuer.stop()


def sign_in_with_csrf(client: FlaskClient, app: Flask, key: str | None) -> None:
    """Sign in through the real forms, token and all (the shared helper posts without one)."""
    app.config["WTF_CSRF_ENABLED"] = False
    sign_in(client, app, "boss", key)
    app.config["WTF_CSRF_ENABLED"] = True
