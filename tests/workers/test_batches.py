"""Batches: many items claimed, judged and written at once give what one by one gives.

Every delivery is stored twice, in two fresh databases of the same engine; one is processed
item by item (batch size 1, as before batching), the other in one batch, and what each wrote
is compared row for row.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import workers.processing
from bot.audit.chain import verify
from bot.config import HavenConfig
from bot.config.hours import WEEKDAYS, WorkingHours
from bot.db import make_engine, session_scope
from bot.models import Alert, AuditEntry, Case, Finding, Item, OutboundAction, ReplyDraft
from bot.semantic import detection_ruleset
from rules import RuleSet
from tests.helpers import (
    IG_ID,
    PAGE_ID,
    edited,
    load_payload,
    make_settings,
    page_comment,
    removed,
    signed_post,
)
from tests.support import databases
from webhooks.events import parse_payload
from webhooks.store import store_delivery
from workers.batches import (
    BatchOutcome,
    _claim_times,
    _renew_claim,
    claim_batch,
    claim_ready,
    process_batch,
)
from workers.processing import claim_item

HELP = "I really need someone to talk to about our adoption, it's been so hard lately"
MORE_HELP = "Can someone message me about the carers support group please, I'm struggling"
RISK = "I can't do this any more, I want to kill myself"
PHONE = "Could someone ring me back on 07700 900123, I need to talk to someone about our adoption"
PLAIN = "Is the group on this week?"
TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00)?")  # when a timer is due: the clock's
# SQL statements per item for the batch of 9 mixed items below, on PostgreSQL (issue 20):
# 16.3 before the batch read ahead and wrote without savepoints, 5.6 after. Out of office
# hours a risk's reply is rewritten and sent at once, and each message is checked for a crisis
# reply to send (bot/notify/out_of_hours.py): 8.2.
STATEMENTS_PER_ITEM = {"in hours": 6.0, "out of hours": 8.5}


def comment(text: str, number: int, author: int) -> dict[str, Any]:
    """Page comment `number` by person `author`, written `number` seconds into the run."""
    return page_comment(
        text, comment=str(number), author=f"6{author:015d}", created_time=1_790_000_000 + number
    )


def run_batch(engine: Engine, ruleset: RuleSet, config: HavenConfig, first: int) -> BatchOutcome:
    """What a worker's job for item `first` does: claim a batch with it, then process it."""
    return process_batch(engine, ruleset, config, claim_batch(engine, first, 8))


def mixed_deliveries() -> list[dict[str, Any]]:
    """Help, risk, personal details, edits, removals, DMs, Instagram, the page's own post."""
    phone = comment(PHONE, 8004, 3)
    original = comment(HELP, 8005, 4)
    return [
        # Two messages of one person in one thread: one case.
        comment(HELP, 8001, 1),
        comment(MORE_HELP, 8002, 1),
        comment(RISK, 8003, 2),
        phone,
        original,
        edited(original, PHONE, 1_790_009_005),  # the edit and its original in one batch
        comment(PLAIN, 8006, 5),
        removed(phone, 1_790_009_004),
        load_payload("fb_dm_text_image.json"),
        load_payload("ig_comment.json"),
        load_payload("ig_dm_batch.json"),
        load_payload("fb_page_own_post.json"),
        load_payload("fb_comment_unicode.json"),
    ]


