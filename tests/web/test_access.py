"""Who sees what: login, CSRF, and the safeguarding wall (with every look on the record)."""

from __future__ import annotations

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import AuditEntry, Case
from bot.web.auth.login import create_user
from bot.web.auth.totp import enrol
from tests.helpers import page_comment, signed_post

RISK = "I can't do this anymore, everyone would be better off without me"
PASSWORD = "correct horse battery"


def _user(app: Flask, name: str, role: str) -> str | None:
    """Add a user; admins and the safeguarding roles get a second factor (its key)."""
    with session_scope(app.extensions["haven"].engine) as session:
        user = create_user(session, name, PASSWORD, role)
        return None if role == "moderator" else enrol(session, user, actor="test")


def _login(client: FlaskClient, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": name, "password": password})


def _risk_case(app: Flask, client: FlaskClient) -> Case:
    assert signed_post(client, page_comment(RISK)).status_code == 200
    assert app.extensions["haven"].enqueuer.wait_idle()
    with Session(app.extensions["haven"].engine) as session:
        return session.exec(select(Case)).one()


def test_every_page_needs_a_login(client: FlaskClient) -> None:
    for path in ("/", "/cases", "/cases/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_wrong_password_says_nothing_about_which_part_was_wrong(
    app: Flask, client: FlaskClient
) -> None:
    _user(app, "mod", "moderator")
    for name, password in (("mod", "not the password"), ("nobody", PASSWORD)):
        page = _login(client, name, password).get_data(as_text=True)
        assert "That username and password do not match." in page
    assert client.get("/").status_code == 302


def test_sign_in_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    _user(app, "mod", "moderator")
    response = client.post(
        "/login?next=https://evil.example/", data={"username": "mod", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_forms_need_a_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    _user(app, "mod", "moderator")
    client = app.test_client()
    assert _login(client, "mod").status_code == 400  # no token: refused
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": "mod", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_a_moderator_sees_that_a_safeguarding_case_exists_but_not_its_content(
    app: Flask, client: FlaskClient
) -> None:
    case = _risk_case(app, client)
    assert case.case_type == "safeguarding" and case.status == "escalated"
    _user(app, "mod", "moderator")
    _login(client, "mod")
    queue = client.get("/").get_data(as_text=True)
    assert "Safeguarding case: details are for the safeguarding lead" in queue
    assert "better off without me" not in queue and "risk." not in queue
    detail = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "better off without me" not in detail and "your visit has been recorded" in detail


def test_the_lead_sees_it_and_every_view_is_audited(app: Flask, client: FlaskClient) -> None:
    case = _risk_case(app, client)
    _user(app, "mod", "moderator")
    key = _user(app, "lead", "safeguarding_lead")
    _login(client, "mod")
    client.get(f"/cases/{case.id}")
    client.post("/logout")
    _login(client, "lead")
    client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert "better off without me" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    with Session(app.extensions["haven"].engine) as session:
        views = session.exec(
            select(AuditEntry.action).where(AuditEntry.subject_type == "case")
        ).all()
    assert "case.view_refused" in views and "case.viewed" in views


def test_pages_carry_protective_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
