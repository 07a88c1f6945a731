"""States that agree (issue 18): the queue offers what makes sense and records what it shows."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import AuditEntry, Case, Item, OutboundAction, ReplyDraft
from tests.web.dashboard.support import HELP, RISK, case_of, comment, item_order

SPAM = "Make £5000 a week from home!!! DM me now, click my profile link bit.ly/cash"


def test_the_queue_records_one_look_per_safeguarding_case_and_none_for_reloads(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    items = [comment(app, feeder, f"{RISK} ({n})") for n in range(3)]
    assert len({i.case_id for i in items}) == 1, "three messages from one person, one case"
    lead = as_role("safeguarding_lead")
    lead.get("/")  # the queue, where signing in leads: the first look
    engine = app.extensions["haven"].engine

    def views() -> list[AuditEntry]:
        with Session(engine) as db:
            return list(db.exec(select(AuditEntry).where(AuditEntry.action == "case.viewed")))

    first = views()
    assert [(v.subject_id, v.detail["via"]) for v in first] == [(str(items[0].case_id), "queue")]
    for _ in range(5):  # the queue left open and reloaded: the same look
        page = lead.get("/").get_data(as_text=True)
        assert {i.id for i in items} <= set(item_order(page))
    assert len(views()) == 1
    as_role("safeguarding_deputy").get("/")  # a second person: a look of their own
    lead.get(f"/cases/{items[0].case_id}")  # the case page itself: another kind of look
    lead.get(f"/cases/{items[0].case_id}")  # reloaded: nothing more
    after = views()
    assert len(after) == 3
    assert {(v.actor, v.detail["via"]) for v in after[1:]} == {
        (after[1].actor, "queue"),
        (first[0].actor, "case page"),
    }
    assert after[1].actor != first[0].actor


def test_spam_offers_neither_a_private_reply_nor_a_case(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), SPAM)
    page = as_role("admin").get("/").get_data(as_text=True)
    assert item.id in item_order(page)
    assert "spam" in page  # still shown, with what Haven found
    assert "Open case" not in page
    assert "private reply" not in page.lower()  # neither a draft nor Meta's deadline for one
    assert "Hide comment" in page or "Unhide comment" in page
    assert "Mark reviewed" in page


def test_a_closed_case_offers_no_decision_on_its_replies_and_refuses_one(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), HELP)
    case = case_of(app, item)
    engine = app.extensions["haven"].engine
    with Session(engine) as db:
        drafts = db.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).all()
    draft = drafts[0]
    admin = as_role("admin")
    approve, reject = f"/drafts/{draft.id}/approve", f"/drafts/{draft.id}/reject"
    assert approve in admin.get(f"/cases/{case.id}").get_data(as_text=True)  # open: offered
    admin.post(f"/cases/{case.id}/status", data={"status": "matched", "reason": "Matched"})
    admin.post(
        f"/cases/{case.id}/status",
        data={"status": "closed", "reason": "All done", "outcome": "supported"},
    )
    refusal = "This case is closed: its suggested replies can no longer be sent or changed."
    for page in (f"/cases/{case.id}", "/?view=reviewed"):
        shown = admin.get(page).get_data(as_text=True)
        assert item.id in item_order(shown) and draft.text.split()[0] in shown
        assert "/drafts/" not in shown and "Approve and send" not in shown
        assert refusal in shown
    for url, form in ((approve, {"text": draft.text}), (reject, {})):
        answer = admin.post(url, data=form, follow_redirects=True)
        assert answer.status_code == 200 and refusal in answer.get_data(as_text=True)
    with Session(engine) as db:
        assert {db.get(ReplyDraft, d.id).status for d in drafts} == {"draft"}  # type: ignore[union-attr]
        assert db.exec(select(OutboundAction)).all() == []


def test_opening_a_case_by_hand_for_spam_is_refused_with_a_reason(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), SPAM)
    assert item.case_id is None
    admin = as_role("admin")
    for case_type in ("support", "safeguarding"):
        answer = admin.post(
            f"/items/{item.id}/case",
            data={"case_type": case_type, "back": "/"},
            follow_redirects=True,
        )
        assert answer.status_code == 200
        assert "This looks like spam: no case is opened for it." in answer.get_data(as_text=True)
    with Session(app.extensions["haven"].engine) as db:
        assert db.exec(select(Case)).all() == []
        assert db.get(Item, item.id).case_id is None  # type: ignore[union-attr]
        assert db.exec(select(AuditEntry).where(AuditEntry.action == "case.opened")).all() == []


def test_a_case_forms_message_is_shown_in_its_section_or_at_the_top_elsewhere(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    item = comment(app, app.test_client(), HELP)
    case = case_of(app, item)
    mod = as_role("moderator")
    answer = mod.post(f"/cases/{case.id}/assignee", data={"assignee": ""})
    assert answer.headers["Location"] == f"/cases/{case.id}#work"
    page = mod.get(f"/cases/{case.id}").get_data(as_text=True)
    work = page.split('id="work"')[1].split("</section>")[0]
    assert '<p class="flash flash-info" role="status">Unassigned.</p>' in work
    assert page.count("Unassigned.") == 1  # not also at the top
    mod.post(f"/cases/{case.id}/consent", data={"state": "given", "reason": ""})
    refused = mod.get(f"/cases/{case.id}").get_data(as_text=True)
    consent = refused.split('id="consent"')[1].split("</section>")[0]
    assert "flash-error" in consent and 'role="alert"' in consent
    # Not followed to the case page: the next page shows it at the top instead of losing it.
    mod.post(f"/cases/{case.id}/assignee", data={"assignee": ""})
    queue = mod.get("/").get_data(as_text=True)
    assert '<p class="flash flash-info" role="status">Unassigned.</p>' in queue
