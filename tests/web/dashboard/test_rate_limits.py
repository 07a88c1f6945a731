"""Sign-in limits per username and per address, held in the database across processes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import AuditEntry, utcnow
from bot.models.dashboard import LoginAttempt
from bot.tasks import LocalEnqueuer
from bot.web.auth.limits import refusal
from tests.helpers import make_settings
from tests.web.dashboard.support import PASSWORD, add_user

LIMITED = "Too many sign-in attempts"


def _try(client: FlaskClient, name: str, password: str, ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/login", data={"username": name, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def test_five_wrong_passwords_lock_that_username_even_for_the_right_one(
    app: Flask, client: FlaskClient
) -> None:
    add_user(app, "mod", "moderator")
    for _ in range(5):
        assert _try(client, "mod", "wrong password!").status_code == 200
    response = _try(client, "mod", PASSWORD)
    assert response.status_code == 429 and LIMITED in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # The limit is the username's: the same address may still sign someone else in.
    add_user(app, "other", "moderator")
    assert _try(client, "other", PASSWORD).status_code == 302
    # A name that does not exist is limited just the same, so a refusal reveals nothing.
    for _ in range(5):
        _try(app.test_client(), "ghost", "whatever it is", ip="10.0.0.9")
    assert _try(app.test_client(), "ghost", "whatever it is", ip="10.0.0.9").status_code == 429


def test_an_address_is_limited_across_usernames(app: Flask) -> None:
    add_user(app, "mod", "moderator")
    for n in range(20):
        _try(app.test_client(), f"guess{n}", "wrong password!", ip="192.0.2.7")
    assert _try(app.test_client(), "mod", PASSWORD, ip="192.0.2.7").status_code == 429
    assert _try(app.test_client(), "mod", PASSWORD, ip="192.0.2.8").status_code == 302


def test_the_limit_holds_across_processes_sharing_the_database(
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


def test_a_completed_sign_in_clears_the_username_and_the_window_expires(
    app: Flask, client: FlaskClient
) -> None:
    add_user(app, "mod", "moderator")
    for _ in range(4):
        _try(client, "mod", "wrong password!")
    assert _try(client, "mod", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        _try(client, "mod", "wrong password!")
    assert _try(client, "mod", PASSWORD).status_code == 302  # 4 since the success: allowed
    client.post("/logout")
    _try(client, "mod", "wrong password!")
    config = app.extensions["haven"].settings.config.dashboard
    with Session(app.extensions["haven"].engine) as db:
        assert refusal(db, "mod", "10.0.0.1", config) == 0  # 1 since the last success
        for _ in range(4):
            db.add(LoginAttempt(username="mod", ip="10.0.0.1", stage="password"))
        db.commit()
        assert refusal(db, "mod", "10.0.0.1", config) == 15
        later = utcnow() + timedelta(minutes=16)
        assert refusal(db, "mod", "10.0.0.1", config, now=later) == 0
        limited = db.exec(select(AuditEntry).where(AuditEntry.action == "user.login_limited"))
        assert limited.first() is None  # nothing was refused yet


def test_wrong_codes_count_towards_the_limit(app: Flask, client: FlaskClient) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    _try(client, "boss", PASSWORD)
    for _ in range(5):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 200
    response = client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert response.headers["Location"] == "/login"  # refused, and the half sign-in ended
    assert client.get("/").status_code == 302
    with Session(app.extensions["haven"].engine) as db:
        stages = db.exec(select(LoginAttempt.stage).where(LoginAttempt.username == "boss")).all()
    assert stages.count("code") == 5


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
        ips = set(db.exec(select(LoginAttempt.ip)).all())
    assert ips == {"198.51.100.1", "198.51.100.2"}
