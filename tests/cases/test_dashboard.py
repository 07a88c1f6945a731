"""The case page's consent panel: state and history shown, consent recorded by staff with a
reason (audited), follow-up snoozed, minimal notes, outcome and close; roles respected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.app import create_app
from bot.models import AuditEntry, Case, utcnow
from bot.models.consent import CaseFollowUp, CaseNote, ConsentRecord
from bot.models.dashboard import CaseEvent
from bot.tasks import LocalEnqueuer
from tests.cases.support import asked_case
from tests.helpers import make_settings
from tests.web.dashboard.support import RISK, add_user, case_of, comment, message, sign_in
from workers.follow_up import remind_due

NOTE = {"initials": "JW", "noted_on": "2026-05-01", "support_type": "peer connection"}


def _db(app: Flask) -> Session:
    return Session(app.extensions["haven"].engine)


def test_the_case_page_shows_consent_history_and_follow_up(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)
    page = as_role("moderator").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="consent-title"' in page and "Asked in private" in page
    assert "asked, no answer yet" in page and "linked: their messages join this case" in page
    assert 'id="follow-up-due">not set' in page


def test_staff_record_consent_given_by_phone_with_a_reason_audited(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)
    mod = as_role("moderator")
    assert mod.post(f"/cases/{case.id}/consent", data={"state": "given"}).status_code == 302
    with _db(app) as db:
        assert db.get(Case, case.id).consent == "asked"  # type: ignore[union-attr]  # no reason: refused
    form = {"state": "given", "reason": "given by phone, 1 May"}
    assert mod.post(f"/cases/{case.id}/consent", data=form).status_code == 302
    with _db(app) as db:
        fresh = db.get(Case, case.id)
        row = db.exec(select(ConsentRecord).where(ConsentRecord.source == "staff")).one()
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "consent.given")).one()
        follow_up = db.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case.id)).one()
    assert fresh is not None and fresh.consent == "given"
    assert (row.reason, row.actor_id is not None) == ("given by phone, 1 May", True)
    assert audit.actor.startswith("user:") and audit.subject_id == str(case.id)
    assert follow_up.due_at is not None
    page = mod.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "given by phone, 1 May" in page and "recorded by staff" in page


def test_a_moderator_cannot_touch_a_safeguarding_case_and_the_lead_can(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = case_of(app, comment(app, app.test_client(), RISK, author="6000000000000077"))
    form = {"state": "given", "reason": "by phone"}
    assert as_role("moderator").post(f"/cases/{case.id}/consent", data=form).status_code == 403
    assert as_role("admin").post(f"/cases/{case.id}/case-notes", data=NOTE).status_code == 403
    assert (
        as_role("safeguarding_lead").post(f"/cases/{case.id}/consent", data=form).status_code == 302
    )
    with _db(app) as db:
        assert db.get(Case, case.id).consent == "given"  # type: ignore[union-attr]
    assert app.test_client().post(f"/cases/{case.id}/consent", data=form).status_code == 302


def test_notes_are_initials_date_and_type_unless_free_text_is_turned_on(
    app: Flask, as_role: Callable[[str], FlaskClient], tmp_path: Path
) -> None:
    case = asked_case(app)
    mod = as_role("moderator")
    mod.post(f"/cases/{case.id}/case-notes", data=NOTE)
    mod.post(f"/cases/{case.id}/case-notes", data=NOTE | {"text": "lives at 12 High St"})
    mod.post(f"/cases/{case.id}/case-notes", data=NOTE | {"initials": "Jo Walker"})
    mod.post(f"/cases/{case.id}/notes", data={"note": "free text"})  # the old form, off
    with _db(app) as db:
        notes = db.exec(select(CaseNote)).all()
        free = [e for e in db.exec(select(CaseEvent)).all() if e.text == "free text"]
    assert [(n.initials, n.support_type, n.text) for n in notes] == [
        ("JW", "peer connection", None)
    ]
    assert free == []
    page = mod.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "JW, 01 May 2026, peer connection" in page and 'name="text"' not in page

    settings = make_settings(tmp_path / "free", config={"cases": {"free_text_notes": True}})
    queue = LocalEnqueuer([0, 0, 0])
    other = create_app(settings, enqueuer=queue)
    other.config["WTF_CSRF_ENABLED"] = False
    add_user(other, "mod", "moderator")
    client = other.test_client()
    sign_in(client, other, "mod")
    other_case = asked_case(other)
    client.post(f"/cases/{other_case.id}/case-notes", data=NOTE | {"text": "called back"})
    with _db(other) as db:
        assert [n.text for n in db.exec(select(CaseNote)).all()] == ["called back"]
    queue.stop()


def test_a_follow_up_can_be_snoozed_and_reminds_again_at_the_new_time(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    engine = app.extensions["haven"].engine
    case = asked_case(app)
    mod = as_role("moderator")
    mod.post(f"/cases/{case.id}/consent", data={"state": "given", "reason": "in person"})
    later = utcnow() + timedelta(days=3, minutes=1)
    assert remind_due(engine, now=later) == [case.id]
    assert mod.post(f"/cases/{case.id}/follow-up", data={"days": "2"}).status_code == 302
    with _db(app) as db:
        fresh = db.get(Case, case.id)
        row = db.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case.id)).one()
    assert fresh is not None and fresh.status == "awaiting_consent"  # waiting again
    assert row.reminded_at is None and row.reason == "snoozed"
    assert remind_due(engine, now=utcnow() + timedelta(days=1)) == []
    assert remind_due(engine, now=utcnow() + timedelta(days=2, minutes=1)) == [case.id]
    assert mod.post(f"/cases/{case.id}/follow-up", data={"days": "400"}).status_code == 302
    mod.post(f"/cases/{case.id}/follow-up", data={"end": "1"})
    with _db(app) as db:
        assert db.exec(select(CaseFollowUp)).one().ended_at is not None


def test_closing_records_the_outcome_and_reason_and_ends_the_follow_up(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)
    mod = as_role("moderator")
    mod.post(f"/cases/{case.id}/consent", data={"state": "given", "reason": "in person"})
    mod.post(f"/cases/{case.id}/close", data={"outcome": "made up", "reason": "done"})
    with _db(app) as db:
        assert db.get(Case, case.id).status != "closed"  # type: ignore[union-attr]
    form = {"outcome": "matched with support", "reason": "JW says the group helps"}
    assert mod.post(f"/cases/{case.id}/close", data=form).status_code == 302
    with _db(app) as db:
        fresh = db.get(Case, case.id)
        event = db.exec(select(CaseEvent).where(CaseEvent.to_status == "closed")).one()
        row = db.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case.id)).one()
    assert fresh is not None and (fresh.status, fresh.outcome) == ("closed", "matched with support")
    assert fresh.open_key is None and fresh.closed_at is not None
    assert event.text == "JW says the group helps" and row.ended_at is not None
    again = mod.post(f"/cases/{case.id}/consent", data={"state": "withdrawn", "reason": "x"})
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/cases/{case.id}#consent")  # where the form was
    assert "The case is closed." in mod.get(again.headers["Location"]).get_data(as_text=True)
    with _db(app) as db:
        assert db.get(Case, case.id).consent == "given"  # type: ignore[union-attr]  # closed stays


def test_closing_from_the_status_form_also_ends_the_follow_up(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)
    mod = as_role("moderator")
    mod.post(f"/cases/{case.id}/consent", data={"state": "given", "reason": "in person"})
    form = {"status": "closed", "outcome": "no longer needed", "reason": "they found a group"}
    assert mod.post(f"/cases/{case.id}/status", data=form).status_code == 302
    with _db(app) as db:
        row = db.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case.id)).one()
        assert db.get(Case, case.id).status == "closed"  # type: ignore[union-attr]
    assert row.ended_at is not None and row.reason == "case closed"


def _header_and_status(page: str) -> tuple[str, str]:
    header = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    status = page.split("<dt>Status</dt>", 1)[1].split("</dd>", 1)[0]
    return header, status


def test_the_header_and_the_consent_panel_agree_once_consent_is_given(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)
    mod = as_role("moderator")
    header, status = _header_and_status(mod.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "awaiting consent" in header and "awaiting consent" in status  # asked, no answer yet
    mod.post(f"/cases/{case.id}/consent", data={"state": "given", "reason": "by phone"})
    page = mod.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="consent-state">given<' in page
    header, status = _header_and_status(page)
    assert "awaiting consent" not in header and "awaiting consent" not in status
    assert "consent given" in header and "consent given" in status
    listed = mod.get("/cases").get_data(as_text=True)
    assert "awaiting consent</span>" not in listed


def test_their_answer_in_messenger_is_theirs_on_the_chronology(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = asked_case(app)  # Jo Visitor's comment; the private reply reached them
    # Messenger's webhook carries no name: the answer is known as Jo's by the private reply.
    answer = message(app, app.test_client(), "Yes please, that would help")
    assert answer.case_id == case.id and answer.author_name is None
    page = as_role("moderator").get(f"/cases/{case.id}").get_data(as_text=True)
    said = [line for line in page.splitlines() if 'class="event-line"' in line]
    wrote = [line for line in said if '<span class="what">wrote</span>' in line]
    assert len(wrote) == 2, said
    assert all('<span class="who">Jo V.</span>' in line for line in wrote), wrote
