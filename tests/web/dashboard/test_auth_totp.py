"""The second factor: enrolment at first sign-in, codes, replays, resets from the CLI."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import AuditEntry, User
from bot.web.auth.totp import matching_step, use_code
from tests.helpers import environ_for_tests, make_settings
from tests.web.dashboard.support import PASSWORD, add_user, sign_in


def _user(app: Flask, name: str) -> User:
    with Session(app.extensions["haven"].engine) as db:
        return db.exec(select(User).where(User.username == name)).one()


@pytest.mark.parametrize("role", ["admin", "safeguarding_lead", "safeguarding_deputy"])
def test_elevated_roles_enrol_a_second_factor_before_they_get_in(
    app: Flask, client: FlaskClient, role: str
) -> None:
    add_user(app, "new", role, second_factor=False)
    response = client.post("/login", data={"username": "new", "password": PASSWORD})
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/").status_code == 302  # the password alone opens nothing
    page = client.get("/login/enrol").get_data(as_text=True)
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]{39})<', page).group(1)  # type: ignore[union-attr]
    secret = shown.replace(" ", "")  # shown in groups of four, for reading aloud or typing
    assert f"otpauth://totp/Haven:new?secret={secret}" in page
    assert "issuer=Haven" in page
    wrong = client.post("/login/enrol", data={"code": "000000"}).get_data(as_text=True)
    assert "That code is not right" in wrong and client.get("/").status_code == 302
    response = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _user(app, "new").totp_confirmed_at is not None


def test_an_enrolled_user_is_asked_for_a_code_and_a_code_works_once(
    app: Flask, client: FlaskClient
) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    response = client.post("/login?next=/cases", data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == "/login/code"
    assert client.get("/login/enrol").headers["Location"] == "/login/code"
    code = pyotp.TOTP(key).now()
    assert client.post("/login/code", data={"code": code}).headers["Location"] == "/cases"
    client.post("/logout")
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    page = client.post("/login/code", data={"code": code}).get_data(as_text=True)
    assert "That code is not right" in page  # the same code again: a replay
    assert client.get("/").status_code == 302


def test_codes_allow_one_step_of_clock_drift_and_no_more() -> None:
    secret = pyotp.random_base32()
    totp, now = pyotp.TOTP(secret), time.time()
    step = int(now // 30)
    assert matching_step(secret, totp.at(now - 30), now) == step - 1
    assert matching_step(secret, totp.at(now + 30), now) == step + 1
    assert matching_step(secret, totp.at(now + 90), now) is None
    assert matching_step(secret, "12345", now) is None
    assert matching_step(secret, "abcdef", now) is None
    fullwidth = totp.at(now).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert matching_step(secret, fullwidth, now) is None  # digits, but not ours


def test_a_code_is_used_once_and_no_earlier_code_after_it(app: Flask) -> None:
    key = add_user(app, "boss", "admin")
    assert key is not None
    totp, now = pyotp.TOTP(key), time.time()
    with session_scope(app.extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == "boss")).one()
        assert use_code(db, user, totp.at(now), now)
        assert not use_code(db, user, totp.at(now), now)  # used
        assert not use_code(db, user, totp.at(now - 30), now)  # older than one used
        assert use_code(db, user, totp.at(now + 30), now)


def test_a_moderator_needs_only_a_password_unless_config_says_otherwise(
    tmp_path: Path, app: Flask, client: FlaskClient
) -> None:
    add_user(app, "mod", "moderator")
    assert (
        client.post("/login", data={"username": "mod", "password": PASSWORD}).headers["Location"]
        == "/"
    )
    from bot.app import create_app

    strict = create_app(make_settings(tmp_path, config={"dashboard": {
        "secure_cookies": False, "totp_for_moderators": True}}),
        enqueuer=app.extensions["haven"].enqueuer)  # fmt: skip
    strict.config["WTF_CSRF_ENABLED"] = False
    other = strict.test_client()
    response = other.post("/login", data={"username": "mod", "password": PASSWORD})
    assert response.headers["Location"] == "/login/enrol"


def test_the_code_pages_need_a_password_first(client: FlaskClient) -> None:
    for path in ("/login/code", "/login/enrol"):
        assert client.get(path).headers["Location"] == "/login"
        assert client.post(path, data={"code": "123456"}).headers["Location"] == "/login"


def _cli(settings: Settings, tmp_path: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    env = environ_for_tests(tmp_path)
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def test_reset_totp_from_the_cli_ends_sessions_and_asks_for_a_new_enrolment(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    key = add_user(app, "lead", "safeguarding_lead")
    sign_in(client, app, "lead", key)
    result = _cli(settings, tmp_path, "users", "reset-totp", "lead")
    assert result.exit_code == 0, result.output
    assert "second factor cleared for lead" in result.output
    assert client.get("/").status_code == 302  # the open session is over
    response = client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert response.headers["Location"] == "/login/enrol"
    assert _cli(settings, tmp_path, "users", "reset-totp", "nobody").exit_code != 0


def test_reset_password_from_the_cli(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    add_user(app, "mod", "moderator")
    sign_in(client, app, "mod")
    result = _cli(settings, tmp_path, "users", "reset-password", "mod")
    assert result.exit_code == 0, result.output
    new_password = re.search(r"password: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    assert client.get("/").status_code == 302  # the old session is over
    assert client.post("/login", data={"username": "mod", "password": PASSWORD}).status_code == 200
    response = client.post("/login", data={"username": "mod", "password": new_password})
    assert response.headers["Location"] == "/"
    chosen = _cli(settings, tmp_path, "users", "reset-password", "mod", "--password-stdin",
                  stdin="another long password\n")  # fmt: skip
    assert chosen.exit_code == 0 and "password:" not in chosen.output
    assert _cli(settings, tmp_path, "users", "reset-password", "mod", "--password-stdin",
                stdin="short\n").exit_code != 0  # fmt: skip
    with Session(app.extensions["haven"].engine) as db:
        actions = db.exec(select(AuditEntry.action).where(AuditEntry.subject_type == "user")).all()
    assert actions.count("user.password_set") == 2


def _enrolment_code(output: str) -> str:
    found = re.search(r"one-time enrolment code: ([A-Z2-7-]+)", output)
    assert found is not None, output
    return found.group(1)


def test_after_a_reset_the_password_alone_cannot_enrol_a_second_factor(
    app: Flask, settings: Settings, tmp_path: Path
) -> None:
    """Issue 17: whoever signed in first after a reset enrolled, holding only the password."""
    add_user(app, "lead", "safeguarding_lead")
    reset = _cli(settings, tmp_path, "users", "reset-totp", "lead")
    assert reset.exit_code == 0, reset.output
    code = _enrolment_code(reset.output)
    intruder = app.test_client()  # has the lead's password, not the enrolment code
    response = intruder.post("/login", data={"username": "lead", "password": PASSWORD})
    assert response.headers["Location"] == "/login/enrol"
    page = intruder.get("/login/enrol").get_data(as_text=True)
    assert 'id="totp-secret"' not in page and "otpauth://" not in page  # no key shown yet
    assert "enrolment code" in page
    wrong = intruder.post("/login/enrol", data={"reset_code": "AAAA-BBBB-CCCC"})
    assert "That enrolment code is not right" in wrong.get_data(as_text=True)
    assert 'id="totp-secret"' not in wrong.get_data(as_text=True)
    assert intruder.post("/login/enrol", data={"code": "123456"}).status_code == 200
    assert intruder.get("/").status_code == 302
    assert _user(app, "lead").totp_confirmed_at is None
    # The lead, with the code from whoever reset her second factor (typed in any case).
    lead = app.test_client()
    lead.post("/login", data={"username": "lead", "password": PASSWORD})
    page = lead.post("/login/enrol", data={"reset_code": code.lower()}).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]{39})<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    response = lead.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/"
    assert lead.get("/").status_code == 200
    assert _user(app, "lead").totp_enrol_code_hash is None  # the code worked once
    # A second reset: only its own code is any use.
    again = _enrolment_code(_cli(settings, tmp_path, "users", "reset-totp", "lead").output)
    other = app.test_client()
    other.post("/login", data={"username": "lead", "password": PASSWORD})
    refused = other.post("/login/enrol", data={"reset_code": code}).get_data(as_text=True)
    assert "That enrolment code is not right" in refused
    accepted = other.post("/login/enrol", data={"reset_code": again}).get_data(as_text=True)
    assert 'id="totp-secret"' in accepted


def test_the_reset_link_carries_the_enrolment_code_through_sign_in(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    add_user(app, "boss", "admin")
    reset = _cli(settings, tmp_path, "users", "reset-totp", "boss")
    link = re.search(r"https?://\S+(/login/enrol\?reset=\S+)", reset.output)
    assert link is not None, reset.output
    assert client.get(link.group(1)).headers["Location"] == "/login"  # sign in first
    response = client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol").get_data(as_text=True)
    assert 'id="totp-secret"' in page  # the link's code was enough
