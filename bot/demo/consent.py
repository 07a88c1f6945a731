"""The demo's consent step: once Haven's private reply to Jo has gone, Jo says yes.

The samples arrive at once, but a person cannot answer a question before it is asked, and
nothing is sent until a person approves it. So this waits in the background: when someone
approves the private reply drafted for Jo's help request in the dashboard, it is sent (a dry
run: recorded, nothing leaves the machine), which puts the case in "awaiting consent" and links
Jo's messaging id (the commenter's own id in a dry run); then Jo's "yes please" is posted
through the signed webhook and the case shows consent given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.crypto import install_from_settings
from bot.db import make_engine
from bot.demo.events import JO_COMMENT, demo_consent_reply
from bot.models import Case, Item, ReplyDraft

Post = Callable[[dict[str, Any]], int]


def signed_poster(base_url: str, app_secret: str) -> Post:
    """POST one delivery to the webhook, signed as Meta signs it; returns the HTTP status."""

    def post(delivery: dict[str, Any]) -> int:
        body = json.dumps(delivery).encode()
        digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
        url = f"{base_url}/webhooks/meta"
        return requests.post(url, data=body, headers=headers, timeout=10).status_code

    return post


def jo_reply_sent(engine: Engine) -> bool:
    """Has the private reply drafted for Jo's comment gone (dry run: recorded as sent)?"""
    with Session(engine) as session:
        status = session.exec(
            select(ReplyDraft.status)
            .join(Item, Item.id == ReplyDraft.item_id)
            .where(Item.external_id == JO_COMMENT, ReplyDraft.kind == "private")
        ).first()
    return status == "sent"


def jo_consent(engine: Engine) -> str | None:
    with Session(engine) as session:
        return session.exec(
            select(Case.consent)
            .join(Item, Item.case_id == Case.id)
            .where(Item.external_id == JO_COMMENT)
        ).first()


def play_consent_step(
    settings: Settings, post: Post, *, timeout: float | None = None, every: float = 2
) -> str | None:
    """Wait until someone approves Jo's private reply and the tick sends it, then post Jo's
    answer; returns the consent recorded (None if the reply never went within `timeout`)."""
    install_from_settings(settings)
    engine = make_engine(settings.database_url)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not jo_reply_sent(engine):
        if deadline is not None and time.monotonic() > deadline:
            return None
        time.sleep(every)
    post(demo_consent_reply(int(time.time())))
    for _ in range(60):
        consent = jo_consent(engine)
        if consent in ("given", "declined", "withdrawn"):
            return consent
        time.sleep(0.5)
    return jo_consent(engine)
