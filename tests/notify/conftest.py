"""Fixtures for alert tests: real SMTP and webhook receivers, and an app whose queue the tests
drain themselves, so every step runs with a clock the test controls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session, select

from bot.app import create_app
from bot.config import HavenConfig, Settings
from bot.db import session_scope
from bot.models import Item, User, utcnow
from bot.models.alerts import AlertDelivery
from bot.notify.delivery import deliver, route_alerts
from bot.tasks import LocalEnqueuer
from bot.web.auth.login import SignedInUser, create_user, login_manager
from bot.web.auth.sessions import mark_signed_in
from tests.helpers import make_settings, page_comment, signed_post
from tests.support.servers import SMTPServer, WebhookReceiver, email_section

RISK_TEXT = "I cannot go on any more, I want to kill myself tonight"
PII_TEXT = "call me on 07700 900123 about the raffle tickets"
AUTHOR_ID = "6000000000000042"
OTHER_AUTHOR_ID = "6000000000000077"
AUTHOR_NAME = "Jo Visitor"  # page_comment's author
HOOK_SECRET = "hook-signing-secret-for-tests-91c2"
SLACK_ENV = "HAVEN_TEST_SLACK_URL"
# A Wednesday at 11:00 in London: inside office hours, whatever the day the tests run.
IN_HOURS = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)
# A Saturday night.
OUT_OF_HOURS = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
PASSWORD = "a-long-enough-password"


def assert_content_free(blob: str, *texts: str) -> None:
    """No message text, author name, handle or id in what an alert sent (subject, body, JSON)."""
    forbidden = [
        RISK_TEXT,
        PII_TEXT,
        AUTHOR_NAME,
        "Visitor",
        AUTHOR_ID,
        OTHER_AUTHOR_ID,
        "07700 900123",
        *texts,
    ]
    fragments = [f for text in (RISK_TEXT, PII_TEXT) for f in (text[:20], text[-20:])]
    for needle in forbidden + fragments:
        assert needle not in blob, f"{needle!r} leaked into an alert"


def alerts_config(smtp_port: int, hook_url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "dashboard_url": "https://haven.example.org/",
        "email": email_section(smtp_port),
        "webhooks": [
            {"name": "pager", "kind": "signed", "url": hook_url, "secret_env": "HOOK_SECRET"},
            {"name": "team-chat", "kind": "slack", "url_env": SLACK_ENV},
        ],
        "roles": {
            "safeguarding_lead": {"email": ["lead@example.org"], "second_channels": ["pager"]},
            "safeguarding_deputy": {"email": ["deputy@example.org"], "second_channels": ["pager"]},
            "moderator": {"email": ["mods@example.org"], "channels": ["email", "team-chat"]},
            "admin": {"email": ["admin@example.org"]},
        },
        "escalation": {
            "acknowledge_within_minutes": 10,
            "repeat_every_minutes": 5,
            "page_deputy_at_once": False,
        },
        "delivery": {"retry_minutes": [1, 5]},
    }
    config.update(overrides)
    return config


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=HOOK_SECRET).start()
    yield receiver
    receiver.stop()


class AlertStack:
    """The web app with a queue nobody drains: tests run each job themselves, with `now`."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.environ = {"HOOK_SECRET": HOOK_SECRET}

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].engine

    @property
    def config(self) -> HavenConfig:
        return self.settings.config

    def comment(
        self,
        text: str,
        *,
        received_at: datetime = IN_HOURS,
        comment: str = "7001",
        author: str = AUTHOR_ID,
    ) -> int:
        """A signed comment through the real webhook, then the real process_item job."""
        from workers.jobs import process_item

        delivery = page_comment(text, comment=comment, author=author)
        response = signed_post(self.app.test_client(), delivery)
        assert response.status_code == 200
        with session_scope(self.engine) as session:
            item_id = session.exec(select(Item.id).order_by(Item.id.desc())).first()
            session.exec(update(Item).where(Item.id == item_id).values(received_at=received_at))
        assert process_item(item_id) == "processed"
        return item_id

    def send_all(self, now: datetime | None = None) -> list[str]:
        """Route every alert to its deliveries, then attempt each pending one: their outcomes."""
        route_alerts(self.engine, self.config.alerts, now=now)
        return [
            deliver(self.engine, self.config, d.id, now=now, environ=self.environ)
            for d in self.rows(AlertDelivery, AlertDelivery.status == "pending")
        ]

    def rows(self, model: type, *where: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.exec(select(model).where(*where)).all())

    def user(self, name: str, role: str) -> int:
        with session_scope(self.engine) as session:
            user = create_user(session, name, PASSWORD, role)
            if hasattr(user, "totp_confirmed_at"):
                # Admins and safeguarding roles sign in with a second factor; stand in for
                # one already enrolled (how sign-in works is the dashboard's own tests' job).
                user.totp_secret, user.totp_confirmed_at = "JBSWY3DPEHPK3PXP", utcnow()
            return user.id

    def client_as(self, user_id: int) -> FlaskClient:
        """A signed-in client (Flask-Login's own session keys), independent of the login form."""
        client = self.app.test_client()
        with Session(self.engine) as session:
            user = session.get(User, user_id)
            identity = SignedInUser(user).get_id()
        with self.app.test_request_context(environ_base=client.environ_base):
            fingerprint = login_manager._session_identifier_generator()
        with client.session_transaction() as flask_session:
            flask_session.update({"_user_id": identity, "_fresh": True, "_id": fingerprint})
            mark_signed_in(flask_session)
        return client


def make_stack(
    tmp_path: Path, alerts: dict[str, Any], **sections: Any
) -> tuple[AlertStack, LocalEnqueuer]:
    settings = make_settings(tmp_path, config={"alerts": alerts, **sections})
    queue = LocalEnqueuer([0], start=False)
    app = create_app(settings, enqueuer=queue)
    app.config["WTF_CSRF_ENABLED"] = False
    return AlertStack(app, settings), queue


@pytest.fixture
def stack(tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver) -> Iterator[AlertStack]:
    built, _queue = make_stack(tmp_path, alerts_config(smtp.port, hook.url))
    yield built
    built.engine.dispose()
