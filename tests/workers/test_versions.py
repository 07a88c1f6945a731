"""Edits, removals and hides, in Meta's order or out of it: history kept, nothing answered twice."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from bot.models import Finding, Item, ReplyDraft
from tests.helpers import edited, load_payload, page_comment, removed, signed_post

PHONE = "Could someone ring me back on 07700 900123, I need to talk to someone about our adoption"
NO_PHONE = "Could someone message me please, I need to talk to someone about our adoption"


def _deliver(app: Flask, client: FlaskClient, payload: dict) -> None:
    assert signed_post(client, payload).status_code == 200
    assert app.extensions["haven"].enqueuer.wait_idle()


def _state(app: Flask) -> tuple[list[Item], list[Finding], list[ReplyDraft]]:
    with Session(app.extensions["haven"].engine) as session:
        return (
            list(session.exec(select(Item).order_by(Item.created_at)).all()),
            list(session.exec(select(Finding)).all()),
            list(session.exec(select(ReplyDraft)).all()),
        )


def _active(findings: list[Finding], item: Item) -> set[str]:
    return {f.category for f in findings if f.item_id == item.id and f.superseded_at is None}


def test_an_edit_is_judged_again_and_retires_the_old_findings(
    app: Flask, client: FlaskClient
) -> None:
    original = page_comment(PHONE)
    _deliver(app, client, original)
    _deliver(app, client, edited(original, NO_PHONE, 1742667900))
    (first, edit), findings, drafts = _state(app)
    assert edit.verb == "edited" and edit.status == "processed"
    assert "pii.phone" in {f.category for f in findings if f.item_id == first.id}
    assert "pii.phone" not in _active(findings, first)  # kept as history, no longer active
    assert "pii.phone" not in _active(findings, edit)
    assert all(d.status == "superseded" for d in drafts if d.item_id == first.id)


def test_a_reply_already_sent_is_not_drafted_again_for_the_edit(
    app: Flask, client: FlaskClient
) -> None:
    original = page_comment(NO_PHONE)
    _deliver(app, client, original)
    with Session(app.extensions["haven"].engine) as session:
        draft = session.exec(select(ReplyDraft).where(ReplyDraft.kind == "private")).one()
        draft.status = "sent"
        session.add(draft)
        session.commit()
    _deliver(app, client, edited(original, NO_PHONE + " x", 1742667900))
    (_, edit), _, drafts = _state(app)
    assert [d.kind for d in drafts if d.item_id == edit.id and d.kind == "private"] == []


def test_an_edit_that_arrives_before_its_add_wins(app: Flask, client: FlaskClient) -> None:
    _deliver(app, client, load_payload("fb_comment_edit_before_add.json"))
    (add, edit), findings, drafts = _state(app)
    assert (add.verb, add.status) == ("add", "superseded")
    assert (edit.verb, edit.status) == ("edited", "processed")
    assert "pii.phone" not in _active(findings, add) | _active(findings, edit)
    assert not [d for d in drafts if d.item_id == add.id]


def test_risk_in_a_text_edited_away_still_reaches_the_lead(app: Flask, client: FlaskClient) -> None:
    original = page_comment("I can't do this anymore, everyone would be better off without me")
    _deliver(app, client, original)
    _deliver(app, client, edited(original, "sorry, ignore me", 1742667900))
    (first, _edit), findings, _ = _state(app)
    assert any(c.startswith("risk.") for c in _active(findings, first))


def test_a_removal_marks_every_version_and_deletes_nothing(app: Flask, client: FlaskClient) -> None:
    original = page_comment(NO_PHONE)
    _deliver(app, client, original)
    _deliver(app, client, removed(original, 1742668000))
    (first, removal), findings, drafts = _state(app)
    assert removal.verb == "remove" and first.removed_at is not None
    assert _active(findings, first)  # what was found is still there for staff
    assert [d.status for d in drafts if d.kind == "public"] == ["superseded"]


def test_a_removal_that_arrives_first_still_applies(app: Flask, client: FlaskClient) -> None:
    original = page_comment(NO_PHONE)
    _deliver(app, client, removed(original, 1742668000))
    _deliver(app, client, original)
    items, _, drafts = _state(app)
    add = next(i for i in items if i.verb == "add")
    assert add.removed_at is not None and add.status == "processed"
    assert not [d for d in drafts if d.kind == "public"]
