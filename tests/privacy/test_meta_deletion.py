"""Meta's data-deletion callback: signed requests erase and answer; forged ones leave nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import create_app
from bot.config import Settings
from bot.db import session_scope
from bot.models import AuditEntry, Item
from bot.models.privacy import DataDeletionRequest
from bot.privacy import signed_request as signed_request_module
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
PUBLIC_URL = "https://haven.example.org"
IG_SECRET = "test-ig-app-secret-77aa"


def _settings(tmp_path: Path, public_url: str = PUBLIC_URL) -> Settings:
    return make_settings(
        tmp_path,
        config={"data_protection": {"public_url": public_url}},
        META_IG_APP_SECRET=IG_SECRET,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path)


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["haven"].engine


def _counts(app: Flask) -> tuple[int, int]:
    with Session(_engine(app)) as db:
        requests = db.exec(select(func.count()).select_from(DataDeletionRequest)).one()
        audit = db.exec(select(func.count()).select_from(AuditEntry)).one()
    return requests, audit


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
    assert answer["url"] == f"{PUBLIC_URL}/meta/data-deletion/status/{code}"
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


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signed_raw(payload: bytes, secret: str = APP_SECRET) -> str:
    """A correctly signed request around any bytes at all."""
    part = _b64(payload)
    return _b64(hmac.new(secret.encode(), part.encode(), hashlib.sha256).digest()) + "." + part


@pytest.mark.parametrize(
    "signed",
    ["", "no-dot-at-all", "abc.def", "%%%%%%%%%%%%%%%%%%%%.%%%%%%%%%%%%%", "a" * 43 + ".x.y"],
)
def test_a_request_not_shaped_like_a_signed_request_is_a_400(
    app: Flask, client: FlaskClient, signed: str
) -> None:
    before = _counts(app)
    response = client.post(URL, data={"signed_request": signed})
    assert response.status_code == 400
    assert _counts(app) == before


@pytest.mark.parametrize(
    "payload",
    [b"not json at all", b"[1, 2, 3]", '{"é": 1}'.encode(), b'{"user_id": "1", "issued_at": 1'],
)
def test_an_unsigned_payload_is_refused_as_unsigned_whatever_it_holds(
    app: Flask, client: FlaskClient, payload: bytes
) -> None:
    # Nothing is decoded before the signature is checked: a wrong one is a 403 whatever follows.
    before = _counts(app)
    response = client.post(URL, data={"signed_request": "a" * 43 + "." + _b64(payload)})
    assert response.status_code == 403
    assert _counts(app) == before


@pytest.mark.parametrize(
    "payload",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b"\xff\xfe not utf-8",
        b'{"algorithm": "HMAC-SHA256", "issued_at": 1, "user_id": ' + b"9" * 5000 + b"}",
    ],
)
def test_a_signed_payload_that_is_not_a_json_object_is_a_400(
    app: Flask, client: FlaskClient, payload: bytes
) -> None:
    before = _counts(app)
    response = client.post(URL, data={"signed_request": _signed_raw(payload)})
    assert response.status_code == 400
    assert _counts(app) == before


def test_deep_nesting_is_refused_before_and_after_the_signature_without_a_500(
    app: Flask, client: FlaskClient
) -> None:
    def deep(levels: int) -> bytes:
        return ('{"user_id": ' + "[" * levels + "]" * levels + "}").encode()

    # As reported: 5,900 levels, past the size any signed request has, so refused unread.
    for signed in ("a" * 43 + "." + _b64(deep(5900)), _signed_raw(deep(5900))):
        assert client.post(URL, data={"signed_request": signed}).status_code == 400
    # Within the size: unsigned is refused before decoding, signed by the bounded decode.
    unsigned = client.post(URL, data={"signed_request": "a" * 43 + "." + _b64(deep(2900))})
    assert unsigned.status_code == 403
    signed = client.post(URL, data={"signed_request": _signed_raw(deep(2900))})
    assert signed.status_code == 400
    assert _counts(app) == (0, 0)


def test_the_signature_is_compared_in_constant_time(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signed_request_module.hmac, "compare_digest", spy)
    signed = signed_request(deletion_payload(), APP_SECRET)
    assert client.post(URL, data={"signed_request": signed}).status_code == 200
    given = base64.urlsafe_b64decode(signed.split(".")[0] + "==")
    assert any(given in pair for pair in compared)


@pytest.mark.parametrize(
    ("issued_at", "status"),
    [
        (978307200, 403),  # 2001: a request recorded long ago and replayed
        # Seconds from now, worked out when the test runs (ids fixed at collection must be the
        # same in every pytest-xdist worker).
        (-2 * 3600, 403),  # older than the hour allowed
        (3600, 403),  # from the future, beyond clock skew
        ("1742667604", 400),
        (True, 400),
        (None, 400),
    ],
)
def test_a_stale_or_undated_request_is_refused_and_erases_nothing(
    app: Flask, client: FlaskClient, issued_at: object, status: int
) -> None:
    with session_scope(_engine(app)) as db:
        seeded = seed_message(db, age_days=2)
    if isinstance(issued_at, int) and not isinstance(issued_at, bool) and abs(issued_at) < 10**6:
        issued_at = int(time.time()) + issued_at
    payload = {**deletion_payload(), "issued_at": issued_at}
    if issued_at is None:
        del payload["issued_at"]
    response = client.post(URL, data={"signed_request": signed_request(payload, APP_SECRET)})
    assert response.status_code == status
    assert _counts(app) == (0, 0)
    with Session(_engine(app)) as db:
        assert db.get(Item, seeded.item_id).text == SECRET_TEXT  # type: ignore[union-attr]


def test_a_request_a_few_minutes_old_or_slightly_ahead_is_accepted(
    app: Flask, client: FlaskClient
) -> None:
    for offset, user in ((-50 * 60, "501"), (60, "502")):
        payload = deletion_payload(user, issued_at=int(time.time()) + offset)
        form = {"signed_request": signed_request(payload, APP_SECRET)}
        assert client.post(URL, data=form).status_code == 200


@pytest.mark.parametrize(("path", "secret"), [(f"{URL}/instagram", APP_SECRET), (URL, IG_SECRET)])
def test_each_platform_takes_only_its_own_app_secret(
    app: Flask, client: FlaskClient, path: str, secret: str
) -> None:
    with session_scope(_engine(app)) as db:
        seeded = seed_message(db, age_days=2)
    form = {"signed_request": signed_request(deletion_payload(), secret)}
    assert client.post(path, data=form).status_code == 403
    assert _counts(app) == (0, 0)
    with Session(_engine(app)) as db:
        assert db.get(Item, seeded.item_id).text == SECRET_TEXT  # type: ignore[union-attr]


def test_without_a_public_url_the_request_is_refused_and_the_host_never_used(
    tmp_path: Path,
) -> None:
    enqueuer = LocalEnqueuer([0, 0, 0])
    try:
        app = create_app(_settings(tmp_path, public_url=""), enqueuer=enqueuer)
        client = app.test_client()
        with session_scope(_engine(app)) as db:
            seeded = seed_message(db, age_days=2)
        response = client.post(
            URL,
            data={"signed_request": signed_request(deletion_payload(), APP_SECRET)},
            headers={"Host": "evil.example"},
        )
        assert response.status_code == 503
        assert "public_url" in response.get_json()["error"]
        assert "evil.example" not in response.get_data(as_text=True)
        assert _counts(app) == (0, 0)
        with Session(_engine(app)) as db:
            assert db.get(Item, seeded.item_id).text == SECRET_TEXT  # type: ignore[union-attr]
    finally:
        enqueuer.stop()


def test_a_signed_request_without_a_user_id_is_refused(app: Flask, client: FlaskClient) -> None:
    payload = {"algorithm": "HMAC-SHA256", "issued_at": int(time.time())}
    response = client.post(URL, data={"signed_request": signed_request(payload, APP_SECRET)})
    assert response.status_code == 400
    assert _counts(app) == (0, 0)


def test_an_unknown_status_code_is_not_found(client: FlaskClient) -> None:
    assert client.get("/meta/data-deletion/status/0123456789abcdef0123").status_code == 404
    assert client.get("/meta/data-deletion/status/<script>").status_code == 404


def test_the_callback_needs_no_csrf_token_and_works_on_instagram(tmp_path: Path) -> None:
    enqueuer = LocalEnqueuer([0, 0, 0])
    try:
        app = create_app(_settings(tmp_path), enqueuer=enqueuer)  # CSRF on, as in production
        client = app.test_client()
        response = client.post(
            f"{URL}/instagram",
            data={"signed_request": signed_request(deletion_payload("1784"), IG_SECRET)},
        )
        assert response.status_code == 200
        with Session(_engine(app)) as db:
            assert db.exec(select(DataDeletionRequest)).one().summary["platform"] == "instagram"
    finally:
        enqueuer.stop()
