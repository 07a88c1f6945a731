"""The private conversation on the embedded stack: dry-run link, answers, doubt, the override
and the community boundary."""

from __future__ import annotations

import json

from flask import Flask
from sqlmodel import Session, select

from bot.cases.consent import BOUNDARY_NOTE, OVERRIDE_REASON, consent_given
from bot.demo.events import JO, demo_consent_reply
from bot.models import AuditEntry, Case, Finding, Item
from bot.models.consent import CaseContact, ConsentRecord
from bot.models.dashboard import CaseEvent
from rules.consent import read_consent
from tests.cases.support import asked_case, send_draft
from tests.web.dashboard.support import RISK, case_of, comment, message
from workers.consent import UNCLEAR_CATEGORY

BOUNDARY = "Can I take ibuprofen with sertraline?"


def _records(app: Flask, case_id: int) -> list[ConsentRecord]:
    with Session(app.extensions["haven"].engine) as db:
        rows = db.exec(select(ConsentRecord).where(ConsentRecord.case_id == case_id))
        return list(rows.all())


def test_in_a_dry_run_the_commenter_id_links_their_messages_to_the_case(app: Flask) -> None:
    case = asked_case(app)
    assert (case.status, case.consent) == ("awaiting_consent", "asked")
    with Session(app.extensions["haven"].engine) as db:
        contact = db.exec(select(CaseContact).where(CaseContact.case_id == case.id)).one()
        assert not consent_given(db, case.id)  # type: ignore[arg-type]
    assert (contact.messaging_id, contact.dry_run) == ("6000000000000042", True)
    answer = message(app, app.test_client(), "yeah ok", sender="6000000000000042")
    assert answer.case_id == case.id
    with Session(app.extensions["haven"].engine) as db:
        fresh = db.get(Case, case.id)
        assert consent_given(db, case.id)  # type: ignore[arg-type]
    assert fresh is not None and fresh.consent == "given"
    given = [r for r in _records(app, case.id) if r.state == "given"]  # type: ignore[arg-type]
    assert [(r.message_id, r.item_id) for r in given] == [(answer.external_id, answer.id)]


def test_the_demo_answer_comes_from_the_id_the_dry_run_links() -> None:
    delivery = demo_consent_reply(1785320000)
    event = delivery["entry"][0]["messaging"][0]
    assert event["sender"]["id"] == JO[0]
    assert read_consent(event["message"]["text"]).intent == "given"


def test_an_unclear_answer_goes_to_the_queue_and_changes_nothing(app: Flask) -> None:
    case = asked_case(app)
    answer = message(
        app, app.test_client(), "not sure, what would that involve", sender="6000000000000042"
    )
    with Session(app.extensions["haven"].engine) as db:
        fresh = db.get(Case, case.id)
        findings = db.exec(select(Finding).where(Finding.item_id == answer.id)).all()
    assert fresh is not None and fresh.consent == "asked"
    assert [f.category for f in findings] == [UNCLEAR_CATEGORY]
    assert [r.state for r in _records(app, case.id)] == ["asked", "unclear"]  # type: ignore[arg-type]


def test_after_consent_only_a_clear_withdrawal_counts(app: Flask) -> None:
    case = asked_case(app)
    client = app.test_client()
    message(app, client, "yes please", sender="6000000000000042")
    message(app, client, "no, I don't have any other children", sender="6000000000000042")
    with Session(app.extensions["haven"].engine) as db:
        assert db.get(Case, case.id).consent == "given"  # type: ignore[union-attr]
    message(app, client, "I've changed my mind, please stop", sender="6000000000000042")
    with Session(app.extensions["haven"].engine) as db:
        assert db.get(Case, case.id).consent == "withdrawn"  # type: ignore[union-attr]
        actions = db.exec(
            select(AuditEntry.action).where(AuditEntry.subject_id == str(case.id))
        ).all()
    assert "consent.withdrawn" in actions and "follow_up.ended" in actions


def test_a_message_before_anything_was_asked_is_not_an_answer(app: Flask) -> None:
    item = message(app, app.test_client(), "yes", sender="7392015648120001")
    assert item.case_id is None
    with Session(app.extensions["haven"].engine) as db:
        assert db.exec(select(ConsentRecord)).all() == []


def test_risk_escalates_without_consent_and_says_why_once(app: Flask) -> None:
    client = app.test_client()
    first = comment(app, client, RISK, author="6000000000000077")
    comment(app, client, RISK + " tonight", author="6000000000000077")
    case = case_of(app, first)
    assert (case.case_type, case.status, case.consent) == ("safeguarding", "escalated", "not_asked")
    overrides = [r for r in _records(app, case.id) if r.state == "safeguarding_override"]  # type: ignore[arg-type]
    assert [r.reason for r in overrides] == [OVERRIDE_REASON]
    with Session(app.extensions["haven"].engine) as db:
        notes = db.exec(select(CaseEvent.text).where(CaseEvent.case_id == case.id)).all()
    assert notes.count(OVERRIDE_REASON) == 1


def test_the_boundary_reply_is_recorded_on_the_case_once(app: Flask) -> None:
    item = comment(app, app.test_client(), BOUNDARY, author="6000000000000046")
    case = case_of(app, item)
    assert case.case_type == "boundary"
    send_draft(app, item, "private")
    send_draft(app, item, "public")
    with Session(app.extensions["haven"].engine) as db:
        notes = db.exec(select(CaseEvent.text).where(CaseEvent.case_id == case.id)).all()
        fresh = db.get(Case, case.id)
        linked = db.exec(select(Item).where(Item.case_id == case.id)).all()
    assert notes.count(BOUNDARY_NOTE) == 1
    # Pointing someone to professionals asks for no consent: the case does not wait for one.
    assert fresh is not None and fresh.consent == "not_asked" and len(linked) == 1


def test_the_demo_step_waits_for_the_approved_reply_then_jo_says_yes(app: Flask) -> None:
    from bot.demo.consent import play_consent_step
    from bot.demo.events import DEMO_PAGE_ID, JO_COMMENT
    from tests.helpers import PAGE_ID, signed_post
    from tests.web.dashboard.support import HELP

    client = app.test_client()
    settings = app.extensions["haven"].settings

    def post(delivery: dict) -> int:  # type: ignore[type-arg]
        # The demo's page is not this test's page: the same answer, to the test page.
        text = json.dumps(delivery).replace(DEMO_PAGE_ID, PAGE_ID)
        return signed_post(client, json.loads(text)).status_code

    # Nothing approved yet: the step waits, and gives up only at its deadline.
    assert play_consent_step(settings, post, timeout=0.2, every=0.05) is None
    item = comment(app, client, HELP, author=JO[0])
    assert item.external_id != JO_COMMENT  # the demo's own comment id is not needed here
    with Session(app.extensions["haven"].engine) as db:
        fresh = db.get(Item, item.id)
        fresh.external_id = JO_COMMENT  # type: ignore[union-attr]
        db.add(fresh)
        db.commit()
    send_draft(app, item)
    assert play_consent_step(settings, post, timeout=10, every=0.05) == "given"
