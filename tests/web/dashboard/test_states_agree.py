"""States that agree (issue 18): the queue offers what makes sense and records what it shows."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import AuditEntry, OutboundAction, ReplyDraft
from tests.web.dashboard.support import HELP, RISK, case_of, comment, item_order

SPAM = "Make £5000 a week from home!!! DM me now, click my profile link bit.ly/cash"


def test_a_queue_load_records_one_look_per_safeguarding_case_not_one_per_item(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    items = [comment(app, feeder, f"{RISK} ({n})") for n in range(3)]
    assert len({i.case_id for i in items}) == 1, "three messages from one person, one case"
    lead = as_role("safeguarding_lead")  # signing in opens the queue once
    engine = app.extensions["haven"].engine

    def views() -> list[AuditEntry]:
        with Session(engine) as db:
            return list(db.exec(select(AuditEntry).where(AuditEntry.action == "case.viewed")))

    before = len(views())
    page = lead.get("/").get_data(as_text=True)
    assert {i.id for i in items} <= set(item_order(page))
    after = views()
    assert len(after) == before + 1
    assert after[-1].subject_id == str(items[0].case_id) and after[-1].detail["via"] == "queue"


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
