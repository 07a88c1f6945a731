"""Password hashing as deployed (scrypt), and the cheap method the rest of the suite uses.

Every other test hashes with one PBKDF2 round (tests/conftest.py sets
HAVEN_TEST_PASSWORD_METHOD): scrypt costs a large share of a second a hash. These tests unset
it, so the real hasher keeps its own tests, and check that the cheap method is refused
outside a test run.
"""

from __future__ import annotations

import os

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import User
from bot.web.auth import login
from bot.web.auth.login import TEST_PASSWORD_METHOD_ENV, hash_password, set_password
from tests.web.dashboard.support import PASSWORD, add_user, sign_in


def _hash_of(app: Flask, name: str) -> str:
    with Session(app.extensions["haven"].engine) as db:
        return db.exec(select(User.password_hash).where(User.username == name)).one()


def test_real_users_get_scrypt_hashes_and_sign_in_with_them(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TEST_PASSWORD_METHOD_ENV)
    key = add_user(app, "lead", "safeguarding_lead")
    assert _hash_of(app, "lead").startswith("scrypt:")
    sign_in(client, app, "lead", key)
    other = app.test_client()
    refused = other.post("/login", data={"username": "lead", "password": PASSWORD + "x"})
    assert refused.status_code == 200 and "do not match" in refused.get_data(as_text=True)


def test_a_new_password_is_hashed_with_scrypt_and_the_old_one_stops_working(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(app, "mod", "moderator")  # hashed the cheap way, like every other test's users
    assert _hash_of(app, "mod").startswith("pbkdf2:sha256:1$")
    monkeypatch.delenv(TEST_PASSWORD_METHOD_ENV)
    with session_scope(app.extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == "mod")).one()
        set_password(db, user, "another-long-password")
    assert _hash_of(app, "mod").startswith("scrypt:")
    old = client.post("/login", data={"username": "mod", "password": PASSWORD})
    assert "do not match" in old.get_data(as_text=True)
    new = client.post("/login", data={"username": "mod", "password": "another-long-password"})
    assert new.status_code == 302


def test_the_cheap_method_is_refused_outside_a_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.environ[TEST_PASSWORD_METHOD_ENV]  # set for the whole suite
    with monkeypatch.context() as outside:
        outside.delenv("PYTEST_CURRENT_TEST")  # as in any process pytest is not running
        with pytest.raises(RuntimeError, match="test suite only"):
            hash_password(PASSWORD)
        outside.delenv(TEST_PASSWORD_METHOD_ENV)
        assert hash_password(PASSWORD).startswith("scrypt:")


def test_an_unknown_username_costs_the_same_hashing_as_a_real_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17, row 5: 0.4 s for a real user and 0.01 s otherwise told who has an account."""
    add_user(app, "mod", "moderator")
    methods: list[str] = []
    check = login.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        methods.append(pwhash.split("$")[0])
        return check(pwhash, password)

    monkeypatch.setattr(login, "check_password_hash", counted)
    client = app.test_client()
    for name in ("mod", "nobody", "mod", "someone else"):
        page = client.post("/login", data={"username": name, "password": "not the password"})
        assert "do not match" in page.get_data(as_text=True)
    # One hash each, all of the method real passwords are hashed with.
    assert methods == [_hash_of(app, "mod").split("$")[0]] * 4


def test_unknown_usernames_are_checked_against_scrypt_when_passwords_are(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TEST_PASSWORD_METHOD_ENV)
    methods: list[str] = []
    check = login.check_password_hash
    monkeypatch.setattr(
        login, "check_password_hash", lambda h, p: methods.append(h.split(":")[0]) or check(h, p)
    )
    app.test_client().post("/login", data={"username": "nobody", "password": "a guess at it"})
    assert methods == ["scrypt"]