def store(engine: Engine, deliveries: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for payload in deliveries:
        with session_scope(engine) as session:
            stored = store_delivery(
                session, json.dumps(payload), parse_payload(payload), {PAGE_ID, IG_ID}
            )
        ids += stored.new_item_ids
    return ids


@pytest.fixture
def config(tmp_path: Path) -> HavenConfig:
    return make_settings(tmp_path).config


@pytest.fixture
def ruleset(config: HavenConfig) -> RuleSet:
    # The bot's own detector: the rules and, where installed, the learned stage.
    return detection_ruleset(config.rules)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh migrated databases of one engine: one for each path."""
    if request.param == "sqlite":
        urls = [
            f"sqlite:///{databases.copy_sqlite_template(tmp_path / f'{name}.sqlite')}"
            for name in ("single", "batch")
        ]
        engines = [make_engine(url) for url in urls]
        yield engines[0], engines[1]
    else:
        template = request.getfixturevalue("postgres_template")
        with (
            databases.postgres_database(template=template) as single,
            databases.postgres_database(template=template) as batch,
        ):
            engines = [make_engine(single), make_engine(batch)]
            yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()


def one_by_one(engine: Engine, ruleset: RuleSet, config: HavenConfig, ids: list[int]) -> None:
    for item_id in ids:
        assert claim_batch(engine, item_id, 1) == [item_id]
        outcome = process_batch(engine, ruleset, config, [item_id])
        assert outcome.done == [item_id], outcome.failed


def snapshot(engine: Engine) -> dict[str, Any]:
    """What processing wrote, without the clock's times."""
    with Session(engine) as session:
        audit = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
        return {
            "items": sorted(
                (i.id, i.status, i.case_id, i.hidden, i.removed_at is not None, i.error)
                for i in session.exec(select(Item)).all()
            ),
            "findings": sorted(
                (
                    f.item_id,
                    f.rule,
                    f.category,
                    f.severity,
                    round(f.score, 4),
                    f.span_start,
                    f.span_end,
                    f.superseded_at is None,
                )
                for f in session.exec(select(Finding)).all()
            ),  # fmt: skip
            "cases": sorted(
                (c.id, c.case_type, c.status, c.priority, c.severity, c.open_key)
                for c in session.exec(select(Case)).all()
            ),
            "drafts": sorted(
                (d.item_id, d.case_id, d.kind, d.template, d.status, d.text)
                for d in session.exec(select(ReplyDraft)).all()
            ),
            "alerts": sorted(
                (a.kind, a.category or "", a.case_id or 0, a.item_id or 0)
                for a in session.exec(select(Alert)).all()
            ),
            "actions": sorted(
                (a.kind, a.item_id, a.status) for a in session.exec(select(OutboundAction)).all()
            ),
            "audit": sorted(
                (
                    e.actor,
                    e.action,
                    e.subject_type,
                    e.subject_id or "",
                    TIME.sub("<time>", json.dumps(e.detail, sort_keys=True)),
                )
                for e in audit
            ),  # fmt: skip
        }


def test_a_batch_writes_exactly_what_one_by_one_writes(
    two_engines: tuple[Engine, Engine], ruleset: RuleSet, config: HavenConfig
) -> None:
    single, batched = two_engines
    deliveries = mixed_deliveries()
    ids = store(single, deliveries)
    assert store(batched, deliveries) == ids and len(ids) >= 14

    one_by_one(single, ruleset, config, ids)
    claimed = claim_batch(batched, ids[0], 64)
    assert claimed == ids
    outcome = process_batch(batched, ruleset, config, claimed)
    assert outcome.done == ids and not outcome.failed

    expected, got = snapshot(single), snapshot(batched)
    for table in expected:
        assert got[table] == expected[table], table
    # It is a real mix: cases of both kinds, drafts, alerts and a retired version.
    assert {c[1] for c in got["cases"]} >= {"safeguarding", "support"}
    assert got["drafts"] and got["alerts"] and "superseded" in {i[1] for i in got["items"]}
    with Session(batched) as session:
        assert verify(session).ok
        assert verify(session).checked == len(got["audit"])


def test_two_messages_of_one_conversation_in_one_batch_join_one_case(
    migrated_engine: Engine, ruleset: RuleSet, config: HavenConfig
) -> None:
    ids = store(
        migrated_engine,
        [
            comment(HELP, 8101, 11),
            comment(MORE_HELP, 8102, 11),
            comment(RISK, 8103, 11),
        ],
    )  # fmt: skip
    assert run_batch(migrated_engine, ruleset, config, ids[0]).done == ids
    with Session(migrated_engine) as session:
        (case,) = session.exec(select(Case)).all()
        linked = {i.case_id for i in session.exec(select(Item)).all()}
    assert linked == {case.id}
    assert case.case_type == "safeguarding"  # the risk in the third message walls it off


def test_an_edit_and_its_original_in_one_batch_answer_once(
    migrated_engine: Engine, ruleset: RuleSet, config: HavenConfig
) -> None:
    original = page_comment(PHONE, comment="8201", created_time=1_790_000_001)
    # The edit arrives first, as Meta may send it.
    ids = store(migrated_engine, [edited(original, HELP, 1_790_000_100), original])
    assert run_batch(migrated_engine, ruleset, config, ids[0]).done == ids
    with Session(migrated_engine) as session:
        edit, first = (session.get(Item, i) for i in ids)
        drafts = session.exec(select(ReplyDraft).where(ReplyDraft.status == "draft")).all()
        live = session.exec(select(Finding).where(Finding.superseded_at.is_(None))).all()  # type: ignore[union-attr]
    assert (edit.status, first.status) == ("processed", "superseded")
    assert {d.item_id for d in drafts} == {edit.id}  # the newest text is the one answered
    assert "pii.phone" not in {f.category for f in live}


def test_an_item_that_raises_does_not_lose_the_others(
    migrated_engine: Engine, ruleset: RuleSet, config: HavenConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = store(
        migrated_engine,
        [comment(text, 8300 + n, 300 + n) for n, text in enumerate([HELP, PHONE, MORE_HELP, RISK])],
    )
    poisoned = ids[1]
    draft_replies = workers.processing.draft_replies

    def breaks_on_one(session: Session, ruleset: RuleSet, item: Item, *args: Any, **kw: Any) -> Any:
        if item.id == poisoned:
            raise RuntimeError("a bug that only this item meets")
        return draft_replies(session, ruleset, item, *args, **kw)

    monkeypatch.setattr(workers.processing, "draft_replies", breaks_on_one)
    outcome = run_batch(migrated_engine, ruleset, config, ids[0])
    assert outcome.done == [i for i in ids if i != poisoned]
    assert list(outcome.failed) == [poisoned]
    with Session(migrated_engine) as session:
        items = {i.id: i for i in session.exec(select(Item)).all()}
        findings = session.exec(select(Finding)).all()
        assert verify(session).ok
    assert all(items[i].status == "processed" for i in outcome.done)
    # Handed back whole for its retry: nothing of its failed attempt was kept.
    assert (items[poisoned].status, items[poisoned].error) == ("received", "RuntimeError")
    assert poisoned not in {f.item_id for f in findings}
    assert {f.item_id for f in findings} == set(outcome.done)

    monkeypatch.setattr(workers.processing, "draft_replies", draft_replies)
    assert claim_item(migrated_engine, poisoned)  # its own job's retry
    assert process_batch(migrated_engine, ruleset, config, [poisoned]).done == [poisoned]


def test_only_fresh_waiting_items_join_a_batch(
    migrated_engine: Engine, ruleset: RuleSet, config: HavenConfig
) -> None:
    ids = store(
        migrated_engine,
        [comment(PLAIN, 8400 + n, 400 + n) for n in range(5)],
    )
    assert claim_item(migrated_engine, ids[3])  # another worker's, being done
    with session_scope(migrated_engine) as session:
        retried = session.get(Item, ids[4])
        retried.attempts = 1  # failed once: it goes alone, with its own job
        session.add(retried)
    assert claim_batch(migrated_engine, ids[0], 3) == ids[:3]
    assert claim_batch(migrated_engine, ids[1], 3) == []  # its job: already claimed
    assert claim_ready(migrated_engine, 10) == []


def test_a_batch_keeps_only_the_items_its_claim_still_holds_after_a_slow_photo_step(
    migrated_engine: Engine,
) -> None:
    # The sweep hands an item claimed too long ago to another worker; the first worker, back
    # from its downloads, must not judge it as well.
    ids = store(migrated_engine, [comment(PLAIN, 8500 + n, 500 + n) for n in range(3)])
    assert claim_batch(migrated_engine, ids[0], 3) == ids
    claimed_at = _claim_times(migrated_engine, ids)
    assert sorted(claimed_at) == ids
    with session_scope(migrated_engine) as session:
        taken = session.get(Item, ids[1])
        taken.status = "received"  # what the sweep does to a stuck item
        session.add(taken)
    time.sleep(0.01)  # another worker's claim is a later moment
    assert claim_item(migrated_engine, ids[1])  # ... and another worker claims it
    assert _renew_claim(migrated_engine, claimed_at) == [ids[0], ids[2]]
    renewed = _claim_times(migrated_engine, ids)
    assert renewed[ids[0]] > claimed_at[ids[0]] and renewed[ids[2]] > claimed_at[ids[2]]
    assert _renew_claim(migrated_engine, claimed_at) == []  # the old claim holds nothing now


class Recorder:
    """A queue that keeps what it is asked to run and runs nothing."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple, str]] = []

    def enqueue(self, func: str, *args: object, job_id: str, retry: bool = True) -> None:
        self.jobs.append((func, args, job_id))


def test_a_job_takes_the_waiting_items_and_queues_again_one_that_failed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rq job: its own item and the waiting ones in one batch; the others' jobs find
    them taken; an item that failed alone is released and put back on the queue."""
    from bot.context import current
    from workers import jobs

    queue = Recorder()
    app.extensions["haven"].enqueuer = queue  # the webhook's: stores, runs nothing
    monkeypatch.setattr(current(), "enqueuer", queue)  # the jobs'
    for n, text in enumerate([HELP, PHONE, PLAIN]):
        assert signed_post(app.test_client(), comment(text, 8500 + n, 500 + n)).status_code == 200
    draft_replies = workers.processing.draft_replies

    def breaks_on_two(session: Session, ruleset: RuleSet, item: Item, *args: Any, **kw: Any) -> Any:
        if item.id == 2:
            raise RuntimeError("a bug that only this item meets")
        return draft_replies(session, ruleset, item, *args, **kw)

    monkeypatch.setattr(workers.processing, "draft_replies", breaks_on_two)
    queue.jobs.clear()
    assert jobs.process_item(1) == "processed"
    assert jobs.process_item(3) == "already claimed"
    with Session(app.extensions["haven"].engine) as session:
        statuses = {i.id: i.status for i in session.exec(select(Item)).all()}
    assert statuses == {1: "processed", 2: "received", 3: "processed"}
    assert ("workers.jobs.process_item", (2,)) in {(f, a) for f, a, _ in queue.jobs}
    monkeypatch.setattr(workers.processing, "draft_replies", draft_replies)
    assert jobs.process_item(2) == "processed"


def test_workers_claiming_at_once_never_take_the_same_item(migrated_engine: Engine) -> None:
    """Four workers claim batches from 60 waiting items at the same moment: every item is
    taken once (SKIP LOCKED on PostgreSQL; one writer at a time on SQLite)."""
    import threading

    ids = store(migrated_engine, [comment(PLAIN, 8600 + n, 600 + n) for n in range(60)])
    start = threading.Barrier(4)
    taken: list[list[list[int]]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        start.wait()
        while batch := claim_ready(migrated_engine, 7):
            taken[n].append(batch)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    batches = [batch for worker_batches in taken for batch in worker_batches]
    every = [item_id for batch in batches for item_id in batch]
    assert sorted(every) == ids  # all of them, none twice
    # No more than asked for: once, on PostgreSQL, one claim took every waiting item.
    assert max(len(batch) for batch in batches) <= 7
    with Session(migrated_engine) as session:
        attempts = {i.attempts for i in session.exec(select(Item)).all()}
    assert attempts == {1}


@pytest.fixture
def postgres_engine(migrated_postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_postgres_url)
    yield engine
    engine.dispose()


def _hours(when: str, timezone: str) -> WorkingHours:
    """Office hours that make now `when`, whatever the clock says: open all day every day,
    or open only on a day three days off (the worker judges against the clock)."""
    if when == "in hours":
        return WorkingHours(days=WEEKDAYS, opens=dt_time.min, closes=dt_time.max)
    today = datetime.now(ZoneInfo(timezone)).weekday()
    return WorkingHours(days=(WEEKDAYS[(today + 3) % 7],), opens=dt_time.min, closes=dt_time.max)


@pytest.mark.postgres
@pytest.mark.parametrize("when", STATEMENTS_PER_ITEM)
def test_a_batch_asks_the_database_little_per_item(
    postgres_engine: Engine, ruleset: RuleSet, config: HavenConfig, when: str
) -> None:
    """Issue 20: what a batch shares is read once and what it writes goes in few statements
    (workers/batch_context.py, bot/db.py's add_unless_taken). The bound is a little above what
    these items take, so a query that creeps back into the per-item path fails here. Office
    hours are set, so the count does not depend on the time of day the suite runs."""
    config = config.model_copy(update={"working_hours": _hours(when, config.organisation.timezone)})
    deliveries = mixed_deliveries()
    # Comments (two in one thread, risk, personal details, an edit with its original), a
    # direct message with a picture and an Instagram comment.
    ids = store(postgres_engine, [*deliveries[:6], deliveries[8], deliveries[9]])
    assert len(ids) == 9
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    event.listen(postgres_engine, "before_cursor_execute", count)
    try:
        claimed = claim_batch(postgres_engine, ids[0], len(ids))
        outcome = process_batch(postgres_engine, ruleset, config, claimed)
    finally:
        event.remove(postgres_engine, "before_cursor_execute", count)
    assert outcome.done == ids
    with Session(postgres_engine) as session:
        cases = session.exec(select(Case)).all()
        drafts = session.exec(select(ReplyDraft)).all()
        assert verify(session).ok
    # A real mix: a safeguarding case and another, drafts.
    assert {c.case_type for c in cases} >= {"safeguarding", "support"} and drafts
    assert len(statements) / len(ids) <= STATEMENTS_PER_ITEM[when], "\n".join(statements)


def test_a_case_closed_after_the_batch_read_it_is_not_joined(
    migrated_engine: Engine, ruleset: RuleSet, config: HavenConfig
) -> None:
    from bot.judging import message_of
    from workers.cases import attach_to_case, open_cases, open_key

    (first,) = store(migrated_engine, [comment(HELP, 8201, 12)])
    assert run_batch(migrated_engine, ruleset, config, first).done == [first]
    (second,) = store(migrated_engine, [comment(MORE_HELP, 8202, 12)])
    with Session(migrated_engine) as batch:
        item = batch.get(Item, second)
        assert item is not None
        known = open_cases(batch, {open_key(item)})  # what a batch reads as it begins
        (earlier,) = [c for c in known.values() if c is not None]
        with session_scope(migrated_engine) as staff:  # meanwhile, staff close that case
            closing = staff.get(Case, earlier.id)
            assert closing is not None
            closing.status, closing.open_key = "closed", None
            staff.add(closing)
        findings = ruleset.evaluate(message_of(item, no_family_posts=False))
        case = attach_to_case(batch, item, findings, known)
        batch.commit()
        assert case is not None and case.id != earlier.id
    with Session(migrated_engine) as session:
        closed = session.get(Case, earlier.id)
        assert closed is not None and closed.status == "closed" and closed.open_key is None
