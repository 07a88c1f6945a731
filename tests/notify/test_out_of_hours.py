"""Out of hours, what Haven sends by itself: the crisis reply to risk, once per conversation
per out-of-hours period, recorded on the case and in the audit; optionally a plain
acknowledgement of other private messages. Meta itself is not called here (the flows test
does that); these check what is decided and recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import AuditEntry, Case, Item, OutboundAction, ReplyDraft, utcnow
from bot.models.alerts import Alert
from bot.models.consent import CaseContact
from bot.models.dashboard import CaseEvent
from bot.notify.out_of_hours import SENT_NOTE, out_of_hours_period, reply_out_of_hours
from tests.helpers import PAGE_ID, TEST_ACCOUNTS, job_context, signed_post
from tests.notify.conftest import (
    AUTHOR_ID,
    IN_HOURS,
    OTHER_AUTHOR_ID,
    OUT_OF_HOURS,
    RISK_TEXT,
    AlertStack,
    alerts_config,
    make_stack,
)
from tests.support.servers import SMTPServer, WebhookReceiver
from tests.support.stack import messenger_delivery
from workers.sending import perform

HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
HELLO = "Hello, what time does the Thursday group start?"
SENDER = "7392015648120777"
MESSENGER_ID = "7392015648120555"  # the commenter's id in Messenger, which Meta gives back
GRAPH = "https://graph.facebook.com/v24.0"


def closed_now() -> dict[str, Any]:
    """Working hours shut for today and the days either side, so 'now' is out of hours."""
    today = datetime.now(ZoneInfo("Europe/London")).date()
    return {"bank_holidays": [today + timedelta(days=d) for d in (-1, 0, 1)]}


def _stack(tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver, **ooh: Any) -> AlertStack:
    out_of_hours = {"send_crisis_reply": True, **ooh}
    config = alerts_config(smtp.port, hook.url, out_of_hours=out_of_hours)
    built, _queue = make_stack(tmp_path, config, working_hours=closed_now())
    return built


@pytest.fixture
def night(tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver) -> Iterator[AlertStack]:
    built = _stack(tmp_path, smtp, hook, acknowledge_messages=True)
    yield built
    built.engine.dispose()


def _tonight(stack: AlertStack, text: str, **where: Any) -> int:
    return stack.comment(text, received_at=utcnow(), **where)


def _message(stack: AlertStack, text: str, sender: str = SENDER) -> int:
    """A Messenger message through the real webhook and the real process_item job."""
    from workers.jobs import process_item

    mid = f"m_ooh_{len(stack.rows(Item))}"
    delivery = messenger_delivery(sender, {"mid": mid, "text": text})
    assert signed_post(stack.app.test_client(), delivery).status_code == 200
    with Session(stack.engine) as session:
        item_id = session.exec(select(Item.id).where(Item.external_id == mid)).one()
    assert process_item(item_id) == "processed"
    return item_id


def _sent(stack: AlertStack) -> list[OutboundAction]:
    return stack.rows(OutboundAction, OutboundAction.requested_by == "system")


def test_out_of_hours_the_crisis_reply_goes_at_once_and_is_on_the_case(night: AlertStack) -> None:
    item_id = _tonight(night, RISK_TEXT)
    (action,) = _sent(night)
    (draft,) = night.rows(ReplyDraft, ReplyDraft.item_id == item_id)
    assert (action.kind, action.draft_id, action.status) == ("private_reply", draft.id, "pending")
    assert action.idempotency_key.startswith(
        f"out-of-hours-crisis:{action.account_id}:{AUTHOR_ID}:"
    )
    # The reply is the crisis reply and nothing else: who is not in, when they are back,
    # the crisis lines. No question, no buttons, no promise of a call.
    assert (draft.status, draft.decided_by, draft.template) == (
        "approved",
        None,
        "risk_out_of_hours",
    )
    assert "Our team will be back" in draft.text
    assert all(line in draft.text for line in ("116 123", "85258", "999"))
    (case,) = night.rows(Case)
    notes = night.rows(CaseEvent, CaseEvent.case_id == case.id)
    assert [n.text for n in notes if n.text == SENT_NOTE] == [SENT_NOTE]
    audited = {e.action for e in night.rows(AuditEntry)}
    assert {"draft.sent_automatically", "case.out_of_hours_reply"} <= audited
    # The lead is paged all the same, and the case page shows what went.
    assert night.rows(Alert, Alert.kind == "escalation", Alert.case_id == case.id)
    lead = night.client_as(night.user("lead", "safeguarding_lead"))
    page = lead.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "by Haven, out of hours, without waiting for approval" in page
    assert "Sent a reply without waiting for approval (out of hours)" in page


def test_more_risk_in_the_same_conversation_tonight_sends_nothing_more(night: AlertStack) -> None:
    first = _tonight(night, RISK_TEXT)
    second = _tonight(night, "I really can't go on, I want to end my life", comment="7002")
    (action,) = _sent(night)
    assert action.item_id == first
    # The second reply waits for the lead, like any draft.
    (waiting,) = night.rows(ReplyDraft, ReplyDraft.item_id == second)
    assert waiting.status == "draft"
    # Someone else's crisis is their own conversation.
    _tonight(night, RISK_TEXT, comment="7003", author=OTHER_AUTHOR_ID)
    assert len(_sent(night)) == 2


def test_judging_the_same_item_again_sends_nothing_more(night: AlertStack) -> None:
    item_id = _tonight(night, RISK_TEXT)
    config, ruleset = night.config, job_context(night.app).ruleset
    with session_scope(night.engine) as session:
        item = session.get(Item, item_id)
        case = session.get(Case, item.case_id)
        assert reply_out_of_hours(session, ruleset, config, item, case) is None
    assert len(_sent(night)) == 1


def test_the_next_night_is_a_new_period(night: AlertStack) -> None:
    """Direct calls with the clock the test gives: Saturday night, Sunday night (the same
    period: the office opens on Monday), and the next Saturday."""
    config, ruleset = night.config, job_context(night.app).ruleset
    sent = []
    for number, at in enumerate(
        [OUT_OF_HOURS, OUT_OF_HOURS + timedelta(hours=20), OUT_OF_HOURS + timedelta(days=7)]
    ):
        # Judged at a moment 'now' is not (the stack's bank holidays), so nothing goes yet.
        item_id = night.comment(RISK_TEXT, received_at=at, comment=f"71{number}")
        with session_scope(night.engine) as session:
            item = session.get(Item, item_id)
            case = session.get(Case, item.case_id)
            action = reply_out_of_hours(session, ruleset, config, item, case, now=at)
            sent.append(action is not None)
    assert sent == [True, False, True]


@pytest.mark.parametrize(
    ("received", "now", "period"),
    [
        (OUT_OF_HOURS, OUT_OF_HOURS + timedelta(hours=2), "20260316T0900Z"),  # Sat night
        (datetime(2026, 3, 13, 18, 0, tzinfo=UTC), OUT_OF_HOURS, "20260316T0900Z"),  # Friday
        (IN_HOURS, IN_HOURS, None),  # staff are in
        # Judged once the office had opened (a worker down all night): staff decide.
        (OUT_OF_HOURS, datetime(2026, 3, 16, 9, 30, tzinfo=UTC), None),
        (OUT_OF_HOURS, datetime(2026, 3, 16, 18, 0, tzinfo=UTC), None),  # a later night
    ],
)
def test_the_period_is_named_by_when_the_office_opens(
    tmp_path: Path, received: datetime, now: datetime, period: str | None
) -> None:
    from tests.helpers import make_settings

    config = make_settings(tmp_path).config
    assert out_of_hours_period(config, received, now) == period


def test_off_unless_the_charity_turns_it_on(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    stack = _stack(tmp_path, smtp, hook, send_crisis_reply=False)
    try:
        item_id = _tonight(stack, RISK_TEXT)
        (draft,) = stack.rows(ReplyDraft, ReplyDraft.item_id == item_id)
        assert (draft.status, draft.template) == ("draft", "risk_out_of_hours")
        assert _sent(stack) == []
    finally:
        stack.engine.dispose()


def test_in_office_hours_the_risk_reply_waits_for_approval(night: AlertStack) -> None:
    item_id = night.comment(RISK_TEXT, received_at=IN_HOURS)
    (draft,) = night.rows(ReplyDraft, ReplyDraft.item_id == item_id)
    assert (draft.status, draft.template) == ("draft", "risk")
    assert _sent(night) == []


def test_a_crisis_reply_in_a_conversation_is_a_message(night: AlertStack) -> None:
    _message(night, RISK_TEXT)
    _message(night, "please, I can't do this any more, I want to kill myself")
    (action,) = _sent(night)
    assert action.kind == "dm"
    assert action.idempotency_key.startswith(f"out-of-hours-crisis:{action.account_id}:{SENDER}:")


def test_other_messages_get_one_plain_acknowledgement(night: AlertStack) -> None:
    first = _message(night, HELLO)
    _message(night, "Also, is there parking?")
    (action,) = _sent(night)
    (ack,) = night.rows(ReplyDraft, ReplyDraft.kind == "ack")
    assert (action.kind, action.item_id, action.draft_id) == ("dm", first, ack.id)
    assert ack.status == "approved" and "Our team will be back" in ack.text
    assert "116 123" in ack.text  # the default wording still gives one number to ring now
    # Comments get none: it would use the one private reply Meta allows them.
    night.comment(HELP, received_at=utcnow(), comment="7009", author=OTHER_AUTHOR_ID)
    assert len(_sent(night)) == 1


def test_no_acknowledgement_after_the_crisis_reply_or_on_a_safeguarding_case(
    night: AlertStack,
) -> None:
    _message(night, RISK_TEXT)
    _message(night, HELLO)
    assert [a.kind for a in _sent(night)] == ["dm"]
    assert night.rows(ReplyDraft, ReplyDraft.kind == "ack") == []


def test_the_acknowledgement_is_off_unless_asked_for(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    stack = _stack(tmp_path, smtp, hook)
    try:
        _message(stack, HELLO)
        assert _sent(stack) == []
    finally:
        stack.engine.dispose()


def test_their_answer_to_the_crisis_reply_joins_the_case_and_gets_nothing_more(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    config = alerts_config(smtp.port, hook.url, out_of_hours={"send_crisis_reply": True})
    stack, _queue = make_stack(tmp_path, config, working_hours=closed_now(),
                               meta={"dry_run": False, "accounts": TEST_ACCOUNTS})  # fmt: skip
    try:
        item_id = _tonight(stack, RISK_TEXT)
        (action,) = _sent(stack)
        with session_scope(stack.engine) as session:
            # The sample comment is from 2025: make it tonight's, inside Meta's 7 days.
            session.get(Item, item_id).created_at = utcnow()
        with responses.RequestsMock() as meta:
            meta.post(f"{GRAPH}/{PAGE_ID}/messages",
                      json={"recipient_id": MESSENGER_ID, "message_id": "m_1"})  # fmt: skip
            assert perform(stack.engine, job_context(stack.app).graph, action.id) == "done"
            assert json.loads(meta.calls[0].request.body)["recipient"] == {
                "comment_id": "900000000000001_7001"
            }
        (contact,) = stack.rows(CaseContact)
        assert (contact.messaging_id, contact.action_id) == (MESSENGER_ID, action.id)
        answer = _message(stack, "thank you. I still want to die", sender=MESSENGER_ID)
        with Session(stack.engine) as session:
            first, second = session.get(Item, item_id), session.get(Item, answer)
            assert second.case_id == first.case_id
        assert len(_sent(stack)) == 1
    finally:
        stack.engine.dispose()


def test_a_retried_job_asks_once(night: AlertStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt fails after the reply was asked for: nothing of it is kept, and the
    queue's retry asks once."""
    import workers.processing
    from workers.jobs import process_item

    real = workers.processing.read_reply
    failures = iter([RuntimeError("the worker lost its database connection")])

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if (error := next(failures, None)) is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(workers.processing, "read_reply", flaky)
    with pytest.raises(RuntimeError):
        _tonight(night, RISK_TEXT)
    assert _sent(night) == []
    (item,) = night.rows(Item)
    assert item.status == "received"
    assert process_item(item.id) == "processed"
    assert len(_sent(night)) == 1
