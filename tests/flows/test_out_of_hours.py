"""Out of hours, exactly one crisis reply reaches Meta (the local stand-in), on the embedded
default and on PostgreSQL + Redis + a real `haven worker`: whatever Meta re-delivers and
whatever more the person writes tonight, in the comments or in the conversation that follows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import select

from bot.models import Case, OutboundAction, utcnow
from bot.models.alerts import Alert
from bot.notify.out_of_hours import SENT_NOTE
from tests.helpers import REPO, page_comment, write_config
from tests.support.meta_standin import MetaStandIn
from tests.support.stack import (
    MODES,
    HavenStack,
    comment_id,
    production_services,
    running_stack,
)

RISK = "I cannot go on any more, I want to kill myself tonight"
MORE_RISK = "nobody would even notice if I was gone, I want to end my life"
AUTHOR = "6000000000000042"


@pytest.fixture(params=MODES)
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, meta: MetaStandIn
) -> Iterator[HavenStack]:
    """config.yaml as shipped (the crisis reply on), sending for real, with the office shut
    today and the days either side, so the test runs out of hours whenever it runs."""
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    assert shipped["alerts"]["out_of_hours"]["send_crisis_reply"] is True
    path = write_config(tmp_path, dry_run=False)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["alerts"]["out_of_hours"]["send_crisis_reply"] = True
    today = datetime.now(ZoneInfo(config["organisation"]["timezone"])).date()
    shut = [today + timedelta(days=d) for d in (-1, 0, 1)]
    config["working_hours"]["bank_holidays"] = shut
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with running_stack(
        request.param,
        tmp_path,
        path,
        services=production_services(request),
        META_GRAPH_URL=meta.url,
        secrets_in_log=(RISK[:30], MORE_RISK[:30]),
    ) as running:
        yield running


def _messages_to_meta(meta: MetaStandIn) -> list[dict]:
    return [p.body for p in meta.posts() if p.path.endswith("/messages")]


def _done(stack: HavenStack) -> OutboundAction:
    return stack.wait_for(
        lambda s: s.exec(select(OutboundAction).where(OutboundAction.status == "done")).first()
    )


def _crisis_reply(text: str) -> None:
    assert "Our team will be back" in text
    assert all(line in text for line in ("116 123", "85258", "999"))


def test_a_risk_comment_gets_exactly_one_crisis_reply(stack: HavenStack, meta: MetaStandIn) -> None:
    delivery = page_comment(
        RISK, comment="8001", author=AUTHOR, created_time=int(utcnow().timestamp())
    )
    stack.post(delivery)
    first = stack.judged(comment_id(8001))
    action = _done(stack)
    ((reply,),) = [[p.body for p in meta.private_replies(comment_id(8001))]]
    _crisis_reply(reply["message"]["text"])
    assert set(reply["message"]) == {"text"}  # no buttons, nothing else
    # Meta delivers the same webhook again; the person comments again; then they answer
    # the private reply in Messenger (from their Messenger id, which the reply gave back).
    assert stack.post(delivery).get_json()["stored"] == 0
    second = stack.comment(MORE_RISK, author=AUTHOR)
    answer = stack.message(MORE_RISK, sender=meta.messaging_id)
    assert first.case_id == second.case_id == answer.case_id
    assert [a.id for a in stack.rows(OutboundAction)] == [action.id]
    assert len(_messages_to_meta(meta)) == 1
    # The lead is paged as ever, and sees on the case what went and that Haven sent it.
    (case,) = stack.rows(Case)
    assert stack.rows(Alert, Alert.kind == "escalation", Alert.case_id == case.id)
    page = stack.staff("lead", "safeguarding_lead").get(f"/cases/{case.id}").get_data(True)
    assert SENT_NOTE.split(" The rest")[0] in page  # (the apostrophe after it is escaped)
    assert "by Haven, out of hours, without waiting for approval" in page


def test_a_risk_message_gets_exactly_one_crisis_reply(stack: HavenStack, meta: MetaStandIn) -> None:
    sender = "7392015648120999"
    stack.message(RISK, sender=sender)
    _done(stack)
    stack.message(MORE_RISK, sender=sender)
    (sent,) = _messages_to_meta(meta)
    assert sent["recipient"] == {"id": sender}
    assert sent["messaging_type"] == "RESPONSE"  # inside the 24 hours since they wrote
    _crisis_reply(sent["message"]["text"])
    assert len(stack.rows(OutboundAction)) == 1
