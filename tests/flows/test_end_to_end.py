"""The walking skeleton, twice: a signed Page comment becomes a finding, a case and a draft
on the dashboard, on the embedded default and on PostgreSQL + Redis + a real rq worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import Case, Finding, Item, ReplyDraft
from bot.web.auth.login import create_user
from tests.helpers import page_comment, signed_post, write_config
from tests.support.stack import MODES, HavenStack, production_services, running_stack

HELP_REQUEST = (
    "Does anyone else feel like they're failing? I really need someone to talk to, "
    "it's been so hard since our little one came home."
)


@pytest.fixture(params=MODES)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HavenStack]:
    """The same app on either stack; the production one has a real `haven worker` process."""
    with running_stack(
        request.param,
        tmp_path,
        write_config(tmp_path),
        services=production_services(request),
        secrets_in_log=(HELP_REQUEST[:30],),  # message text never reaches a log at INFO
    ) as running:
        yield running


def _processed(stack: HavenStack) -> Item:
    return stack.wait_for(lambda s: s.exec(select(Item).where(Item.status == "processed")).first())


def test_signed_comment_reaches_the_dashboard(stack: HavenStack) -> None:
    app, settings = stack.app, stack.settings
    client = app.test_client()

    response = signed_post(client, page_comment(HELP_REQUEST))
    assert response.status_code == 200
    assert response.get_json()["stored"] == 1

    engine = stack.engine
    item = _processed(stack)
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
    assert "<mark>" in page and "Asking for" in page  # the concern, in words
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


def test_a_duplicate_delivery_makes_no_second_item(stack: HavenStack) -> None:
    client = stack.app.test_client()
    payload = page_comment(HELP_REQUEST)
    assert signed_post(client, payload).get_json()["stored"] == 1
    assert signed_post(client, payload).get_json()["stored"] == 0
    _processed(stack)
    with Session(stack.engine) as session:
        assert len(session.exec(select(Item)).all()) == 1
        assert len(session.exec(select(Case)).all()) == 1
