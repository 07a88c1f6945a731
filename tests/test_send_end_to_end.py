"""Webhook in, draft, a person approves, and a local stand-in for Meta receives exactly the
expected calls: on the embedded default and on PostgreSQL + Redis + real rq worker processes,
including a worker killed with SIGKILL in the middle of a send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
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
from bot.models import OutboundAction, ReplyDraft, utcnow
from tests.helpers import (
    die_with_parent,
    environ_for_tests,
    page_comment,
    signed_post,
    stop_leftovers,
    stop_process,
    use_production_services,
    write_config,
)
from tests.meta_standin import MetaStandIn
from workers.timers import sweep_actions

COMMENT = "900000000000001_7001"
HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
REPLY = "Thank you for reaching out. We've sent you a private message."


@pytest.fixture
def meta() -> Iterator[MetaStandIn]:
    stand_in = MetaStandIn().start()
    yield stand_in
    stand_in.stop()


class Stack:
    def __init__(self, app: Flask, env: dict[str, str]) -> None:
        self.app, self.env = app, env
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["haven"].engine

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self.workers.append(worker)
        return worker

    def wait_for(self, predicate: Callable[[Session], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(self.engine) as session:
                if found := predicate(session):
                    return found
            time.sleep(0.05)
        raise AssertionError("timed out")


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest, tmp_path: Path, meta: MetaStandIn) -> Iterator[Stack]:
    env = environ_for_tests(
        tmp_path, HAVEN_CONFIG=str(write_config(tmp_path, dry_run=False)), META_GRAPH_URL=meta.url
    )
    if request.param == "production":
        use_production_services(
            env,
            request.getfixturevalue("migrated_postgres_url"),
            request.getfixturevalue("redis_url"),
        )
    app = create_app(load_settings(None, env))
    app.config["WTF_CSRF_ENABLED"] = False
    running = Stack(app, env)
    if request.param == "production":
        running.start_worker()
    yield running
    for worker in running.workers:
        stop_process(worker)
    stop_leftovers(env["HAVEN_CONFIG"])
    if request.param == "embedded":
        app.extensions["haven"].enqueuer.stop()
    app.extensions["haven"].engine.dispose()


def _approve_public_reply(stack: Stack) -> int:
    client = stack.app.test_client()
    now = int(utcnow().timestamp())
    assert signed_post(client, page_comment(HELP, created_time=now)).status_code == 200
    draft = stack.wait_for(
        lambda s: s.exec(select(ReplyDraft).where(ReplyDraft.kind == "public")).first()
    )
    with session_scope(stack.engine) as session:
        user = create_user(session, "admin", "a-long-enough-password", "admin")
        key = enrol(session, user, actor="test")  # admins sign in with a second factor
    client.post("/login", data={"username": "admin", "password": "a-long-enough-password"})
    client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    response = client.post(f"/drafts/{draft.id}/approve", data={"text": REPLY})
    assert response.status_code == 302
    return draft.id


def test_an_approved_reply_reaches_meta_exactly_once(stack: Stack, meta: MetaStandIn) -> None:
    draft_id = _approve_public_reply(stack)
    sent = (ReplyDraft.id == draft_id, ReplyDraft.status == "sent")
    stack.wait_for(lambda s: s.exec(select(ReplyDraft).where(*sent)).first())
    posts = meta.posts()
    assert [(p.path, p.body) for p in posts] == [(f"/v24.0/{COMMENT}/comments", {"message": REPLY})]
    assert posts[0].query["appsecret_proof"] and posts[0].query["access_token"]


@pytest.mark.parametrize("stack", ["production"], indirect=True)
def test_a_worker_killed_mid_send_does_not_post_twice(stack: Stack, meta: MetaStandIn) -> None:
    meta.delay_seconds = 30  # Meta has the reply and is slow to answer: the worker waits
    _approve_public_reply(stack)
    deadline = time.monotonic() + 30
    while not meta.posts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(meta.posts()) == 1
    stack.workers[0].send_signal(signal.SIGKILL)
    stack.workers[0].wait(timeout=10)
    with session_scope(stack.engine) as session:
        action = session.exec(select(OutboundAction)).one()
        assert action.status == "sending"  # the record written before the call
        # Stand in for the two minutes after which a 'sending' row is known to be orphaned.
        action.started_at = utcnow() - timedelta(minutes=5)
        session.add(action)
    meta.delay_seconds = 0
    stack.start_worker()
    assert sweep_actions(stack.engine, stack.app.extensions["haven"].enqueuer) == 1
    done = stack.wait_for(
        lambda s: s.exec(select(OutboundAction).where(OutboundAction.status == "done")).first()
    )
    assert len(meta.posts()) == 1  # found under the comment, so not posted again
    assert done.external_id == meta.replies[COMMENT][0]["id"]
