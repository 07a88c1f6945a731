"""Comment -> private reply asking consent (to a stand-in for Meta) -> "yes" in Messenger ->
consent given on the case; then "stop" withdraws it. On the embedded default and on
PostgreSQL + Redis + a real rq worker process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.models import Case
from bot.models.consent import CaseContact, CaseFollowUp, ConsentRecord
from rules.consent import CONSENT_YES
from tests.helpers import write_config
from tests.support.meta_standin import MetaStandIn
from tests.support.stack import MODES, HavenStack, production_services, running_stack

HELP = "Does anyone else feel like they're failing? I really need someone to talk to."
YES = "Yes please, that would help"
COMMENTER = "6000000000000042"


@pytest.fixture(params=MODES)
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, meta: MetaStandIn
) -> Iterator[HavenStack]:
    with running_stack(
        request.param,
        tmp_path,
        write_config(tmp_path, dry_run=False),
        services=production_services(request),
        secrets_in_log=("failing", "Yes please"),  # neither the comment nor the answer
        META_GRAPH_URL=meta.url,
    ) as running:
        yield running


def _ask_for_consent(stack: HavenStack, meta: MetaStandIn) -> int:
    item = stack.comment(HELP, author=COMMENTER)
    draft = stack.drafts(item)["private"]
    assert draft.template == "help_request"
    stack.approve(stack.staff("admin", "admin"), draft)
    case = stack.wait_for(
        lambda s: s.exec(
            select(Case).where(Case.id == draft.case_id, Case.consent == "asked")
        ).first()
    )
    [sent] = meta.private_replies(item.external_id)
    payloads = [q["payload"] for q in sent.body["message"]["quick_replies"]]
    assert CONSENT_YES in payloads
    with Session(stack.engine) as session:
        fresh = session.get(Case, case.id)
        contact = session.exec(select(CaseContact).where(CaseContact.case_id == case.id)).one()
    assert fresh.status == "awaiting_consent"
    assert (contact.messaging_id, contact.dry_run) == (meta.messaging_id, False)
    return case.id


def test_a_written_yes_in_messenger_gives_consent_and_stop_withdraws_it(
    stack: HavenStack, meta: MetaStandIn
) -> None:
    case_id = _ask_for_consent(stack, meta)
    stack.message(YES, sender=meta.messaging_id, mid="m_yes_1")
    given = stack.wait_for(
        lambda s: s.exec(select(Case).where(Case.id == case_id, Case.consent == "given")).first()
    )
    assert given.consent_at is not None
    with Session(stack.engine) as session:
        records = session.exec(
            select(ConsentRecord).where(ConsentRecord.case_id == case_id).order_by(ConsentRecord.id)
        ).all()
        follow_up = session.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case_id)).one()
        cases = session.exec(select(Case)).all()
    assert [(r.state, r.source) for r in records] == [("asked", "private_reply"), ("given", "text")]
    assert records[1].message_id == "m_yes_1"
    assert follow_up.due_at is not None and follow_up.ended_at is None
    assert len(cases) == 1  # the DM joined the comment's case; no second case

    stop = {"payload": "HAVEN_CONSENT_STOP"}
    stack.message("Stop messages", sender=meta.messaging_id, mid="m_stop_1", quick_reply=stop)
    stack.wait_for(
        lambda s: s.exec(
            select(Case).where(Case.id == case_id, Case.consent == "withdrawn")
        ).first()
    )
    with Session(stack.engine) as session:
        last = session.exec(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case_id)
            .order_by(ConsentRecord.id.desc())
        ).first()
        follow_up = session.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case_id)).one()
    assert (last.state, last.source, last.message_id) == ("withdrawn", "button", "m_stop_1")
    assert follow_up.ended_at is not None  # nobody checks in with someone who said stop
