"""bot/cases/people.py on SQLite and PostgreSQL: names and handles are encrypted at rest, yet a
part of either finds the person, in any case; a moderator never finds someone known only
through a safeguarding case."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases.people import search_people
from bot.db import session_scope
from bot.models import Item
from tests.privacy.support import seed_message

SAM, RILEY, SUE = "7001", "7002", "7003"


def _seed(engine: Engine) -> None:
    with session_scope(engine) as db:
        people = (
            (SAM, "Sam Ellis", None, "support", 3),
            (RILEY, "Riley Walsh", None, "safeguarding", 2),
            (SUE, None, "kin.Carer_Sue", None, 1),
        )
        for author, name, handle, case_type, age in people:
            seeded = seed_message(db, author=author, age_days=age, case_type=case_type)
            item = db.get(Item, seeded.item_id)
            assert item is not None
            item.author_name, item.author_username = name, handle
            if handle:
                item.platform, item.channel = "instagram", "ig_comment"
            db.add(item)


def _found(engine: Engine, role: str, query: str, **limit: int) -> list[str]:
    with Session(engine) as db:
        return [p.author_id for p in search_people(db, role, query, **limit).people]


def test_a_part_of_a_name_or_handle_finds_the_person_in_any_case(migrated_engine: Engine) -> None:
    _seed(migrated_engine)
    assert _found(migrated_engine, "moderator", "ELL") == [SAM]
    assert _found(migrated_engine, "moderator", "sam ellis") == [SAM]
    assert _found(migrated_engine, "moderator", "@KIN.carer") == [SUE]
    assert _found(migrated_engine, "admin", "carer_s") == [SUE]
    assert _found(migrated_engine, "moderator", "nobody") == []
    assert _found(migrated_engine, "moderator", "s") == []  # too short to mean anyone


def test_someone_known_only_through_a_safeguarding_case_is_found_by_the_lead_alone(
    migrated_engine: Engine,
) -> None:
    _seed(migrated_engine)
    for role in ("moderator", "admin"):
        assert _found(migrated_engine, role, "riley") == []
        assert _found(migrated_engine, role, "walsh") == []
    for role in ("safeguarding_lead", "safeguarding_deputy"):
        assert _found(migrated_engine, role, "riley") == [RILEY]


def test_the_newest_people_come_first_and_a_bounded_scan_says_so(migrated_engine: Engine) -> None:
    _seed(migrated_engine)
    with session_scope(migrated_engine) as db:
        for n, author in enumerate(("7101", "7102", "7103")):  # 7103 wrote most recently
            seeded = seed_message(db, author=author, age_days=0.5 - n / 10, case_type=None)
            item = db.get(Item, seeded.item_id)
            assert item is not None
            item.author_name = f"Alex Morgan-{n}"
            db.add(item)
    assert _found(migrated_engine, "moderator", "alex morgan") == ["7103", "7102", "7101"]
    with Session(migrated_engine) as db:
        bounded = search_people(db, "moderator", "alex", limit=2)
    assert [p.author_id for p in bounded.people] == ["7103", "7102"]
    assert bounded.capped and bounded.scanned == 2
    with Session(migrated_engine) as db:
        whole = search_people(db, "moderator", "alex")
    assert not whole.capped and whole.scanned == 5  # Sam, Sue and the three; not Riley
