"""Sending on Meta: once, within Meta's limits, and every error class to the right outcome.

Meta is simulated with `responses`, using the payload and error shapes in the reference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import responses
from flask import Flask
from sqlmodel import Session, select

from bot.actions import approve_draft
from bot.app import create_app
from bot.config import Settings
from bot.db import session_scope
from bot.graph.client import GraphError
from bot.models import AccountState, Item, OutboundAction, ReplyDraft, User, utcnow
from bot.tasks import LocalEnqueuer
from bot.web.auth.login import create_user
from rules.consent import CONSENT_QUICK_REPLIES
from tests.helpers import PAGE_ID, job_context, make_settings, page_comment, signed_post
from workers.sending import perform
from workers.timers import sweep_actions, warn_private_reply_deadlines

GRAPH = "https://graph.facebook.com/v24.0"
COMMENT = "900000000000001_7001"
HELP = "Does anyone else feel like they're failing? I really need someone to talk to."


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """Not a dry run: every call goes to (simulated) Meta."""
    return make_settings(tmp_path, config={"meta": {"dry_run": False, "accounts": _accounts()}})


def _accounts() -> list[dict]:
    from tests.helpers import TEST_ACCOUNTS

    return TEST_ACCOUNTS


@pytest.fixture
def live_app(live_settings: Settings) -> Iterator[Flask]:
    queue = LocalEnqueuer([0], start=False)  # jobs are run by the tests themselves
    app = create_app(live_settings, enqueuer=queue)
    yield app
    app.extensions["haven"].engine.dispose()


@pytest.fixture
def dry_app(settings: Settings) -> Iterator[Flask]:
    """The repository's config.yaml as shipped: a dry run."""
    queue = LocalEnqueuer([0], start=False)
    app = create_app(settings, enqueuer=queue)
    yield app
    app.extensions["haven"].engine.dispose()


def _comment_with_drafts(app: Flask, text: str = HELP, **kwargs: str) -> Item:
    from workers.jobs import process_item

    now = int(utcnow().timestamp())
    response = signed_post(app.test_client(), page_comment(text, created_time=now, **kwargs))
    assert response.status_code == 200
    with Session(app.extensions["haven"].engine) as session:
        item = session.exec(select(Item).order_by(Item.id.desc())).first()
    assert process_item(item.id) == "processed"
    return item


def _approve(app: Flask, item: Item, kind: str, text: str | None = None) -> int:
    with session_scope(app.extensions["haven"].engine) as session:
        user = session.exec(select(User)).first() or create_user(
            session, "approver", "a-long-enough-password", "admin"
        )
        draft = session.exec(
            select(ReplyDraft).where(ReplyDraft.item_id == item.id, ReplyDraft.kind == kind)
        ).one()
        action = approve_draft(session, draft, text=text or draft.text, user_id=user.id)
        return action.id


def _row(app: Flask, model: type, row_id: object):  # type: ignore[no-untyped-def]
    with Session(app.extensions["haven"].engine) as session:
        return session.get(model, row_id)


def _perform(app: Flask, action_id: int, **kwargs: object) -> str:
    return perform(app.extensions["haven"].engine, job_context(app).graph, action_id, **kwargs)


def _meta_error(code: int, message: str, status: int = 400, subcode: int | None = None) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    if subcode:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status}


@responses.activate
def test_an_approved_private_reply_is_sent_once(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "private", "Hi, we've sent you a message.")
    responses.post(
        f"{GRAPH}/{PAGE_ID}/messages", json={"recipient_id": "6000", "message_id": "m_1"}
    )
    assert _perform(live_app, action_id) == "done"
    assert _perform(live_app, action_id) == "done"  # a redelivered job sends nothing
    assert len(responses.calls) == 1
    body = json.loads(responses.calls[0].request.body)
    # The help request's reply asks for consent, with buttons for the answer (tests/cases).
    quick = body["message"].pop("quick_replies")
    assert [q["payload"] for q in quick] == [p for _, p in CONSENT_QUICK_REPLIES]
    assert body == {
        "recipient": {"comment_id": COMMENT},
        "message": {"text": "Hi, we've sent you a message."},
    }
    assert "appsecret_proof=" in responses.calls[0].request.url
    draft = _row(live_app, ReplyDraft, _row(live_app, OutboundAction, action_id).draft_id)
    assert (draft.status, draft.sent_external_id) == ("sent", "m_1")
    assert _row(live_app, Item, item.id).private_reply_used_at is not None


