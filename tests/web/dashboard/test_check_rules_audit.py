"""Check a post before publishing; the rules page; the audit log; limits shared with workers."""

from __future__ import annotations

import html
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.models import AuditEntry, Item
from tests.web.dashboard.support import HELP, RISK, comment


def _check(client: FlaskClient, text: str, **extra: str) -> str:
    return html.unescape(client.post("/check", data={"text": text, **extra}).get_data(as_text=True))


def test_a_draft_post_shows_the_personal_details_and_photo_findings_it_would_raise(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    client = as_role("moderator")
    with Session(app.extensions["haven"].engine) as db:
        before = db.exec(select(func.count()).select_from(AuditEntry)).one()
    page = _check(client, "Well done Jake at Oakfield Primary School! Call 07700 900123")
    assert "Haven would flag this post" in page
    # In a volunteer's words, one line per concern; the codes only inside "why?".
    assert "Gives a phone number" in page and "Names a child's school" in page
    assert page.count("Gives a phone number") == 1
    assert page.index("pii.phone") > page.index("<summary>why?</summary>")
    assert "<mark>07700 900123</mark>" in page
    photo = _check(client, "First day at school for our little one!", photo="y")
    assert "A photo of a child" in photo
    assert "photo." not in _check(client, "First day at school for our little one!")
    clean = _check(client, "Our coffee morning is on Tuesday at 10, all welcome.")
    assert "Nothing to flag" in clean
    # Risk words in a page post are not what this page checks (the page's own posts are
    # judged for personal details and photos).
    assert "risk." not in _check(client, RISK)
    with Session(app.extensions["haven"].engine) as db:
        assert db.exec(select(func.count()).select_from(Item)).one() == 0  # nothing stored
        assert db.exec(select(func.count()).select_from(AuditEntry)).one() == before
    assert "longer than 5000 characters" in _check(client, "x" * 5001)


def test_the_rules_page_lists_rules_with_their_hit_counts(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    comment(app, app.test_client(), HELP)
    page = as_role("moderator").get("/rules").get_data(as_text=True)
    ruleset = app.extensions["haven"].ruleset
    assert page.count('<code class="category">') == len(ruleset.rules)
    with Session(app.extensions["haven"].engine) as db:
        hit = db.exec(select(Item)).first()
    assert hit is not None
    filtered = as_role("moderator").get("/rules?pack=help_request").get_data(as_text=True)
    table = filtered.split('id="rules-title"')[1]  # the learned checks are listed above it
    assert "help_request." in table and "risk." not in table
    assert "<td>1</td><td>1</td>" in filtered  # one match, in the last 30 days


def test_the_audit_log_filters_and_keeps_safeguarding_entries_from_admins(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    risky = comment(app, app.test_client(), RISK)
    helped = comment(app, app.test_client(), HELP, author="6000000000000077")
    admin = as_role("admin")
    page = admin.get("/audit?actor=system&action=item.").get_data(as_text=True)
    assert "item.processed" in page and "case.opened" not in page
    # In sentences, the raw key and its detail only inside the closed "details".
    assert "Haven checked a message: asking for" in page
    assert page.index("<code>item.processed</code>") > page.index("<summary>details</summary>")
    # Nothing about the safeguarding case, not even that its item was processed.
    assert f"item {helped.id}<" in page and f"item {risky.id}<" not in page
    assert "risk." not in page
    lead = as_role("safeguarding_lead").get("/audit?action=item.").get_data(as_text=True)
    assert "risk." in lead and f"item {risky.id}<" in lead
    assert "Haven checked a message: possible suicide risk" in lead
    cases = admin.get(f"/audit?subject_type=case&subject_id={helped.case_id}")
    assert "case.opened" in cases.get_data(as_text=True)
    walled = admin.get(f"/audit?subject_type=case&subject_id={risky.case_id}")
    assert "No entries match" in walled.get_data(as_text=True)
    assert "No entries match" in admin.get("/audit?from=2001-01-01&to=2001-01-02").get_data(
        as_text=True
    )
    assert admin.get("/audit?from=not-a-date&action=%25").status_code == 200
    assert as_role("moderator").get("/audit").status_code == 403


def test_meta_limits_and_case_keys_match_the_workers() -> None:
    from bot.web.dashboard import base as dashboard_base
    from workers import send_plans

    assert dashboard_base.PRIVATE_REPLY_WINDOW == send_plans.PRIVATE_REPLY_WINDOW
    assert dashboard_base.MESSAGING_WINDOW == send_plans.MESSAGING_WINDOW
    assert dashboard_base.DM_CHANNELS == send_plans.DM_CHANNELS
    assert dashboard_base.COMMENT_CHANNELS == send_plans.COMMENT_CHANNELS
