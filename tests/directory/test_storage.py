"""Directory and introduction storage on SQLite and real PostgreSQL: the migrated schema, the
state machine with its compare-and-set steps and load counts, and subject export and erasure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import make_engine, session_scope
from bot.directory.introductions import end, introduce, person_agreed, propose, supporter_agreed
from bot.directory.matching import proposals_for_case
from bot.models import Case
from bot.models.directory import CaseTopic, Introduction, SupportResource
from bot.privacy.subject_data import SUBJECT_DATA
from tests.directory.support import add_case, add_resource, load, storage_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    env = (
        {}
        if request.param == "sqlite"
        else {"DATABASE_URL": request.getfixturevalue("migrated_postgres_url")}
    )
    engine = make_engine(storage_settings(tmp_path, **env).database_url)
    yield engine
    engine.dispose()


def _introduced(engine: Engine, case_id: int, resource_id: int) -> int:
    with session_scope(engine) as db:
        intro = propose(db, case_id, resource_id, actor_id=None, explanation="topic: SEND")
        person_agreed(db, intro.id, {"name": "Sam", "topic": "send"}, actor_id=None)  # type: ignore[arg-type]
        supporter_agreed(db, intro.id, ["name", "topic"], actor_id=None)  # type: ignore[arg-type]
        introduce(db, intro.id, actor_id=None)  # type: ignore[arg-type]
        return intro.id  # type: ignore[return-value]


def test_matching_and_introductions_round_trip(engine: Engine) -> None:
    resource_id = add_resource(engine, topics=["send", "adoption"], capacity=2)
    case_id = add_case(engine)
    with session_scope(engine) as db:
        db.add(CaseTopic(case_id=case_id, topic="send"))
    with Session(engine) as db:
        case = db.get(Case, case_id)
        [proposal] = proposals_for_case(db, case)  # type: ignore[arg-type]
    assert proposal.explanation.endswith("topic: SEND; 2 places left")
    intro_id = _introduced(engine, case_id, resource_id)
    intro = load(engine, Introduction, intro_id)
    assert intro.person_shares == {"name": "Sam", "topic": "send"}
    assert intro.supporter_accepts == ["name", "topic"]
    assert "Name: Sam\nTopic: SEND" in intro.shared_text
    assert load(engine, SupportResource, resource_id).load == 1
    with Session(engine) as db:
        assert proposals_for_case(db, db.get(Case, case_id)) == []  # type: ignore[arg-type]
    with session_scope(engine) as db:
        end(db, intro_id, "closed", "finished", actor_id=None)
    with session_scope(engine) as db:  # a second close changes nothing
        end(db, intro_id, "closed", "finished", actor_id=None)
    assert load(engine, SupportResource, resource_id).load == 0
    assert load(engine, Introduction, intro_id).live_key is None


def test_the_database_refuses_two_live_introductions_of_the_same_pair(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    resource_id = add_resource(engine)
    case_id = add_case(engine)
    with session_scope(engine) as db:
        propose(db, case_id, resource_id, actor_id=None)
    with pytest.raises(IntegrityError):
        with session_scope(engine) as db:
            db.add(
                Introduction(
                    case_id=case_id, resource_id=resource_id, live_key=f"{case_id}:{resource_id}"
                )
            )


def test_subject_export_and_erasure_cover_introductions_and_topics(engine: Engine) -> None:
    kept = add_case(engine, author_id="77")
    erased = add_case(engine, author_id="77")
    other = add_case(engine, author_id="78")
    resource_id = add_resource(engine, topics=["send"], capacity=5)
    for case_id in (kept, erased, other):
        _introduced(engine, case_id, resource_id)
        with session_scope(engine) as db:
            db.add(CaseTopic(case_id=case_id, topic="send"))
    parts = {r.name: r for r in SUBJECT_DATA}
    with Session(engine) as db:
        exported = parts["introductions"].export(db, "facebook", "77")
        topics = parts["case_topics"].export(db, "facebook", "77")
    assert {row["case_id"] for row in exported} == {kept, erased}
    assert exported[0]["details_you_agreed_to_share"] == {"name": "Sam", "topic": "send"}
    assert "Name: Sam" in exported[0]["text_passed_on"]
    assert {row["case_id"] for row in topics} == {kept, erased}
    for expected in (1, 0):  # a second erasure finds nothing left to change
        with session_scope(engine) as db:
            assert parts["introductions"].erase(db, "facebook", "77", {kept}) == expected
            assert parts["case_topics"].erase(db, "facebook", "77", {kept}) == expected
    with Session(engine) as db:
        rows = {i.case_id: i for i in db.exec(select(Introduction)).all()}
        left = sorted(t.case_id for t in db.exec(select(CaseTopic)).all())
    assert rows[erased].person_shares == {} and rows[erased].shared_text is None
    assert rows[erased].status == "introduced"  # the bare record stays, and the load with it
    assert rows[kept].shared_text and rows[other].shared_text  # held, and someone else's
    assert left == sorted([kept, other])
