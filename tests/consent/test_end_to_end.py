"""Comment -> private reply asking consent (to a stand-in for Meta) -> "yes" in Messenger ->
consent given on the case; then "stop" withdraws it. On the embedded default and on
PostgreSQL + Redis + a real rq worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlmodel import Session, select

from bot.app import create_app
from bot.auth import create_user
from bot.auth_totp import enrol
from bot.config import load_settings
from bot.db import session_scope
from bot.models import Case, ReplyDraft, utcnow
from bot.models_consent import CaseContact, CaseFollowUp, ConsentRecord
from rules.consent import CONSENT_YES
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

HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
PSID = "7392015648120999"  # the person's Messenger id: not the id they commented with
COMMENTER = "6000000000000042"


class ConsentMeta(MetaStandIn):
    """Meta's Send API answers a private reply with the person's messaging id."""

    def _route(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.method == "POST" and request.path.endswith("/messages"):
            return 200, {"recipient_id": PSID, "message_id": f"m_sent_{len(self.requests)}"}
        return super()._route(request)


def dm(text: str, mid: str, *, payload: str | None = None) -> dict[str, Any]:
    at_ms = int(time.time() * 1000)
    message: dict[str, Any] = {"mid": mid, "text": text}
    if payload:
        message["quick_reply"] = {"payload": payload}
    event = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": at_ms,
             "message": message}  # fmt: skip
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": at_ms, "messaging": [event]}]}


class Stack:
    def __init__(self, app: Flask) -> None:
        self.app = app

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].engine

    def wait_for(self, predicate: Callable[[Session], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(self.engine) as session:
                if found := predicate(session):
                    return found
            time.sleep(0.05)
        raise AssertionError("timed out")


@pytest.fixture
def meta() -> Iterator[ConsentMeta]:
    stand_in = ConsentMeta().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest, tmp_path: Path, meta: ConsentMeta) -> Iterator[Stack]:
    env = environ_for_tests(
        tmp_path, HAVEN_CONFIG=str(write_config(tmp_path, dry_run=False)), META_GRAPH_URL=meta.url
    )
    worker = None
    if request.param == "production":
        use_production_services(
            env,
            request.getfixturevalue("migrated_postgres_url"),
            request.getfixturevalue("redis_url"),
        )
    app = create_app(load_settings(None, env))
    app.config["WTF_CSRF_ENABLED"] = False
    if request.param == "production":
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    yield Stack(app)
    if worker is not None:
        output = stop_process(worker) or b""
        # Neither the comment nor the answer reaches the worker's log.
        assert b"failing" not in output and b"Yes please" not in output
    stop_leftovers(env["HAVEN_CONFIG"])
    if request.param == "embedded":
        app.extensions["haven"].enqueuer.stop()
    app.extensions["haven"].engine.dispose()


def _ask_for_consent(stack: Stack, meta: ConsentMeta) -> int:
    client = stack.app.test_client()
    comment = page_comment(HELP, author=COMMENTER, created_time=int(utcnow().timestamp()))
    assert signed_post(client, comment).status_code == 200
    draft = stack.wait_for(
        lambda s: s.exec(select(ReplyDraft).where(ReplyDraft.kind == "private")).first()
    )
    assert draft.template == "help_request"
    with session_scope(stack.engine) as session:
        user = create_user(session, "admin", "a-long-enough-password", "admin")
        key = enrol(session, user, actor="test")
    client.post("/login", data={"username": "admin", "password": "a-long-enough-password"})
    client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert client.post(f"/drafts/{draft.id}/approve", data={"text": draft.text}).status_code == 302
    case = stack.wait_for(
        lambda s: s.exec(
            select(Case).where(Case.id == draft.case_id, Case.consent == "asked")
        ).first()
    )
    [sent] = [p for p in meta.posts() if p.path.endswith("/messages")]
    assert sent.body["recipient"] == {"comment_id": "900000000000001_7001"}
    payloads = [q["payload"] for q in sent.body["message"]["quick_replies"]]
    assert CONSENT_YES in payloads
    with Session(stack.engine) as session:
        fresh = session.get(Case, case.id)
        contact = session.exec(select(CaseContact).where(CaseContact.case_id == case.id)).one()
    assert fresh.status == "awaiting_consent"
    assert (contact.messaging_id, contact.dry_run) == (PSID, False)
    return case.id


def test_a_written_yes_in_messenger_gives_consent_and_stop_withdraws_it(
    stack: Stack, meta: ConsentMeta
) -> None:
    case_id = _ask_for_consent(stack, meta)
    client = stack.app.test_client()
    assert signed_post(client, dm("Yes please, that would help", "m_yes_1")).status_code == 200
    given = stack.wait_for(
        lambda s: s.exec(select(Case).where(Case.id == case_id, Case.consent == "given")).first()
    )
    assert given.consent_at is not None
    with Session(stack.engine) as session:
        records = session.exec(
            select(ConsentRecord).where(ConsentRecord.case_id == case_id).order_by(ConsentRecord.id)
        ).all()
        follow_up = session.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case_id)).one()
        cases = session.exec(select(Case)).all()
    assert [(r.state, r.source) for r in records] == [("asked", "private_reply"), ("given", "text")]
    assert records[1].message_id == "m_yes_1"
    assert follow_up.due_at is not None and follow_up.ended_at is None
    assert len(cases) == 1  # the DM joined the comment's case; no second case

    assert (
        signed_post(
            client, dm("Stop messages", "m_stop_1", payload="HAVEN_CONSENT_STOP")
        ).status_code
        == 200
    )
    stack.wait_for(
        lambda s: s.exec(
            select(Case).where(Case.id == case_id, Case.consent == "withdrawn")
        ).first()
    )
    with Session(stack.engine) as session:
        last = session.exec(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case_id)
            .order_by(ConsentRecord.id.desc())
        ).first()
        follow_up = session.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case_id)).one()
    assert (last.state, last.source, last.message_id) == ("withdrawn", "button", "m_stop_1")
    assert follow_up.ended_at is not None  # nobody checks in with someone who said stop