@responses.activate
def test_an_approved_public_reply_goes_under_the_comment(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "public")
    responses.post(f"{GRAPH}/{COMMENT}/comments", json={"id": f"{COMMENT}_reply"})
    assert _perform(live_app, action_id) == "done"
    assert "message=" in responses.calls[0].request.body


@responses.activate
def test_a_private_reply_already_used_by_a_person_is_not_an_error(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "private")
    responses.post(
        f"{GRAPH}/{PAGE_ID}/messages", **_meta_error(10900, "Activity already replied to")
    )
    assert _perform(live_app, action_id) == "answer_in_inbox"
    assert _row(live_app, Item, item.id).private_reply_used_at is not None
    assert "already sent" in _row(live_app, OutboundAction, action_id).error


def test_past_the_seven_days_no_private_reply_is_attempted(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "private")
    with responses.RequestsMock() as meta:  # any call at all would fail this test
        later = item.created_at + timedelta(days=7, minutes=1)
        assert _perform(live_app, action_id, now=later) == "answer_in_inbox"
        assert len(meta.calls) == 0
    assert "7-day" in _row(live_app, OutboundAction, action_id).error


@responses.activate
def test_a_rate_limit_waits_as_long_as_meta_says(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "public")
    usage = {
        PAGE_ID: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": 5,
            }
        ]
    }
    responses.post(
        f"{GRAPH}/{COMMENT}/comments",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        **_meta_error(80001, "There have been too many calls to this Page account"),
    )
    now = utcnow()
    assert _perform(live_app, action_id, now=now) == "waiting"
    action = _row(live_app, OutboundAction, action_id)
    assert action.status == "pending"
    assert abs((action.not_before - now).total_seconds() - 300) < 1
    assert _perform(live_app, action_id, now=now + timedelta(minutes=1)) == "waiting"
    assert len(responses.calls) == 1  # nothing more was asked of Meta while it said wait


@responses.activate
def test_a_rejected_token_pauses_the_page_and_keeps_the_reply(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "public")
    responses.post(
        f"{GRAPH}/{COMMENT}/comments",
        **_meta_error(190, "Error validating access token", status=400, subcode=460),
    )
    assert _perform(live_app, action_id) == "paused"
    assert _row(live_app, AccountState, PAGE_ID).paused_at is not None
    assert _row(live_app, OutboundAction, action_id).status == "pending"
    recorder = _Recorder()
    assert sweep_actions(live_app.extensions["haven"].engine, recorder) == 0  # stays paused


@pytest.mark.parametrize(
    ("code", "message", "shown"),
    [
        (200, "Permissions error", "has not granted Haven"),
        (100, "Unsupported post request. Object does not exist", "refused the request"),
    ],
)
@responses.activate
def test_permission_and_parameter_errors_fail_once_visibly(
    live_app: Flask, code: int, message: str, shown: str
) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "public")
    responses.post(f"{GRAPH}/{COMMENT}/comments", **_meta_error(code, message))
    assert _perform(live_app, action_id) == "failed"
    assert _perform(live_app, action_id) == "failed"
    assert len(responses.calls) == 1
    draft = _row(live_app, ReplyDraft, _row(live_app, OutboundAction, action_id).draft_id)
    assert draft.status == "failed" and shown in draft.error


@responses.activate
def test_after_an_ambiguous_failure_meta_is_asked_before_sending_again(live_app: Flask) -> None:
    item = _comment_with_drafts(live_app)
    action_id = _approve(live_app, item, "public", "Thanks for asking, we've messaged you.")
    responses.post(f"{GRAPH}/{COMMENT}/comments", json={"error": {"code": 2}}, status=500)
    with pytest.raises(GraphError):
        _perform(live_app, action_id)  # the queue retries it
    # The reply did land: Meta lists it under the comment, so it is not posted again.
    responses.get(
        f"{GRAPH}/{COMMENT}/comments",
        json={"data": [{"id": "r1", "message": "Thanks for asking, we've messaged you.",
                        "from": {"id": PAGE_ID}, "created_time": utcnow().isoformat()}]},
    )  # fmt: skip
    assert _perform(live_app, action_id) == "done"
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]
    assert _row(live_app, OutboundAction, action_id).external_id == "r1"


