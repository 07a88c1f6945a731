"""Helpers for the dashboard tests: staff with second factors, signing in, sample traffic."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import Case, Item, User
from bot.web.auth.login import create_user
from bot.web.auth.totp import enrol
from tests.helpers import PAGE_ID, page_comment, signed_post

PASSWORD = "correct horse battery"
RISK = "I can't do this anymore, everyone would be better off without me"
PII = "So proud! Call me on 07700 900123, she goes to St Mary's Primary School"
HELP = "I really need someone to talk to about our adoption, it's been so hard lately"
ROLES = ("admin", "moderator", "safeguarding_lead", "safeguarding_deputy")
_numbers = itertools.count(7100)


def add_user(app: Flask, name: str, role: str, *, second_factor: bool = True) -> str | None:
    """A user; admins and safeguarding roles get an enrolled TOTP key (returned)."""
    with session_scope(app.extensions["haven"].engine) as db:
        user = create_user(db, name, PASSWORD, role)
        if second_factor and role != "moderator":
            return enrol(db, user, actor="test")
    return None


def sign_in(client: FlaskClient, app: Flask, name: str, key: str | None = None) -> None:
    """Password, then (if the user has one) a code; asserts the sign-in sends them to the
    dashboard (a refused one answers with the form again)."""
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    if key is not None:
        assert response.headers["Location"] == "/login/code"
        # Tests sign the same person in many times a minute; a real code is accepted once.
        with session_scope(app.extensions["haven"].engine) as db:
            user = db.exec(select(User).where(User.username == name)).one()
            user.totp_last_step = None
            db.add(user)
        response = client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
        assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/", response.headers["Location"]


def comment(
    app: Flask,
    client: FlaskClient,
    text: str,
    *,
    author: str = "6000000000000042",
    age_seconds: int = 600,
    name: str = "Jo Visitor",
) -> Item:
    """A Page comment delivered through the real webhook and processed; returns its item."""
    number = next(_numbers)
    payload = page_comment(
        text, comment=str(number), author=author, created_time=int(time.time()) - age_seconds
    )
    payload["entry"][0]["changes"][0]["value"]["from"]["name"] = name
    assert signed_post(client, payload).status_code == 200
    return _processed(app, f"900000000000001_{number}")


def message(
    app: Flask,
    client: FlaskClient,
    text: str,
    *,
    sender: str = "6000000000000042",
    age_seconds: int = 600,
) -> Item:
    """A Messenger message to the Page, delivered and processed."""
    number = next(_numbers)
    at_ms = (int(time.time()) - age_seconds) * 1000
    payload: dict[str, Any] = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": at_ms, "messaging": [{
            "sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": at_ms,
            "message": {"mid": f"m_test_{number}", "text": text},
        }]}],
    }  # fmt: skip
    assert signed_post(client, payload).status_code == 200
    return _processed(app, f"m_test_{number}")


def _processed(app: Flask, external_id: str) -> Item:
    context = app.extensions["haven"]
    assert context.enqueuer.wait_idle()
    with Session(context.engine) as db:
        return db.exec(select(Item).where(Item.external_id == external_id)).one()


def case_of(app: Flask, item: Item) -> Case:
    with Session(app.extensions["haven"].engine) as db:
        fresh = db.get(Item, item.id)
        assert fresh is not None and fresh.case_id is not None
        return db.get(Case, fresh.case_id)  # type: ignore[return-value]


def item_order(page: str) -> list[int]:
    """The ids of the items a page lists, in the order it lists them."""
    return [int(n) for n in re.findall(r'data-item="(\d+)"', page)]
