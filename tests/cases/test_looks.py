"""bot/cases/looks.py on SQLite and PostgreSQL: a look at a safeguarding case is recorded once,
whoever and wherever it is new, and a reload inside the window adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.looks import LOOK_WINDOW, record_looks
from bot.db import session_scope
from bot.models import AuditEntry, utcnow

LEAD, DEPUTY = "user:1", "user:2"


def _entries(engine: Engine) -> list[tuple[str, str | None, str]]:
    with Session(engine) as db:
        rows = db.exec(
            select(AuditEntry).where(AuditEntry.action == "case.viewed").order_by(AuditEntry.id)
        ).all()
    return [(r.actor, r.subject_id, r.detail["via"]) for r in rows]


@pytest.fixture
def look(migrated_engine: Engine) -> Callable[[str, list[int], str, float], list[int]]:
    """Looks `minutes` after the test's start (entries themselves are stamped as written)."""
    start = utcnow()  # this test's own start: a long run must not age the window

    def at(actor: str, cases: list[int], via: str, minutes: float) -> list[int]:
        with session_scope(migrated_engine) as db:
            return record_looks(db, actor, cases, via, start + timedelta(minutes=minutes))

    return at


def test_reloads_inside_the_window_add_nothing_and_a_new_window_is_a_new_look(
    migrated_engine: Engine, look: Callable[[str, list[int], str, float], list[int]]
) -> None:
    # The audit row's own time is when it is written; the window is measured from it.
    assert look(LEAD, [7, 3], "queue", 0) == [3, 7]
    assert look(LEAD, [3, 7], "queue", 1) == []
    assert look(LEAD, [3, 7, 9], "queue", 2) == [9]  # a case newly shown
    assert _entries(migrated_engine) == [
        (LEAD, "3", "queue"),
        (LEAD, "7", "queue"),
        (LEAD, "9", "queue"),
    ]
    later = LOOK_WINDOW.total_seconds() / 60 + 1
    assert look(LEAD, [3], "queue", later) == [3]
    assert len(_entries(migrated_engine)) == 4


def test_a_second_person_and_another_page_are_looks_of_their_own(
    migrated_engine: Engine, look: Callable[[str, list[int], str, float], list[int]]
) -> None:
    assert look(LEAD, [5], "queue", 0) == [5]
    assert look(DEPUTY, [5], "queue", 0) == [5]
    assert look(LEAD, [5], "case page", 0) == [5]
    assert look(LEAD, [5], "case page", 5) == []
    assert look(DEPUTY, [5], "queue", 5) == []
    assert _entries(migrated_engine) == [
        (LEAD, "5", "queue"),
        (DEPUTY, "5", "queue"),
        (LEAD, "5", "case page"),
    ]


def test_nothing_shown_records_nothing(
    migrated_engine: Engine, look: Callable[[str, list[int], str, float], list[int]]
) -> None:
    assert look(LEAD, [], "queue", 0) == []
    assert _entries(migrated_engine) == []
