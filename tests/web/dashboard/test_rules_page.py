"""The rules page: the learned stage's checks beside the rules, and trying a message on it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import AuditEntry, Finding, Item
from bot.tasks import LocalEnqueuer
from rules.semantic.catalogue import LOOKS_FOR, model_checks
from tests.helpers import IG_ID, PAGE_ID, make_settings
from tests.web.dashboard.support import HELP, RISK, add_user, sign_in

LEGAL = (
    "Do I need a solicitor for the EHCP tribunal? I could really do with some help and "
    "someone to talk to"
)


def _try(client: FlaskClient, text: str, **extra: str) -> tuple[int, str]:
    response = client.post("/rules/try", data={"text": text, **extra})
    return response.status_code, response.get_data(as_text=True)


def _counts(app: Flask) -> tuple[int, int, int]:
    with Session(app.extensions["haven"].engine) as db:
        return tuple(  # type: ignore[return-value]
            db.exec(select(func.count()).select_from(table)).one()
            for table in (Item, Finding, AuditEntry)
        )


def test_the_rules_page_lists_the_learned_checks_with_their_settings_behind_why(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    page = as_role("moderator").get("/rules").get_data(as_text=True)
    checks = model_checks(app.extensions["haven"].ruleset)
    assert checks, "the semantic extra is installed in tests: the stage runs"
    assert "It is on (" in page
    for check in checks:
        assert check.looks_for and check.looks_for.replace("'", "&#39;") in page
        assert f"<code>{check.category}</code>, rule <code>{check.rule}</code>" in page
        assert f"{check.threshold:.2f} or more" in page
    # Risk is decided by the stage on its own; abuse only strengthens what a rule found.
    assert "may flag a message on its own" in page and "only adds its confidence" in page
    assert set(LOOKS_FOR) >= {c.category for c in checks}


def test_trying_a_message_shows_findings_why_and_the_draft_and_keeps_nothing(
    app: Flask, as_role: Callable[[str], FlaskClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("moderator")
    before = _counts(app)
    with caplog.at_level(logging.DEBUG):
        status, page = _try(client, RISK, platform="facebook", kind="comment")
    assert status == 200
    assert "Haven would find" in page and "sev-critical" in page
    assert "the safeguarding lead is told at once" in page and "a case is opened" in page
    # Risk is reached in private only: the private draft with crisis lines, no public one.
    assert "In private, to the person who wrote it" in page and "Samaritans" in page
    assert "In public, under the comment" not in page
    assert "<summary>why?</summary>" in page and "risk." in page.split("<summary>why?")[1]
    assert _counts(app) == before  # no item, finding or audit entry
    assert not any("better off without me" in r.getMessage() for r in caplog.records)

    # Policy 000 §6: a legal question, even one that asks for help, gets the boundary reply.
    status, legal = _try(client, LEGAL, platform="facebook", kind="dm")
    assert status == 200 and "In the conversation" in legal
    assert "not able to give legal or medical" in legal and "It takes courage" not in legal

    status, clean = _try(client, "What time does the coffee morning start?")
    assert status == 200 and "Nothing found" in clean
    assert _counts(app) == before


def test_a_tried_message_names_the_words_that_weighed_most_at_once(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    # The worker leaves them to "why?" (explain_words is off by default); whoever tries a
    # message is waiting for the answer anyway, and there is no stored finding to ask about.
    assert app.extensions["haven"].settings.config.rules.semantic.explain_words is False
    status, page = _try(as_role("moderator"), HELP)
    assert status == 200
    assert "The words “" in page and "weighed most" in page  # e.g. “talk”, “to”, “hard”
    assert "Which words weighed most?" not in page


def test_a_tried_page_post_is_judged_as_the_page_own_post_and_never_answered(
    as_role: Callable[[str], FlaskClient],
) -> None:
    status, page = _try(
        as_role("moderator"),
        "Lovely to visit Sarah and Tom Jones and their twins",
        platform="facebook",
        kind="post",
        own_post="y",
    )
    assert status == 200 and "<mark>Sarah and Tom Jones</mark>" in page and "sev-high" in page
    assert "The reply it would draft" not in page and "No reply would be drafted" in page


def test_a_tried_message_is_bounded_and_needs_a_token(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("moderator")
    status, page = _try(client, "x" * 5001)
    assert status == 400 and "longer than 5000 characters" in page
    status, page = _try(client, "")
    assert status == 400 and "This field is required" in page
    # Unknown choices fall back to a public Facebook comment rather than failing.
    status, page = _try(client, "hello", platform="myspace", kind="fax")
    assert status == 200
    assert app.test_client().post("/rules/try", data={"text": "hi"}).status_code == 302  # sign in
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/rules/try", data={"text": "hello"}).status_code == 400


def test_a_message_tried_for_a_page_is_answered_in_that_page_s_voice(
    tmp_path: Path, enqueuer: LocalEnqueuer
) -> None:
    twinline = "You can also call Twinline, free, on 0800 138 0509."
    voices = {"fcs": {"accounts": [PAGE_ID], "name": "Twins Trust FCS", "referral": twinline}}
    app = create_app(make_settings(tmp_path, config={"voices": voices}), enqueuer=enqueuer,
                     migrate=True)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    staff = app.test_client()
    sign_in(staff, app, "mod", add_user(app, "mod", "moderator"))
    chooser = staff.get("/rules").get_data(as_text=True)
    assert f'<option value="{PAGE_ID}"' in chooser and f'<option value="{IG_ID}"' in chooser
    status, fcs = _try(staff, HELP, page=PAGE_ID, kind="dm")
    assert status == 200 and "Twins Trust FCS" in fcs and "0800 138 0509" in fcs
    status, other = _try(staff, HELP, page=IG_ID, kind="dm")
    organisation = app.extensions["haven"].settings.config.organisation.page_name
    assert status == 200 and organisation in other and "Twinline" not in other
    app.extensions["haven"].engine.dispose()
