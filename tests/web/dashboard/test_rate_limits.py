"""Sign-in throttling (issue 17, row 3): growing waits per username and address, counted in the
database across processes, that a stranger cannot turn against the safeguarding lead."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select
from werkzeug.test import TestResponse

from bot.app import create_app
from bot.db import session_scope
from bot.models import AuditEntry, LoginThrottle
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.web.dashboard.support import PASSWORD, add_user

LIMITED = "Too many sign-in attempts"
OFFICE, STRANGER = "10.0.0.1", "203.0.113.66"


def _try(client: FlaskClient, name: str, password: str, ip: str = OFFICE) -> TestResponse:
    return client.post(
        "/login", data={"username": name, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def _sign_in_from(app: Flask, name: str, key: str | None, ip: str) -> FlaskClient:
    """A complete sign-in from that address (so it becomes one the user has signed in from)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    if key is not None:
        _forget_last_code(app, name)
        assert client.post("/login/code", data={"code": pyotp.TOTP(key).now()}).status_code == 302
    assert client.get("/").status_code == 200
    return client


def _forget_last_code(app: Flask, name: str) -> None:
    from bot.models import User

    with session_scope(app.extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == name)).one()
        user.totp_last_step = None


def _wait_minutes(response: TestResponse) -> int:
    assert response.status_code == 429, response.status_code
    found = re.search(r"Try again in (\d+) minutes?", response.get_data(as_text=True))
    assert found is not None
    return int(found.group(1))


def _time_passes(app: Flask, minutes: float) -> None:
    """Every count's last failure moves this far into the past."""
    with session_scope(app.extensions["haven"].engine) as db:
        for count in db.exec(select(LoginThrottle)).all():
            count.last_at -= timedelta(minutes=minutes)


def test_a_strangers_wrong_passwords_do_not_lock_the_lead_out(app: Flask) -> None:
    key = add_user(app, "lead", "safeguarding_lead")
    _sign_in_from(app, "lead", key, OFFICE).post("/logout")
    stranger = app.test_client()
    answers = [_try(stranger, "lead", f"guess {n} wrong!", STRANGER).status_code for n in range(8)]
    assert answers == [200] * 5 + [429] * 3  # the stranger waits...
    _sign_in_from(app, "lead", key, OFFICE)  # ...the lead, at an address she has used, does not
    # Her successful sign-in does not wipe the stranger's slate.
    assert _try(stranger, "lead", PASSWORD, STRANGER).status_code == 429


def test_guessing_from_an_office_address_does_not_lock_out_its_staff(app: Flask) -> None:
    add_user(app, "mod", "moderator")
    _sign_in_from(app, "mod", None, OFFICE).post("/logout")
    for n in range(25):  # someone on the office network guessing many usernames
        _try(app.test_client(), f"guess{n}", "wrong password!", OFFICE)
    assert _try(app.test_client(), f"guess{n + 1}", "wrong password!", OFFICE).status_code == 429
    assert _try(app.test_client(), "mod", PASSWORD, OFFICE).status_code == 302


def test_the_wait_grows_and_then_ends_instead_of_a_block(app: Flask) -> None:
    add_user(app, "mod", "moderator")
    client = app.test_client()
    for _ in range(5):
        assert _try(client, "mod", "wrong password!", STRANGER).status_code == 200
    assert _wait_minutes(_try(client, "mod", PASSWORD, STRANGER)) == 1
    waits = []
    for _ in range(6):
        _time_passes(app, min(2 ** len(waits), 15))  # just the wait it was told
        assert _try(client, "mod", "wrong password!", STRANGER).status_code == 200
        waits.append(_wait_minutes(_try(client, "mod", "wrong password!", STRANGER)))
    assert waits == [2, 4, 8, 15, 15, 15]  # doubling, up to login_max_wait_minutes
    _time_passes(app, 15)
    assert _try(client, "mod", PASSWORD, STRANGER).status_code == 302  # never a hard block


