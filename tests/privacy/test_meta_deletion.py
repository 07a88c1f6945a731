"""Meta's data-deletion callback: signed requests erase and answer; forged ones leave nothing."""

from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import create_app
from bot.db import session_scope
from bot.models import AuditEntry, Item
from bot.models.privacy import DataDeletionRequest
from bot.tasks import LocalEnqueuer
from tests.helpers import APP_SECRET, make_settings
from tests.privacy.support import (
    PERSON,
    SECRET_TEXT,
    deletion_payload,
    seed_message,
    signed_request,
)

URL = "/meta/data-deletion"


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["haven"].engine


def _counts(app: Flask) -> tuple[int, int]:
    with Session(_engine(app)) as db:
        requests = db.exec(select(func.count()).select_from(DataDeletionRequest)).one()
        audit = db.exec(select(func.count()).select_from(AuditEntry)).one()
    return requests, audit


def test_facebook_sdk_imports_cleanly_under_warnings_as_errors() -> None:
    import importlib

    import facebook

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(facebook)
    assert callable(facebook.parse_signed_request)


def test_a_signed_request_erases_and_answers_with_a_code_and_a_status_url(
    app: Flask, client: FlaskClient
) -> None:
    with session_scope(_engine(app)) as db:
        seeded = seed_message(db, age_days=2)
    response = client.post(
        URL, data={"signed_request": signed_request(deletion_payload(), APP_SECRET)}
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert set(answer) == {"url", "confirmation_code"}
    code = answer["confirmation_code"]
    assert answer["url"] == f"http://localhost/meta/data-deletion/status/{code}"
    with Session(_engine(app)) as db:
        item = db.get(Item, seeded.item_id)
        assert item is not None and item.text is None and item.author_id is None
        stored = db.exec(select(DataDeletionRequest)).one()
        assert stored.status == "completed" and stored.confirmation_code == code
        assert PERSON not in json.dumps(stored.summary) and PERSON not in stored.subject_digest
        erased = db.exec(select(AuditEntry).where(AuditEntry.action == "subject.erased")).one()
        assert erased.actor == "meta" and erased.detail["source"] == "meta_callback"
    page = client.get(f"/meta/data-deletion/status/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "completed" in html and code in html
    assert PERSON not in html and SECRET_TEXT not in html and "Jo" not in html


def test_the_callback_twice_gives_the_same_code_and_one_record(
    app: Flask, client: FlaskClient
) -> None:
    with session_scope(_engine(app)) as db:
        seed_message(db, age_days=2, case_type="safeguarding")
    form = {"signed_request": signed_request(deletion_payload(), APP_SECRET)}
    first = client.post(URL, data=form).get_json()
    second = client.post(URL, data=form).get_json()
    assert first == second
    with Session(_engine(app)) as db:
        stored = db.exec(select(DataDeletionRequest)).one()
        # The safeguarding case is held: the status says so, without saying more.
        assert stored.status == "completed_with_hold" and len(stored.summary["held_cases"]) == 1
    html = client.get(f"/meta/data-deletion/status/{first['confirmation_code']}").get_data(
        as_text=True
    )
    assert "safeguarding record" in html and "#" not in html


@pytest.mark.parametrize(
    "signed",
    [
        signed_request(deletion_payload(), "not-the-app-secret"),
        # The right signature over a different payload: the user id was swapped.
        signed_request(deletion_payload(), APP_SECRET).split(".")[0]
        + "."
        + base64.urlsafe_b64encode(json.dumps(deletion_payload("123")).encode())
        .decode()
        .rstrip("="),
        signed_request({**deletion_payload(), "algorithm": "HMAC-SHA1"}, APP_SECRET),
    ],
)
def test_a_forged_request_is_refused_and_leaves_no_state(
    app: Flask, client: FlaskClient, signed: str
) -> None:
    with session_scope(_engine(app)) as db:
        seeded = seed_message(db, age_days=2)
    before = _counts(app)
    response = client.post(URL, data={"signed_request": signed})
    assert response.status_code == 403
    assert _counts(app) == before
    with Session(_engine(app)) as db:
        assert db.get(Item, seeded.item_id).text == SECRET_TEXT  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "signed",
    [
        "",
        "no-dot-at-all",
        "abc.def",
        "a" * 43 + "." + base64.urlsafe_b64encode(b"not json at all").decode().rstrip("="),
        "a" * 43 + "." + base64.urlsafe_b64encode(b"[1, 2, 3]").decode().rstrip("="),
        "a" * 43 + "." + base64.urlsafe_b64encode('{"é": 1}'.encode()).decode().rstrip("="),
        "%%%%%%%%%%%%%%%%%%%%.%%%%%%%%%%%%%",
    ],
)
def test_a_malformed_request_is_refused_and_leaves_no_state(
    app: Flask, client: FlaskClient, signed: str
) -> None:
    before = _counts(app)
    response = client.post(URL, data={"signed_request": signed})
    assert response.status_code == 400
    assert _counts(app) == before


def test_a_signed_request_without_a_user_id_is_refused(app: Flask, client: FlaskClient) -> None:
    payload = {"algorithm": "HMAC-SHA256", "issued_at": 1}
    response = client.post(URL, data={"signed_request": signed_request(payload, APP_SECRET)})
    assert response.status_code == 400
    assert _counts(app) == (0, 0)


def test_an_unknown_status_code_is_not_found(client: FlaskClient) -> None:
    assert client.get("/meta/data-deletion/status/0123456789abcdef0123").status_code == 404
    assert client.get("/meta/data-deletion/status/<script>").status_code == 404


def test_the_callback_needs_no_csrf_token_and_works_on_instagram(tmp_path: Path) -> None:
    enqueuer = LocalEnqueuer([0, 0, 0])
    try:
        app = create_app(make_settings(tmp_path), enqueuer=enqueuer)  # CSRF on, as in production
        client = app.test_client()
        response = client.post(
            f"{URL}/instagram",
            data={"signed_request": signed_request(deletion_payload("1784"), APP_SECRET)},
        )
        assert response.status_code == 200
        with Session(_engine(app)) as db:
            assert db.exec(select(DataDeletionRequest)).one().summary["platform"] == "instagram"
    finally:
        enqueuer.stop()
