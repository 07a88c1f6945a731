"""The running Haven the flow tests drive: on the embedded default, or on PostgreSQL + Redis
with a real `haven worker` process; Meta is the local stand-in and alerts go to a real local
SMTP server, so every outcome is what a charity's staff would see."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.config import load_settings
from bot.models import Item, OutboundAction, ReplyDraft, utcnow
from tests.helpers import (
    PAGE_ID,
    die_with_parent,
    environ_for_tests,
    page_comment,
    signed_post,
    stop_leftovers,
    stop_process,
    use_production_services,
    write_config,
)
from tests.meta_standin import MetaStandIn, Request
from tests.notify.servers import Mail, SMTPServer
from tests.web.dashboard.support import add_user, sign_in

PSID = "7392015648120555"  # the person's Messenger id: Meta gives it when the private reply goes
POST = "900000000000001"
EMAILS = {
    "safeguarding_lead": "lead@example.org",
    "safeguarding_deputy": "deputy@example.org",
    "moderator": "mods@example.org",
    "admin": "admin@example.org",
}


class FlowMeta(MetaStandIn):
    """Meta's Send API answers a private reply with the person's messaging id."""

    def _route(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.method == "POST" and request.path.endswith("/messages"):
            return 200, {"recipient_id": PSID, "message_id": f"m_sent_{len(self.requests)}"}
        return super()._route(request)

    def hides(self) -> list[str]:
        """The comments Haven asked Meta to hide."""
        return [p.path.rsplit("/", 1)[1] for p in self.posts() if p.body.get("is_hidden") == "true"]

    def private_replies(self, comment_id: str) -> list[Request]:
        return [
            p
            for p in self.posts()
            if p.path.endswith("/messages") and p.body["recipient"] == {"comment_id": comment_id}
        ]


def comment_id(number: int) -> str:
    return f"{POST}_{number}"


def charity_config(tmp_path: Path, smtp_port: int) -> Path:
    """config.yaml as a charity has it after its dry-run week: sending on, alerts by email,
    personal details and harassment hidden, swearing only queued for review."""
    path = write_config(tmp_path, dry_run=False)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["alerts"].update(
        dashboard_url="https://haven.example.org",
        email={
            "enabled": True,
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": "haven@example.org",
            "timeout_seconds": 5,
        },  # fmt: skip
        roles={
            role: {"email": [address], "channels": ["email"]} for role, address in EMAILS.items()
        },
    )
    config["rules"] = {
        "actions": {
            "pii": {"hide": True},
            "abusive.harassment": {"hide": True},
            "abusive.offensive": {"hide": False},
        }
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class FlowStack:
    def __init__(self, mode: str, app: Flask, env: dict[str, str], smtp: SMTPServer) -> None:
        self.mode, self.app, self.env, self.smtp = mode, app, env, smtp
        self._numbers = iter(range(8100, 9000))

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].engine

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].settings.config

    def wait_for(self, predicate: Callable[[Session], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(self.engine) as session:
                if found := predicate(session):
                    return found
            time.sleep(0.05)
        raise AssertionError(f"timed out on the {self.mode} stack")

    def rows(self, model: type, *where: Any) -> list[Any]:
        with Session(self.engine) as session:
            return list(session.exec(select(model).where(*where)).all())

    def comment(self, text: str, *, author: str, name: str = "Jo Visitor") -> Item:
        """A Page comment through the signed webhook, once the worker has judged it."""
        number = next(self._numbers)
        payload = page_comment(
            text, comment=str(number), author=author, created_time=int(utcnow().timestamp())
        )
        payload["entry"][0]["changes"][0]["value"]["from"]["name"] = name
        assert signed_post(self.app.test_client(), payload).status_code == 200
        return self._judged(comment_id(number))

    def message(self, text: str, *, sender: str = PSID) -> Item:
        """A Messenger message to the Page, once judged."""
        number = next(self._numbers)
        at_ms = int(time.time() * 1000)
        event = {"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": at_ms,
                 "message": {"mid": f"m_flow_{number}", "text": text}}  # fmt: skip
        payload = {
            "object": "page",
            "entry": [{"id": PAGE_ID, "time": at_ms, "messaging": [event]}],
        }
        assert signed_post(self.app.test_client(), payload).status_code == 200
        return self._judged(f"m_flow_{number}")

    def _judged(self, external_id: str) -> Item:
        return self.wait_for(
            lambda s: s.exec(
                select(Item).where(Item.external_id == external_id, Item.status == "processed")
            ).first()
        )

    def drafts(self, item: Item) -> dict[str, ReplyDraft]:
        return {d.kind: d for d in self.rows(ReplyDraft, ReplyDraft.item_id == item.id)}

    def staff(self, name: str, role: str) -> FlaskClient:
        """A member of staff signed in to the dashboard (with their second factor)."""
        client = self.app.test_client()
        sign_in(client, self.app, name, add_user(self.app, name, role))
        return client

    def approve(self, client: FlaskClient, draft: ReplyDraft) -> ReplyDraft:
        """Approve a draft as written, from the dashboard; returns it once sent to Meta."""
        response = client.post(f"/drafts/{draft.id}/approve", data={"text": draft.text})
        assert response.status_code == 302
        return self.wait_for(
            lambda s: s.exec(
                select(ReplyDraft).where(ReplyDraft.id == draft.id, ReplyDraft.status == "sent")
            ).first()
        )

    def actions(self, item: Item) -> list[OutboundAction]:
        return self.rows(OutboundAction, OutboundAction.item_id == item.id)

    def mails_to(self, role: str, subject_has: str, timeout: float = 20) -> list[Mail]:
        """The alert emails a role has received whose subject mentions this (a case)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [
                m
                for m in self.smtp.mails
                if EMAILS[role] in m.rcpt_tos and subject_has in m.subject
            ]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no alert email to {role} about {subject_has!r}")


@contextmanager
def running_stack(
    mode: str,
    tmp_path: Path,
    meta: FlowMeta,
    smtp: SMTPServer,
    services: Callable[[], tuple[str, str]],
    secrets_in_log: tuple[str, ...] = (),
) -> Iterator[FlowStack]:
    """The app on either stack; `services` gives the PostgreSQL and Redis URLs (production)."""
    env = environ_for_tests(
        tmp_path, HAVEN_CONFIG=str(charity_config(tmp_path, smtp.port)), META_GRAPH_URL=meta.url
    )
    if mode == "production":
        use_production_services(env, *services())
    app = create_app(load_settings(None, env))
    app.config["WTF_CSRF_ENABLED"] = False
    worker = None
    if mode == "production":
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    try:
        yield FlowStack(mode, app, env, smtp)
    finally:
        if worker is not None:
            output = stop_process(worker) or b""
            # What people wrote never reaches the worker's log.
            leaked = [text for text in secrets_in_log if text.encode() in output]
            assert not leaked, f"message text in the worker's log: {leaked}"
        stop_leftovers(env["HAVEN_CONFIG"])
        if mode == "embedded":
            app.extensions["haven"].enqueuer.stop()
        app.extensions["haven"].engine.dispose()
