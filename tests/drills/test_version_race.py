"""Drill: an edit judged by one worker while another is still judging its add, on PostgreSQL.

The burst drills leave this to chance; here the timing is forced. Worker 1 has judged the add
(its suggested replies written, not yet committed) when the edit arrives and worker 2 judges
it. Before versions were locked, worker 2 could not see the add's drafts to retire them, and
the comment ended with two live suggestions of the same kind: two replies a person might
approve, and two posts under one comment.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlmodel import Session, select

from bot.db import make_engine, session_scope
from bot.models import Item, ReplyDraft
from rules import load_ruleset
from tests.helpers import PAGE_ID, page_comment
from webhooks.events import parse_payload
from webhooks.store import store_delivery
from workers.processing import handle_item

pytestmark = [pytest.mark.drill, pytest.mark.postgres]

HELP = "Does anyone else feel like they're failing? I really need someone to talk to"
EDITED = HELP + ", please, anyone"


def _store(engine, payload: dict) -> int:  # type: ignore[no-untyped-def]
    import json

    with session_scope(engine) as session:
        stored = store_delivery(session, json.dumps(payload), parse_payload(payload), {PAGE_ID})
    (item_id,) = stored.new_item_ids
    return item_id


def test_an_edit_judged_during_its_add_leaves_one_suggestion(migrated_postgres_url: str) -> None:
    engine = make_engine(migrated_postgres_url)
    ruleset = load_ruleset()
    add = page_comment(HELP, comment="9001", created_time=1_790_000_000)
    edit = page_comment(EDITED, comment="9001", created_time=1_790_000_000)
    edit["entry"][0]["changes"][0]["value"].update(verb="edited", edited_time=1_790_000_100)
    add_id = _store(engine, add)

    first = Session(engine)
    handle_item(first, ruleset, add_id)  # judged, not committed
    edit_id = _store(engine, edit)
    finished = threading.Event()

    def second_worker() -> None:
        with session_scope(engine) as session:
            handle_item(session, ruleset, edit_id)
        finished.set()

    worker = threading.Thread(target=second_worker)
    worker.start()
    time.sleep(1.0)
    waited = not finished.is_set()  # the edit waits for the add's judgement to be committed
    first.commit()
    first.close()
    worker.join(30)
    assert finished.is_set()

    with Session(engine) as session:
        live = session.exec(
            select(ReplyDraft).where(
                ReplyDraft.item_id.in_((add_id, edit_id)), ReplyDraft.status != "superseded"
            )
        ).all()
        statuses = {i.id: i.status for i in session.exec(select(Item)).all()}
    kinds = Counter(d.kind for d in live)
    assert kinds and all(n == 1 for n in kinds.values()), f"two live suggestions: {kinds}"
    assert {d.item_id for d in live} == {edit_id}, "the add's suggestions were not retired"
    assert waited
    assert statuses == {add_id: "processed", edit_id: "processed"}
    engine.dispose()
