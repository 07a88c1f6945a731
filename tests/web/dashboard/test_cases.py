"""Cases: filters, the chronology, and the status workflow with reasons on the record."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlmodel import Session, select

from bot.cases.follow_up import schedule_follow_up
from bot.cases.keys import open_key
from bot.models import AuditEntry, Case, Item, ReplyDraft, User
from bot.models.dashboard import CaseEvent
from tests.support.append_only import assert_refused_as_append_only
from tests.support.databases import copy_sqlite_template
from tests.web.dashboard.support import HELP, RISK, case_of, comment


def _case_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/cases/(\d+)">#', page)]


def test_the_list_filters_by_status_type_assignee_and_severity(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    support = case_of(app, comment(app, feeder, HELP, author="801"))
    safeguarding = case_of(app, comment(app, feeder, RISK, author="802"))
    admin = as_role("admin")
    everything = admin.get("/cases").get_data(as_text=True)
    assert set(_case_ids(everything)) == {support.id, safeguarding.id}
    assert "better off" not in everything and "restricted" in everything
    by_type = admin.get("/cases?type=safeguarding").get_data(as_text=True)
    assert _case_ids(by_type) == [safeguarding.id]
    assert _case_ids(admin.get("/cases?status=escalated").get_data(as_text=True)) == [
        safeguarding.id
    ]
    assert _case_ids(admin.get(f"/cases?severity={support.severity}").get_data(as_text=True)) == [
        support.id
    ]
    with Session(app.extensions["haven"].engine) as db:
        mod = db.exec(select(User).where(User.username == "moderator")).one()
        lead = db.exec(select(User).where(User.username == "safeguarding_lead")).one()
    # No rota, and one lead: the escalation gave them the safeguarding case.
    assert _case_ids(admin.get(f"/cases?assignee={lead.id}").get_data(as_text=True)) == [
        safeguarding.id
    ]
    assert _case_ids(admin.get("/cases?assignee=none").get_data(as_text=True)) == [support.id]
    admin.post(f"/cases/{support.id}/assignee", data={"assignee": str(mod.id)})
    assert _case_ids(admin.get(f"/cases?assignee={mod.id}").get_data(as_text=True)) == [support.id]
    assert _case_ids(admin.get("/cases?assignee=none").get_data(as_text=True)) == []
    assert _case_ids(as_role("moderator").get("/cases?assignee=me").get_data(as_text=True)) == [
        support.id
    ]
    assert admin.get("/cases?status=nonsense&severity=x").status_code == 200


def test_the_detail_page_reads_as_a_chronology_with_who_and_when(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), HELP)
    case = case_of(app, item)
    admin = as_role("admin")
    with Session(app.extensions["haven"].engine) as db:
        draft = db.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).first()
    assert draft is not None
    admin.post(f"/drafts/{draft.id}/approve", data={"text": "Hi Jo, we are here for you."})
    assert app.extensions["haven"].enqueuer.wait_idle()
    # Sending the consent question moved the case on by itself (workers/consent.py).
    reason = "JV agreed by DM to meet a peer supporter"
    admin.post(f"/cases/{case.id}/status", data={"status": "matched", "reason": reason})
    # Notes are minimal by default: initials, date, type of support (no free text).
    note = {"initials": "JV", "noted_on": "2025-11-21", "support_type": "peer connection"}
    admin.post(f"/cases/{case.id}/case-notes", data=note)
    page = admin.get(f"/cases/{case.id}").get_data(as_text=True)
    steps = [
        "Facebook comment",  # the item, with its text
        "been so hard lately",
        "Found asking for",
        "Suggested a private reply",
        "Approved a suggested reply (edited first)",
        "Private reply: asked Meta",
        "Private reply: done (dry run: recorded, nothing sent to Meta)",
        "Hi Jo, we are here for you.",  # what was sent
        "Status: new → awaiting consent",
        "Status: awaiting consent → matched",
        "JV agreed by DM to meet a peer supporter",  # the reason
        "JV, 21 Nov 2025, peer connection",  # the note
    ]
    positions = [page.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p == -1]
    assert re.search(r'<span class="who">admin</span> <span class="what">Status: awaiting', page)
    assert "Consent</dt><dd>asked, no answer yet" in page  # the private reply asked


def test_the_chronology_says_when_a_follow_up_is_planned_in_words(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = case_of(app, comment(app, app.test_client(), HELP))
    with Session(app.extensions["haven"].engine) as db:
        row = db.get(Case, case.id)
        due = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
        schedule_follow_up(db, row, due_at=due, actor="system", reason="consent given", now=due)
        db.commit()
    page = as_role("admin").get(f"/cases/{case.id}").get_data(as_text=True)
    # The timeline speaks in sentences, with the date a volunteer plans by; no raw keys.
    assert "Planned a follow-up for Wed 9 Dec" in page
    assert "follow up: scheduled" not in page


def test_status_changes_need_a_reason_an_allowed_step_and_an_outcome_to_close(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), HELP)
    case = case_of(app, item)
    admin = as_role("admin")

    def move(**form: str) -> str:
        admin.post(f"/cases/{case.id}/status", data=form)
        with Session(app.extensions["haven"].engine) as db:
            return db.get(Case, case.id).status  # type: ignore[union-attr]

    assert move(status="matched", reason="") == "new"
    assert move(status="new", reason="back to the start") == "new"
    assert move(status="closed", reason="done") == "new"  # no outcome
    assert move(status="matched", reason="Matched with a peer supporter") == "matched"
    assert move(status="closed", reason="All done", outcome="supported") == "closed"
    assert move(status="matched", reason="reopen?") == "closed"  # closed is the end
    with Session(app.extensions["haven"].engine) as db:
        closed = db.get(Case, case.id)
        events = db.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "case.status_changed")).all()
        reviewed = db.get(Item, item.id)
    assert closed is not None and closed.open_key is None and closed.outcome == "supported"
    assert [(e.from_status, e.to_status, e.text) for e in events] == [
        ("new", "matched", "Matched with a peer supporter"),
        ("matched", "closed", "All done"),
    ]
    assert [(a.detail["from"], a.detail["to"]) for a in audit] == [
        ("new", "matched"), ("matched", "closed")]  # fmt: skip
    assert reviewed is not None and reviewed.reviewed_at is not None  # closing clears the queue
    # The person's next message opens a new case rather than joining the closed one.
    again = comment(app, app.test_client(), HELP + " again")
    assert case_of(app, again).id != case.id


def test_a_moderator_escalating_hands_the_case_to_the_lead(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = case_of(app, comment(app, app.test_client(), HELP))
    mod = as_role("moderator")
    response = mod.post(f"/cases/{case.id}/status", data={
        "status": "escalated", "reason": "Mentions not coping at home"})  # fmt: skip
    assert response.headers["Location"] == "/"
    with Session(app.extensions["haven"].engine) as db:
        escalated = db.get(Case, case.id)
        actions = db.exec(select(AuditEntry.action).where(AuditEntry.subject_id == str(case.id)))
        assert "case.escalated" in actions.all()
    assert escalated is not None and escalated.case_type == "safeguarding"
    assert "your visit has been recorded" in mod.get(f"/cases/{case.id}").get_data(as_text=True)
    assert mod.post(f"/cases/{case.id}/notes", data={"note": "x"}).status_code == 403
    lead = as_role("safeguarding_lead").get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Mentions not coping at home" in lead


def test_only_safeguarding_roles_can_be_given_a_safeguarding_case(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    case = case_of(app, comment(app, app.test_client(), RISK))
    lead = as_role("safeguarding_lead")
    with Session(app.extensions["haven"].engine) as db:
        users = {u.username: u.id for u in db.exec(select(User)).all()}
    page = lead.get(f"/cases/{case.id}").get_data(as_text=True)
    assert (
        f'value="{users["safeguarding_deputy"]}"' in page
        and f'value="{users["admin"]}"' not in page
    )
    lead.post(f"/cases/{case.id}/assignee", data={"assignee": str(users["admin"])})
    lead.post(f"/cases/{case.id}/assignee", data={"assignee": str(users["safeguarding_deputy"])})
    with Session(app.extensions["haven"].engine) as db:
        assert db.get(Case, case.id).assignee_id == users["safeguarding_deputy"]  # type: ignore[union-attr]


def test_opening_a_case_by_hand_uses_the_workers_person_and_thread_key(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    from bot.web.dashboard import case_actions
    from workers import cases as worker_cases

    # One definition of the key, used by both (it had a twin kept equal by this test).
    assert case_actions.open_key is worker_cases.open_key is open_key
    # Nothing found, so no case yet (spam would be refused one: bot/cases/offers.py).
    item = comment(app, app.test_client(), "Great event on Saturday, thank you all!")
    assert item.case_id is None
    response = as_role("moderator").post(f"/items/{item.id}/case", data={"case_type": "moderation"})
    case = case_of(app, item)
    assert response.headers["Location"] == f"/cases/{case.id}"
    assert case.open_key == open_key(item)
    assert case.case_type == "moderation" and case.status == "new"
    # A later message from them in the same thread joins it, as a worker-opened case would.
    later = comment(app, app.test_client(), HELP)
    assert case_of(app, later).id == case.id


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_case_events_are_append_only(
    dialect: str, request: pytest.FixtureRequest, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from bot.db import make_engine

    url = (
        f"sqlite:///{copy_sqlite_template(tmp_path / 'e.sqlite')}"
        if dialect == "sqlite"
        else request.getfixturevalue("migrated_postgres_url")
    )
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO cases (case_type, status, priority, severity, platform, account_id, "
            "opened_at, updated_at) VALUES ('support', 'new', 'normal', 'low', 'facebook', '1', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO case_events (case_id, at, kind, text) "
            "VALUES (1, CURRENT_TIMESTAMP, 'note', 'JV')"))  # fmt: skip
    assert_refused_as_append_only(
        engine, "UPDATE case_events SET text = 'changed'", "DELETE FROM case_events"
    )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT consent FROM cases")).scalar_one() == "not_asked"
    engine.dispose()
