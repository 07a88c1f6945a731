"""Drill: every delivery sent three times, out of order, edits before adds, all at once.

Meta delivers at least once, retries for 36 hours and keeps no order. Comments and messages are
each added and edited; each delivery goes three times (twice byte for byte, once batched and
serialised differently), shuffled so that many edits arrive before their adds, and posted from
eight threads to gunicorn with two workers. In the end: each update stored once and judged
once, the edit is the version that counts, and no comment or message has two live findings of
a rule or two suggested replies of a kind.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import Finding, Item, ReplyDraft
from tests.drills.checks import (
    TEXTS,
    Delivery,
    assert_nothing_lost_or_doubled,
    post_all,
    unfinished,
)
from tests.drills.services import (
    HavenProcesses,
    PrivateRedis,
    running_stack,
    wait_until,
)
from tests.helpers import PAGE_ID

pytestmark = pytest.mark.drill

OBJECTS = 24
BASE_TIME = 1_790_000_000


@pytest.fixture
def stack(
    tmp_path: Path, migrated_postgres_url: str, private_redis: PrivateRedis
) -> Iterator[tuple[HavenProcesses, Engine]]:
    with running_stack(tmp_path, migrated_postgres_url, private_redis.url, workers=2) as stack:
        yield stack


def _comment(n: int, verb: str, text: str, when: int) -> dict[str, Any]:
    value = {
        "item": "comment",
        "verb": verb,
        "post_id": f"{PAGE_ID}_900000000000002",
        "comment_id": f"900000000000002_{n:05d}",
        "parent_id": f"{PAGE_ID}_900000000000002",
        "from": {"id": f"6100000000{n % 5:06d}", "name": "Sam Visitor"},
        "message": text,
        "created_time": BASE_TIME + n,
    }
    if verb == "edited":
        value["edited_time"] = when
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": when, "changes": [change]}]}


def _message(n: int, edit: bool, text: str, when: int) -> dict[str, Any]:
    key = "message_edit" if edit else "message"
    body = {"mid": f"m_drill{n:05d}", "text": text, **({"num_edit": 1} if edit else {})}
    event = {
        "sender": {"id": f"6200000000{n % 5:06d}"},
        "recipient": {"id": PAGE_ID},
        "timestamp": when * 1000,
        key: body,
    }
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": when * 1000, "messaging": [event]}]}


def _versions() -> list[tuple[str, dict[str, Any]]]:
    """(external id, payload) for an add and an edit of every comment and message."""
    out = []
    for n in range(OBJECTS):
        first, edited = TEXTS[n % len(TEXTS)], TEXTS[(n + 1) % len(TEXTS)] + " (edited)"
        if n % 2:
            external_id = f"m_drill{n:05d}"
            out.append((external_id, _message(n, False, first, BASE_TIME + n)))
            out.append((external_id, _message(n, True, edited, BASE_TIME + n + 100)))
        else:
            external_id = f"900000000000002_{n:05d}"
            out.append((external_id, _comment(n, "add", first, BASE_TIME + n)))
            out.append((external_id, _comment(n, "edited", edited, BASE_TIME + n + 100)))
    return out


def _three_times_shuffled(
    versions: list[tuple[str, dict[str, Any]]],
) -> tuple[list[Delivery], set[str]]:
    """The deliveries in sending order, and the objects whose edit goes before their add."""
    copies = []
    for number, (external_id, payload) in enumerate(versions):
        compact = json.dumps(payload).encode()
        # A retry Meta batched or serialised differently: same updates, different bytes.
        reworded = json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=True).encode()
        copies += [
            (number % 2 == 1, Delivery(b, external_id)) for b in (compact, compact, reworded)
        ]
    random.Random(10).shuffle(copies)
    first: dict[tuple[str, bool], int] = {}
    for at, (is_edit, delivery) in enumerate(copies):
        first.setdefault((delivery.external_id, is_edit), at)
    edits_first = {x for (x, is_edit), at in first.items() if is_edit and at < first[(x, False)]}
    return [delivery for _, delivery in copies], edits_first


def test_each_delivery_three_times_out_of_order(stack: tuple[HavenProcesses, Engine]) -> None:
    processes, engine = stack
    versions = _versions()
    deliveries, edits_first = _three_times_shuffled(versions)
    assert len(edits_first) >= OBJECTS // 4, "the shuffle must put edits before adds"

    answers = post_all(processes.port, deliveries)
    assert answers == ["200"] * len(deliveries)
    wait_until(lambda: unfinished(engine) == 0, 120, "every update to be processed")
    expected = {external_id for external_id, _ in versions}
    assert_nothing_lost_or_doubled(engine, expected)

    with Session(engine) as session:
        items = session.exec(select(Item)).all()
        assert Counter(i.external_id for i in items) == dict.fromkeys(expected, 2)
        versions_of: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            versions_of[item.external_id].append(item)
        for external_id, both in versions_of.items():
            newest = max(both, key=lambda i: (i.created_at, i.id))
            assert newest.verb == "edited", external_id
            assert newest.status == "processed", external_id
            ids = [i.id for i in both]
            live = session.exec(
                select(Finding).where(Finding.item_id.in_(ids), Finding.superseded_at.is_(None))
            ).all()
            # Only the edit's findings count, apart from risk, which is never retired.
            assert all(f.item_id == newest.id or f.category.startswith("risk.") for f in live), (
                external_id
            )
            drafts = session.exec(
                select(ReplyDraft).where(
                    ReplyDraft.item_id.in_(ids), ReplyDraft.status != "superseded"
                )
            ).all()
            kinds = Counter(d.kind for d in drafts)
            assert all(n == 1 for n in kinds.values()), f"{external_id}: two replies {kinds}"
