"""Sessions that end (issue 17, row 8): signing out ends them on the server, and so do idle and
absolute timeouts, shorter for the roles that see safeguarding cases."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.cli import main
from bot.models import AuditEntry, User
from bot.tasks import LocalEnqueuer
from tests.helpers import environ_for_tests, make_settings
from tests.web.dashboard.support import add_user, sign_in

SignIn = Callable[[str], FlaskClient]


def _copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie, as saved by a thief."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    return copy


def _idle_for(client: FlaskClient, seconds: int, *, signed_in_ago: int | None = None) -> None:
    """Make the session look as if its last request was `seconds` ago."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["seen_at"] = now - seconds
        if signed_in_ago is not None:
            session["signed_in_at"] = now - signed_in_ago


def test_a_cookie_saved_before_signing_out_does_not_work_after(app: Flask, as_role: SignIn) -> None:
    client = as_role("safeguarding_lead")
    saved = _copy_of(app, client)
    assert saved.get("/").status_code == 200  # the copy works while the session is open
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert saved.get("/").status_code == 302
    assert saved.post("/items/1/review").status_code == 302  # nor can it act


def test_signing_out_ends_that_users_other_sessions_too(app: Flask, as_role: SignIn) -> None:
    phone, desk, other = as_role("admin"), as_role("admin"), as_role("moderator")
    phone.post("/logout")
    assert desk.get("/").status_code == 302
    assert other.get("/").status_code == 200  # someone else's session is theirs


@pytest.mark.parametrize(
    ("role", "idle_minutes"),
    [("admin", 30), ("safeguarding_lead", 30), ("safeguarding_deputy", 30), ("moderator", 120)],
)
def test_a_session_ends_after_its_roles_idle_time(
    as_role: SignIn, role: str, idle_minutes: int
) -> None:
    client = as_role(role)
    _idle_for(client, idle_minutes * 60 - 60)
    assert client.get("/").status_code == 200  # a request within the time...
    _idle_for(client, idle_minutes * 60 - 60)
    assert client.get("/").status_code == 200  # ...starts it again
    _idle_for(client, idle_minutes * 60 + 1)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "signed out after" in page and "without activity" in page
    assert client.get("/").status_code == 302  # and it stays ended


def test_a_session_ends_after_its_absolute_time_however_busy(as_role: SignIn) -> None:
    client = as_role("moderator")
    _idle_for(client, 0, signed_in_ago=12 * 3600 - 60)
    assert client.get("/").status_code == 200
    _idle_for(client, 0, signed_in_ago=12 * 3600 + 1)
    assert client.get("/").status_code == 302


def test_the_timeouts_come_from_the_config(tmp_path: Path, enqueuer: LocalEnqueuer) -> None:
    config = {"dashboard": {"secure_cookies": False, "sessions": {
        "idle_minutes": 5, "moderator_idle_minutes": 10, "absolute_hours": 1}}}  # fmt: skip
    app = create_app(make_settings(tmp_path, config=config), enqueuer=enqueuer)
    app.config["WTF_CSRF_ENABLED"] = False
    key = add_user(app, "boss", "admin")
    add_user(app, "mod", "moderator")
    boss, mod = app.test_client(), app.test_client()
    sign_in(boss, app, "boss", key)
    sign_in(mod, app, "mod")
    _idle_for(boss, 6 * 60)
    _idle_for(mod, 6 * 60)
    assert (boss.get("/").status_code, mod.get("/").status_code) == (302, 200)
    _idle_for(mod, 0, signed_in_ago=3600 + 1)
    assert mod.get("/").status_code == 302


def test_a_session_without_its_times_is_refused(app: Flask, as_role: SignIn) -> None:
    client = as_role("moderator")
    with client.session_transaction() as session:
        del session["signed_in_at"]  # e.g. a cookie signed before timeouts existed
    assert client.get("/").status_code == 302


def test_a_new_role_ends_the_users_sessions(app: Flask, as_role: SignIn, tmp_path: Path) -> None:
    client, other = as_role("moderator"), as_role("admin")
    command = ["users", "set-role", "moderator", "--role", "safeguarding_deputy"]
    result = CliRunner().invoke(main, command, env=environ_for_tests(tmp_path))
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 200
    with Session(app.extensions["haven"].engine) as db:
        assert db.exec(select(User.role).where(User.username == "moderator")).one() == (
            "safeguarding_deputy"
        )
        roles = db.exec(select(AuditEntry.detail).where(AuditEntry.action == "user.role_set"))
        assert roles.all() == [{"role": "safeguarding_deputy", "previous": "moderator"}]
    wrong = CliRunner().invoke(main, ["users", "set-role", "moderator", "--role", "owner"],
                               env=environ_for_tests(tmp_path))  # fmt: skip
    assert wrong.exit_code != 0