@responses.activate
def test_a_message_outside_the_24_hour_window_is_left_for_the_inbox(live_app: Flask) -> None:
    dm = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1, "messaging": [{
            "sender": {"id": "7392015648120394"}, "recipient": {"id": PAGE_ID},
            "timestamp": int(utcnow().timestamp() * 1000),
            "message": {"mid": "m_help", "text": HELP}}]}],
    }  # fmt: skip
    from workers.jobs import process_item

    assert signed_post(live_app.test_client(), dm).status_code == 200
    with Session(live_app.extensions["haven"].engine) as session:
        item = session.exec(select(Item)).one()
    process_item(item.id)
    action_id = _approve(live_app, item, "dm")
    assert _perform(live_app, action_id, now=utcnow() + timedelta(hours=25)) == "answer_in_inbox"
    assert len(responses.calls) == 0
    responses.post(f"{GRAPH}/{PAGE_ID}/messages", json={"recipient_id": "7", "message_id": "m2"})
    inside = _approve_again(live_app, action_id)
    assert _perform(live_app, inside) == "done"
    body = json.loads(responses.calls[0].request.body)
    assert body["messaging_type"] == "RESPONSE"
    assert body["recipient"] == {"id": "7392015648120394"}
    assert body["message"]["metadata"] == f"haven:action:{action_id}"


@responses.activate
def test_personal_details_in_a_comment_are_hidden_automatically(live_app: Flask) -> None:
    from workers.jobs import perform_action

    responses.post(f"{GRAPH}/{COMMENT}", json={"success": True})
    item = _comment_with_drafts(live_app, "Ring me on 07700 900123 about the group")
    with Session(live_app.extensions["haven"].engine) as session:
        hide = session.exec(select(OutboundAction).where(OutboundAction.kind == "hide")).one()
    assert perform_action(hide.id) == "done"
    assert "is_hidden=true" in responses.calls[0].request.body
    assert _row(live_app, Item, item.id).hidden is True


def test_a_dry_run_records_and_sends_nothing(dry_app: Flask) -> None:
    item = _comment_with_drafts(dry_app)
    action_id = _approve(dry_app, item, "private")
    with responses.RequestsMock() as meta:
        assert _perform(dry_app, action_id) == "done"
        assert len(meta.calls) == 0
    action = _row(dry_app, OutboundAction, action_id)
    assert action.dry_run and action.external_id.startswith("m_dry_run")
    assert job_context(dry_app).graph.recorded[-1].path == f"/{PAGE_ID}/messages"


def test_a_private_reply_nearly_out_of_time_is_flagged_once(dry_app: Flask) -> None:
    item = _comment_with_drafts(dry_app)
    engine = dry_app.extensions["haven"].engine
    soon = item.created_at + timedelta(days=6, hours=1)
    assert len(warn_private_reply_deadlines(engine, now=soon)) == 1
    assert warn_private_reply_deadlines(engine, now=soon) == []


class _Recorder:
    def __init__(self) -> None:
        self.jobs: list[str] = []

    def enqueue(self, func: str, *args: object, job_id: str, retry: bool = True) -> None:
        self.jobs.append(job_id)


def _approve_again(app: Flask, action_id: int) -> int:
    """A fresh approval of the same person's later message (inside the window)."""
    with session_scope(app.extensions["haven"].engine) as session:
        action = session.get(OutboundAction, action_id)
        action.status, action.done_at, action.error = "pending", None, None
        session.add(action)
        draft = session.get(ReplyDraft, action.draft_id)
        draft.status = "approved"
        session.add(draft)
    return action_id


@responses.activate
def test_a_deletion_an_admin_asked_for_is_carried_out_once(live_app: Flask) -> None:
    from bot.actions import request_action

    item = _comment_with_drafts(live_app, "Cheap followers here, DM me")
    with session_scope(live_app.extensions["haven"].engine) as session:
        action = request_action(
            session, kind="delete", item=item, key=f"delete:{item.id}", requested_by="user:1"
        )
        action_id = action.id
    responses.delete(f"{GRAPH}/{COMMENT}", json={"success": True})
    assert _perform(live_app, action_id) == "done"
    assert _perform(live_app, action_id) == "done"
    assert [c.request.method for c in responses.calls] == ["DELETE"]
    assert _row(live_app, Item, item.id).text  # Haven keeps its own record
