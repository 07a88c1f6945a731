"""The walking skeleton, twice: a signed Page comment becomes a finding, a case and a draft
on the dashboard, on the embedded default and on PostgreSQL + Redis + a real rq worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from bot.app import create_app
from bot.auth import create_user
from bot.config import Settings, load_settings
from bot.db import session_scope
from bot.models import Case, Finding, Item, ReplyDraft
from tests.helpers import (
    die_with_parent,
    environ_for_tests,
    page_comment,
    signed_post,
    stop_process,
    use_production_services,
    write_config,
)

HELP_REQUEST = (
    "Does anyone else feel like they're failing? I really need someone to talk to, "
    "it's been so hard since our little one came home."
)


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, Settings]]:
    """The same app on either stack; the production one has a real `haven worker` process."""
    env = environ_for_tests(tmp_path, HAVEN_CONFIG=str(write_config(tmp_path)))
    worker = None
    if request.param == "production":
        use_production_services(
            env,
            request.getfixturevalue("migrated_postgres_url"),
            request.getfixturevalue("redis_url"),
        )
    settings = load_settings(None, env)
    app = create_app(settings)
    if request.param == "production":
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    app.config["WTF_CSRF_ENABLED"] = False
    yield app, settings
    if worker is not None:
        output = stop_process(worker) or b""
        # Message text must never reach the worker's log at INFO.
        assert HELP_REQUEST[:30].encode() not in output
    else:
        app.extensions["haven"].enqueuer.stop()
    app.extensions["haven"].engine.dispose()


def _wait_for(app: Flask, predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    engine = app.extensions["haven"].engine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            found = predicate(session)
            if found:
                return found
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def test_signed_comment_reaches_the_dashboard(stack: tuple[Flask, Settings]) -> None:
    app, settings = stack
    client = app.test_client()

    response = signed_post(client, page_comment(HELP_REQUEST))
    assert response.status_code == 200
    assert response.get_json()["stored"] == 1

    engine = app.extensions["haven"].engine
    item = _wait_for(
        app,
        lambda s: s.exec(select(Item).where(Item.status == "processed")).first(),
    )
    with Session(engine) as session:
        findings = session.exec(select(Finding).where(Finding.item_id == item.id)).all()
        drafts = session.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).all()
        case = session.get(Case, item.case_id)
    assert any(f.category.startswith("help_request.") for f in findings)
    assert case is not None and case.case_type == "support"
    assert {d.kind for d in drafts} >= {"private"}
    # A public reply never repeats what the person wrote.
    for draft in drafts:
        assert "failing" not in draft.text and "little one" not in draft.text

    with session_scope(engine) as session:
        create_user(session, "mod", "a-long-enough-password", "moderator")
    assert client.get("/").status_code == 302  # the dashboard is behind a login
    login = client.post("/login", data={"username": "mod", "password": "a-long-enough-password"})
    assert login.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "<mark>" in page and "help_request." in page
    assert f"case #{case.id}" in page

    listed = subprocess.run(
        [sys.executable, "-m", "bot", "items", "--json"],
        env={
            **os.environ,
            "HAVEN_CONFIG": str(settings.config_path),
            "DATABASE_URL": settings.database_url,
            "HAVEN_INSTANCE_PATH": settings.instance_path,
            "HAVEN_DATA_KEYS": settings.data_keys[0].get_secret_value(),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1
    assert rows[0]["channel"] == "fb_comment" and rows[0]["case_id"] == case.id
    assert rows[0]["external_id"] == "900000000000001_7001"
    assert any(c.startswith("help_request.") for c in rows[0]["categories"])


def test_a_duplicate_delivery_makes_no_second_item(stack: tuple[Flask, Settings]) -> None:
    app, settings = stack
    client = app.test_client()
    payload = page_comment(HELP_REQUEST)
    assert signed_post(client, payload).get_json()["stored"] == 1
    assert signed_post(client, payload).get_json()["stored"] == 0
    _wait_for(app, lambda s: s.exec(select(Item).where(Item.status == "processed")).first())
    with Session(app.extensions["haven"].engine) as session:
        assert len(session.exec(select(Item)).all()) == 1
        assert len(session.exec(select(Case)).all()) == 1
