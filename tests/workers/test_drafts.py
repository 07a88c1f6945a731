"""Which reply is drafted when a message reads two ways (policy 000 §6, "Community Boundary")."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import Finding, ReplyDraft
from tests.helpers import page_comment
from tests.workers.support import store_and_judge

# Each is outside our remit and also asks for help: policy 000 §6 wants the boundary reply.
OUT_OF_REMIT_HELP = [
    "Do I need a solicitor? I'm a kinship carer and would love to talk to someone who gets it",
    "Can I take ibuprofen with sertraline? I really need someone to talk to",
    "Can someone help me with my PIP tribunal? I really need someone to talk to",
    "Looking for support, can we get legal aid for the family court?",
]


@pytest.mark.parametrize("text", OUT_OF_REMIT_HELP)
def test_the_boundary_reply_wins_over_the_help_reply(migrated_engine: Engine, text: str) -> None:
    payload = page_comment(text, comment="9101", created_time=1_790_000_000)
    item_id = store_and_judge(migrated_engine, payload)
    with Session(migrated_engine) as session:
        tops = {f.category.split(".")[0] for f in session.exec(select(Finding)).all()}
        drafts = session.exec(select(ReplyDraft).where(ReplyDraft.item_id == item_id)).all()
    assert {"out_of_remit", "help_request"} <= tops  # it really does read both ways
    assert {d.kind: d.template for d in drafts} == {"public": "boundary", "private": "boundary"}