def test_many_addresses_guessing_one_username_share_one_count(app: Flask) -> None:
    key = add_user(app, "lead", "safeguarding_lead")
    _sign_in_from(app, "lead", key, OFFICE).post("/logout")
    for n in range(5):
        assert (
            _try(app.test_client(), "lead", "wrong password!", f"198.51.100.{n}").status_code == 200
        )
    assert _try(app.test_client(), "lead", PASSWORD, "198.51.100.77").status_code == 429
    _sign_in_from(app, "lead", key, OFFICE)


def test_an_unknown_username_is_limited_just_the_same(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert _try(client, "ghost", "whatever it is", STRANGER).status_code == 200
    assert _wait_minutes(_try(client, "ghost", "whatever it is", STRANGER)) == 1
    with Session(app.extensions["haven"].engine) as db:
        limited = db.exec(select(AuditEntry).where(AuditEntry.action == "user.login_limited"))
        assert len(limited.all()) == 1


def test_the_count_holds_across_processes_sharing_the_database(
    app: Flask, tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    add_user(app, "mod", "moderator")
    for _ in range(3):
        _try(app.test_client(), "mod", "wrong password!")
    # A second web process (another gunicorn worker or machine) on the same database.
    second = create_app(make_settings(tmp_path), enqueuer=enqueuer)
    second.config["WTF_CSRF_ENABLED"] = False
    for _ in range(2):
        _try(second.test_client(), "mod", "wrong password!")
    assert _try(second.test_client(), "mod", PASSWORD).status_code == 429
    assert _try(app.test_client(), "mod", PASSWORD).status_code == 429


def test_a_completed_sign_in_clears_its_addresses_count(app: Flask, client: FlaskClient) -> None:
    add_user(app, "mod", "moderator")
    for _ in range(4):
        _try(client, "mod", "wrong password!")
    assert _try(client, "mod", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        _try(client, "mod", "wrong password!")
    assert _try(client, "mod", PASSWORD).status_code == 302  # 4 since the success: allowed


def test_failures_are_forgotten_after_a_quiet_window(app: Flask, client: FlaskClient) -> None:
    add_user(app, "mod", "moderator")
    for _ in range(4):
        _try(client, "mod", "wrong password!", STRANGER)
    _time_passes(app, 16)  # login_window_minutes (15) without a failure
    for _ in range(4):
        assert _try(client, "mod", "wrong password!", STRANGER).status_code == 200
    assert _try(client, "mod", PASSWORD, STRANGER).status_code == 302


def test_wrong_codes_count_towards_the_limit(app: Flask, client: FlaskClient) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    _try(client, "boss", PASSWORD)
    for _ in range(5):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 200
    response = client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert response.headers["Location"] == "/login"  # refused, and the half sign-in ended
    assert client.get("/").status_code == 302
    assert "Too many sign-in attempts" in client.get("/login").get_data(as_text=True)


def test_the_right_password_does_not_count_against_the_code_that_follows(
    app: Flask, client: FlaskClient
) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    for _ in range(4):
        _try(client, "boss", "wrong password!")
    assert _try(client, "boss", PASSWORD).headers["Location"] == "/login/code"
    response = client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert response.headers["Location"] == "/"


def test_behind_a_proxy_the_forwarded_address_is_counted(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    settings = make_settings(tmp_path, config={"dashboard": {
        "secure_cookies": False, "behind_proxy": True, "login_failures_per_ip": 2}})  # fmt: skip
    proxied = create_app(settings, enqueuer=enqueuer)
    proxied.config["WTF_CSRF_ENABLED"] = False
    client = proxied.test_client()

    def attempt(forwarded: str) -> int:
        return client.post(
            "/login",
            data={"username": f"u{forwarded}", "password": "wrong password!"},
            headers={"X-Forwarded-For": f"203.0.113.99, {forwarded}"},
        ).status_code

    assert [attempt("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("198.51.100.2") == 200  # another client behind the same proxy
    with Session(proxied.extensions["haven"].engine) as db:
        keys = set(db.exec(select(LoginThrottle.key)).all())
    assert {"ip:198.51.100.1", "ip:198.51.100.2"} <= keys
