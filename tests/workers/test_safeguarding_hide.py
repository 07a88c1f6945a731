"""A public comment naming a child in danger is hidden, a cry for help is not, and the case
says so. Meta is simulated with `responses`, in the reference's shapes (tests/fixtures/meta)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from sqlmodel import Session, select

from bot.app import create_app
from bot.cases.consent import OVERRIDE_REASON
from bot.cases.hiding import SAFEGUARDING_HIDE_KEY
from bot.models import AuditEntry, Case, Item, OutboundAction
from bot.models.dashboard import CaseEvent
from bot.tasks import LocalEnqueuer
from tests.helpers import (
    FIXTURES,
    PAGE_ID,
    TEST_ACCOUNTS,
    load_payload,
    make_settings,
    page_comment,
    signed_post,
)

GRAPH = "https://graph.facebook.com/v24.0"
COMMENT = "900000000000001_7001"
CHILD_NAMED = "My neighbour hits her son Jack, he goes to St Mary's Primary School and has bruises"
CRY_WITH_DETAILS = "I want to kill myself, my son Jack deserves better"
META_ERRORS = json.loads((FIXTURES / "meta" / "graph_errors.json").read_text())["cases"]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    """Haven sending for real (to `responses`), with this `hiding:` section; jobs run by hand."""
    apps: list[Flask] = []

    def make(dry_run: bool = False, **hiding: Any) -> Flask:
        config = {"meta": {"dry_run": dry_run, "accounts": TEST_ACCOUNTS}, "hiding": hiding}
        settings = make_settings(tmp_path, config=config, TEST_IG_TOKEN="ig-token-for-tests")
        apps.append(create_app(settings, enqueuer=LocalEnqueuer([0], start=False)))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["haven"].engine.dispose()


def _arrives(app: Flask, payload: dict[str, Any]) -> Item:
    from workers.jobs import process_item

    assert signed_post(app.test_client(), payload).status_code == 200
    with Session(app.extensions["haven"].engine) as db:
        item = db.exec(select(Item).order_by(Item.id.desc())).first()
    assert item is not None and process_item(item.id) == "processed"
    return item


def _hides(app: Flask, item: Item) -> list[OutboundAction]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(OutboundAction).where(OutboundAction.item_id == item.id)))


def _notes(app: Flask, item: Item) -> list[str]:
    with Session(app.extensions["haven"].engine) as db:
        case_id = db.get(Item, item.id).case_id  # type: ignore[union-attr]
        events = db.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        # Haven's notes about hiding (the safeguarding override has its own).
        return [e.text or "" for e in events if e.kind == "note" and e.text != OVERRIDE_REASON]


def _audited(app: Flask, prefix: str) -> list[AuditEntry]:
    with Session(app.extensions["haven"].engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action.startswith(prefix))))


def _meta_error(name: str) -> dict[str, Any]:
    case = META_ERRORS[name]
    return {"json": case["body"], "status": case["status"]}


@responses.activate
def test_a_comment_naming_a_child_in_danger_is_hidden_once_and_the_case_says_so(
    make_app: Any,
) -> None:
    from workers.jobs import perform_action

    app = make_app()
    hidden = responses.post(f"{GRAPH}/{COMMENT}", json={"success": True})
    item = _arrives(app, page_comment(CHILD_NAMED))
    # Meta delivers at least once: the same delivery again asks for nothing more.
    assert signed_post(app.test_client(), page_comment(CHILD_NAMED)).status_code == 200
    [hide] = _hides(app, item)
    key = f"{SAFEGUARDING_HIDE_KEY}{PAGE_ID}:{COMMENT}"
    assert (hide.kind, hide.idempotency_key) == ("hide", key)
    with Session(app.extensions["haven"].engine) as db:
        case = db.get(Case, db.get(Item, item.id).case_id)  # type: ignore[union-attr]
        assert case is not None and case.case_type == "safeguarding"
    assert perform_action(hide.id) == "done"
    assert perform_action(hide.id) == "done"  # already done: Meta is not called again
    assert hidden.call_count == 1 and "is_hidden=true" in hidden.calls[0].request.body
    with Session(app.extensions["haven"].engine) as db:
        assert db.get(Item, item.id).hidden is True  # type: ignore[union-attr]
    asked, done = _notes(app, item)
    assert "asked Facebook to hide this comment" in asked and "child is in danger" in asked
    assert "the child's name and a school" in asked
    assert "their friends still see it; nobody else does" in asked
    assert done == "Facebook has hidden the comment. Unhide on the queue shows it again."
    # The case's words are Haven's own: nothing of what was written.
    assert not [n for n in (asked, done) if "Jack" in n or "St Mary" in n]
    assert [a.action for a in _audited(app, "hiding.")] == ["hiding.requested", "hiding.done"]


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        ("code10_permission", "permission", "has not given Haven permission to hide comments"),
        ("code200_permission", "permission", "hide it on Facebook now"),
        ("code100_object_gone", "parameter", "could not find the comment"),
    ],
)
@responses.activate
def test_when_meta_refuses_the_hide_the_case_says_what_to_do(
    make_app: Any, error: str, kind: str, says: str
) -> None:
    from workers.jobs import perform_action

    app = make_app()
    responses.post(f"{GRAPH}/{COMMENT}", **_meta_error(error))
    item = _arrives(app, page_comment(CHILD_NAMED))
    [hide] = _hides(app, item)
    # Permanent errors: not retried, the action is closed as failed.
    assert perform_action(hide.id) == "failed"
    assert len(responses.calls) == 1
    with Session(app.extensions["haven"].engine) as db:
        action = db.get(OutboundAction, hide.id)
        assert action is not None and action.error_kind == kind
        assert db.get(Item, item.id).hidden is False  # type: ignore[union-attr]
    outcome = _notes(app, item)[-1]
    assert says in outcome
    [failed] = _audited(app, "hiding.failed")
    assert failed.detail["error_kind"] == kind


def test_a_cry_for_help_stays_visible_and_the_case_says_why(make_app: Any) -> None:
    app = make_app()
    item = _arrives(app, page_comment(CRY_WITH_DETAILS))
    # The child's name alone would be hidden by the rules; a cry for help is not.
    assert _hides(app, item) == []
    [note] = [n for n in _notes(app, item) if "visible" in n]
    assert note.startswith("Haven left this comment visible although it has personal details")
    assert "cry for help" in note and "Hide it from the queue" in note
    assert [a.action for a in _audited(app, "hiding.")] == ["hiding.left_visible"]


def test_the_charity_may_hide_cries_for_help_like_any_comment(make_app: Any) -> None:
    app = make_app(hide_cries_for_help=True)
    item = _arrives(app, page_comment(CRY_WITH_DETAILS))
    [hide] = _hides(app, item)
    assert hide.idempotency_key == f"hide:{item.id}"
    assert not [n for n in _notes(app, item) if "visible" in n or "hide" in n]


def test_with_child_in_danger_off_the_rules_alone_decide(make_app: Any) -> None:
    app = make_app(child_in_danger=False)
    item = _arrives(app, page_comment(CHILD_NAMED))
    # The rules still hide the personal details, as any comment's; nothing on the case.
    [hide] = _hides(app, item)
    assert hide.idempotency_key == f"hide:{item.id}"
    assert _audited(app, "hiding.") == []


@responses.activate
def test_an_instagram_comment_is_hidden_with_instagrams_own_parameter(make_app: Any) -> None:
    from workers.jobs import perform_action

    app = make_app()
    payload = copy.deepcopy(load_payload("ig_comment.json"))
    comment = payload["entry"][0]["changes"][0]["value"]
    comment["text"] = CHILD_NAMED
    hidden = responses.post(f"{GRAPH}/{comment['id']}", json={"success": True})
    item = _arrives(app, payload)
    [hide] = _hides(app, item)
    assert perform_action(hide.id) == "done"
    assert hidden.calls[0].request.body == "hide=true"
    asked = _notes(app, item)[0]
    assert "asked Instagram to hide" in asked
    assert "The person who wrote it still sees it; nobody else does." in asked


def test_a_visitor_post_cannot_be_hidden_and_the_case_says_so(make_app: Any) -> None:
    app = make_app()
    payload = copy.deepcopy(load_payload("fb_post_status.json"))
    payload["entry"][0]["changes"][0]["value"]["message"] = CHILD_NAMED
    item = _arrives(app, payload)
    assert _hides(app, item) == []
    [note] = _notes(app, item)
    assert "a visitor post on the page, which Facebook does not let Haven hide" in note
    assert [a.action for a in _audited(app, "hiding.")] == ["hiding.not_possible"]


def test_in_a_dry_run_the_case_says_the_comment_is_still_public(make_app: Any) -> None:
    from workers.jobs import perform_action

    app = make_app(dry_run=True)
    item = _arrives(app, page_comment(CHILD_NAMED))
    [hide] = _hides(app, item)
    with responses.RequestsMock() as meta:
        assert perform_action(hide.id) == "done"
        assert len(meta.calls) == 0
    assert _notes(app, item)[-1].startswith("Dry run: Haven recorded the hide but sent nothing")


def test_an_edit_of_the_comment_is_not_hidden_again(make_app: Any) -> None:
    app = make_app()
    first = _arrives(app, page_comment(CHILD_NAMED))
    edit = page_comment(CHILD_NAMED + " and nobody is doing anything")
    edit["entry"][0]["changes"][0]["value"]["verb"] = "edited"
    second = _arrives(app, edit)
    assert second.id != first.id and second.external_id == first.external_id
    # One hide for the comment, whatever its versions: the lead's unhide would stand.
    assert len(_hides(app, first)) == 1 and _hides(app, second) == []
    assert [a.action for a in _audited(app, "hiding.")] == ["hiding.requested"]
