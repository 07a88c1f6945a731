"""Introductions: both sides' consent, only agreed details shared, capacity kept, audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import make_engine, session_scope
from bot.directory.introductions import (
    Refused,
    end,
    introduce,
    person_agreed,
    propose,
    settle_all,
    supporter_agreed,
)
from bot.directory.shares import introduction_text, validate_shares
from bot.models import AuditEntry, Case
from bot.models.dashboard import CaseEvent
from bot.models.directory import Introduction, SupportResource
from bot.web.auth.login import create_user
from rules import load_ruleset
from rules.schema import RulesConfig
from tests.directory.support import (
    add_case,
    add_resource,
    load,
    set_consent,
    storage_settings,
)

SHARES = {
    "name": "Sam",
    "topic": "kinship_care",
    "area": "East Suffolk",
    "availability": "weekday evenings",
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(storage_settings(tmp_path).database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def staff_id(engine: Engine) -> int:
    with session_scope(engine) as db:
        return create_user(db, "coordinator", "correct horse battery", "moderator").id  # type: ignore[return-value]


def _step(engine: Engine, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with session_scope(engine) as db:
        result = fn(db, *args, **kwargs)
        return result.id if isinstance(result, Introduction) else result


def _agreed_by_both(engine: Engine, staff_id: int, resource_id: int, case_id: int) -> int:
    intro_id = _step(engine, propose, case_id, resource_id, actor_id=staff_id)
    _step(engine, person_agreed, intro_id, SHARES, actor_id=staff_id)
    _step(engine, supporter_agreed, intro_id, ["name", "topic", "availability"], actor_id=staff_id)
    return intro_id


def _proposed(engine: Engine, staff_id: int, **case: str) -> tuple[int, int, int]:
    """A new case proposed to a new entry: (entry, case, introduction)."""
    resource_id = add_resource(engine)
    case_id = add_case(engine, **case)
    return resource_id, case_id, _step(engine, propose, case_id, resource_id, actor_id=staff_id)


def _introduced(engine: Engine, staff_id: int, *, capacity: int) -> tuple[int, int, int]:
    """A new case introduced to a new entry with `capacity` places: (entry, case, introduction)."""
    resource_id = add_resource(engine, capacity=capacity)
    case_id = add_case(engine)
    intro_id = _agreed_by_both(engine, staff_id, resource_id, case_id)
    _step(engine, introduce, intro_id, actor_id=staff_id)
    return resource_id, case_id, intro_id


def test_the_whole_way_shares_only_what_both_agreed_and_takes_a_place(
    engine: Engine, staff_id: int
) -> None:
    resource_id, case_id, intro_id = _introduced(engine, staff_id, capacity=2)
    intro = load(engine, Introduction, intro_id)
    assert intro.status == "introduced" and intro.introduced_by == staff_id
    # The area was the person's to share, but the supporter did not take it: not passed on.
    assert intro.shared_text == (
        "We would like to introduce someone who would welcome your support.\n"
        "Name: Sam\nTopic: kinship care\nAvailability: weekday evenings\n"
        "Please reply to us and we will arrange a private first contact."
    )
    assert "East Suffolk" not in intro.shared_text
    assert load(engine, SupportResource, resource_id).load == 1
    case = load(engine, Case, case_id)
    assert case.status == "matched"
    with Session(engine) as db:
        event = db.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).one()
        actions = [a.action for a in db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert actions[0] == "user.created"
    assert (event.from_status, event.to_status, event.actor_id) == ("new", "matched", staff_id)
    assert actions[1:] == [
        "introduction.proposed",
        "introduction.person_agreed",
        "introduction.supporter_agreed",
        "introduction.introduced",
        "case.status_changed",
    ]


def test_every_step_is_idempotent_and_the_load_counts_once(engine: Engine, staff_id: int) -> None:
    resource_id = add_resource(engine, capacity=3)
    case_id = add_case(engine)
    first = _step(engine, propose, case_id, resource_id, actor_id=staff_id)
    assert _step(engine, propose, case_id, resource_id, actor_id=staff_id) == first
    intro_id = _agreed_by_both(engine, staff_id, resource_id, case_id)
    assert intro_id == first
    for _ in range(2):
        _step(engine, person_agreed, intro_id, {"name": "Other"}, actor_id=staff_id)
        _step(engine, introduce, intro_id, actor_id=staff_id)
    assert load(engine, Introduction, intro_id).person_shares["name"] == "Sam"
    assert load(engine, SupportResource, resource_id).load == 1
    for _ in range(2):
        _step(engine, end, intro_id, "closed", "support finished", actor_id=staff_id)
    assert load(engine, SupportResource, resource_id).load == 0
    with Session(engine) as db:
        closes = db.exec(select(AuditEntry).where(AuditEntry.action == "introduction.closed"))
        assert len(closes.all()) == 1


@pytest.mark.parametrize("consent", ["not_asked", "asked", "declined", "withdrawn"])
def test_nothing_goes_ahead_without_the_persons_consent(
    engine: Engine, staff_id: int, consent: str
) -> None:
    _, case_id, intro_id = _proposed(engine, staff_id, consent="given")
    set_consent(engine, case_id, consent)
    with pytest.raises(Refused, match="consent"):
        _step(engine, person_agreed, intro_id, SHARES, actor_id=staff_id)
    assert load(engine, Introduction, intro_id).status == "proposed"


def test_the_order_is_person_then_supporter_then_introduction(
    engine: Engine, staff_id: int
) -> None:
    resource_id, _, intro_id = _proposed(engine, staff_id)
    with pytest.raises(Refused, match="Both sides must agree"):
        _step(engine, introduce, intro_id, actor_id=staff_id)
    with pytest.raises(Refused, match="The person agrees first"):
        _step(engine, supporter_agreed, intro_id, ["name"], actor_id=staff_id)
    _step(engine, person_agreed, intro_id, {"topic": "kinship_care"}, actor_id=staff_id)
    with pytest.raises(Refused, match="Both sides must agree"):
        _step(engine, introduce, intro_id, actor_id=staff_id)
    with pytest.raises(Refused, match="from those the person agreed to"):
        _step(engine, supporter_agreed, intro_id, ["name"], actor_id=staff_id)
    assert load(engine, SupportResource, resource_id).load == 0


def test_withdrawn_consent_cancels_pending_introductions_but_not_made_ones(
    engine: Engine, staff_id: int
) -> None:
    case_id = add_case(engine)
    made = _agreed_by_both(engine, staff_id, add_resource(engine), case_id)
    _step(engine, introduce, made, actor_id=staff_id)
    pending = _step(engine, propose, case_id, add_resource(engine), actor_id=staff_id)
    set_consent(engine, case_id, "withdrawn")
    assert _step(engine, settle_all) == 1
    assert _step(engine, settle_all) == 0
    cancelled = load(engine, Introduction, pending)
    assert (cancelled.status, cancelled.end_reason) == ("cancelled", "consent withdrawn")
    assert cancelled.live_key is None
    assert load(engine, Introduction, made).status == "introduced"
    with pytest.raises(Refused, match="consent"):
        _step(engine, propose, case_id, add_resource(engine), actor_id=staff_id)


def test_a_closed_case_ends_its_introductions_and_frees_the_places(
    engine: Engine, staff_id: int
) -> None:
    resource_id, case_id, intro_id = _introduced(engine, staff_id, capacity=1)
    with session_scope(engine) as db:
        case = db.get(Case, case_id)
        case.status, case.open_key = "closed", None  # type: ignore[union-attr]
        db.add(case)
    assert _step(engine, settle_all) == 1
    assert load(engine, Introduction, intro_id).status == "closed"
    assert load(engine, SupportResource, resource_id).load == 0


def test_a_full_entry_is_refused_and_a_refused_introduction_takes_no_place(
    engine: Engine, staff_id: int
) -> None:
    resource_id = add_resource(engine, capacity=1)
    first = _agreed_by_both(engine, staff_id, resource_id, add_case(engine))
    second = _agreed_by_both(engine, staff_id, resource_id, add_case(engine))
    _step(engine, introduce, first, actor_id=staff_id)
    with pytest.raises(Refused, match="full"):
        _step(engine, introduce, second, actor_id=staff_id)
    assert load(engine, Introduction, second).status == "supporter_agreed"
    with pytest.raises(Refused, match="full"):
        _step(engine, propose, add_case(engine), resource_id, actor_id=staff_id)
    _step(engine, end, first, "cancelled", "supporter unwell", actor_id=staff_id)
    assert load(engine, SupportResource, resource_id).load == 0
    _step(engine, introduce, second, actor_id=staff_id)
    assert load(engine, SupportResource, resource_id).load == 1


def test_declining_ends_a_pending_introduction_without_touching_the_load(
    engine: Engine, staff_id: int
) -> None:
    resource_id, case_id, intro_id = _proposed(engine, staff_id)
    with pytest.raises(Refused, match="cannot be closed"):
        _step(engine, end, intro_id, "closed", "finished", actor_id=staff_id)
    _step(engine, end, intro_id, "declined", "person prefers a group", actor_id=staff_id)
    assert load(engine, Introduction, intro_id).status == "declined"
    assert load(engine, SupportResource, resource_id).load == 0
    # Declined ends it: the same pair can be proposed afresh later.
    again = _step(engine, propose, case_id, resource_id, actor_id=staff_id)
    assert again != intro_id


def test_identifying_details_are_refused() -> None:
    ruleset = load_ruleset(RulesConfig())
    assert validate_shares(SHARES, ruleset) == []
    assert any("one word" in e for e in validate_shares({"name": "Sam Ellis"}))
    assert any("no numbers" in e for e in validate_shares({"area": "12 High Street"}))
    (refused,) = validate_shares({"availability": "call 07700 900123"}, ruleset)
    assert "(gives a phone number)" in refused and "pii." not in refused
    assert validate_shares({}) == ["Tick at least one detail the person agreed to share."]
    assert "Unknown detail: address." in validate_shares({"address": "x"})


def test_the_text_holds_the_agreed_details_and_nothing_else() -> None:
    assert introduction_text({"topic": "send"}) == (
        "We would like to introduce someone who would welcome your support.\n"
        "Topic: SEND\nPlease reply to us and we will arrange a private first contact."
    )
