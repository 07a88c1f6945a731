"""Through the real path: a signed comment, the worker, the findings table and the dashboard,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlmodel import Session, select

from bot.app import create_app
from bot.db import session_scope
from bot.models import Case, Finding
from bot.tasks import LocalEnqueuer
from bot.web.auth.login import create_user
from bot.web.auth.totp import enrol
from tests.helpers import make_settings, page_comment, signed_post

pytestmark = pytest.mark.usefixtures("embedder")  # skips with the reason when not installed
# No word list catches this; the learned stage does.
GIVING_AWAY = "Been giving my stuff away, won't need it where I'm going"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    env = {}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
    # The words that weighed most, weighed while judging, are part of what this checks.
    settings = make_settings(
        tmp_path, config={"rules": {"semantic": {"explain_words": True}}}, **env
    )
    queue = LocalEnqueuer([0, 0, 0])
    flask_app = create_app(settings, enqueuer=queue, migrate=True)
    flask_app.config["WTF_CSRF_ENABLED"] = False
    yield flask_app
    queue.stop()
    flask_app.extensions["haven"].engine.dispose()


def test_the_explanation_is_stored_and_shown_to_the_lead(app: Flask) -> None:
    client = app.test_client()
    assert signed_post(client, page_comment(GIVING_AWAY)).status_code == 200
    context = app.extensions["haven"]
    assert context.enqueuer.wait_idle()
    with Session(context.engine) as session:
        findings = session.exec(select(Finding)).all()
        case = session.exec(select(Case)).one()
    semantic = [f for f in findings if f.rule == "semantic-risk-suicide"]
    assert len(semantic) == 1, [f.rule for f in findings]
    why = semantic[0].explanation
    assert why["method"] == "classifier" and why["mode"] == "raise"
    assert why["score"] >= why["threshold"] and why["nearest"] and why["words"]
    assert case.case_type == "safeguarding" and case.status == "escalated"
    assert all(f.explanation is None for f in findings if not f.rule.startswith("semantic-"))

    with session_scope(context.engine) as session:
        lead = create_user(session, "lead", "a-long-enough-password", "safeguarding_lead")
        key = enrol(session, lead, actor="test")
    client.post("/login", data={"username": "lead", "password": "a-long-enough-password"})
    client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "semantic-risk-suicide" in page
    assert "reads like" in page and f"confidence {why['score']:.0%}" in page


def test_by_default_the_worker_leaves_the_words_for_why(tmp_path: Path) -> None:
    """Weighing the words is most of a message's cost (issue 20): the worker stores the rest
    of the judgement, and staff ask for the words from "why?" (tests/web/dashboard/
    test_why_words.py)."""
    queue = LocalEnqueuer([0, 0, 0])
    app = create_app(make_settings(tmp_path), enqueuer=queue, migrate=True)
    try:
        assert signed_post(app.test_client(), page_comment(GIVING_AWAY)).status_code == 200
        assert queue.wait_idle()
        with Session(app.extensions["haven"].engine) as session:
            finding = session.exec(
                select(Finding).where(Finding.rule == "semantic-risk-suicide")
            ).one()
    finally:
        queue.stop()
        app.extensions["haven"].engine.dispose()
    why = finding.explanation
    assert why["words"] == [] and why["nearest"] and why["score"] >= why["threshold"]
    assert why["reason"].startswith("it reads like “")


def test_the_stage_keeps_blas_to_one_thread_per_process(tmp_path: Path) -> None:
    """The heads' small products on many BLAS threads cost a shared 2-core machine some 30
    times the CPU (issue 20): a process that judges with the stage uses one."""
    from threadpoolctl import threadpool_info

    from bot.semantic import detection_ruleset

    detection_ruleset.cache_clear()  # type: ignore[attr-defined]
    ruleset = detection_ruleset(make_settings(tmp_path).config.rules)
    assert getattr(ruleset, "stage", None) is not None
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
