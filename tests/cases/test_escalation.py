"""One escalation, whatever starts it (bot/cases/escalation.py), on SQLite and PostgreSQL: the
case becomes a safeguarding case, goes to the lead on duty and pages the lead and deputy on
duty; escalating again joins it; a gap in the rota pages everyone; acknowledging takes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.access import alert_audience
from bot.cases.escalation import CannotEscalate, escalate_case
from bot.config import HavenConfig
from bot.db import session_scope
from bot.models import AuditEntry, Case, User
from bot.models.alerts import Alert, Escalation
from bot.models.dashboard import CaseEvent
from bot.notify.delivery import targets
from bot.notify.escalation import acknowledge, step_escalations
from tests.privacy.support import seed_message

# A Wednesday, 16:55 in London (GMT): five minutes before the day shift hands over.
WEDNESDAY = datetime(2026, 3, 11, 16, 55, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _config(**alerts: Any) -> HavenConfig:
    return HavenConfig.model_validate(
        {
            "alerts": {
                "email": {"enabled": True},
                "roles": {
                    "safeguarding_lead": {"email": ["all-leads@example.org"]},
                    "safeguarding_deputy": {"email": ["all-deputies@example.org"]},
                },
                "people": {"pat": {"email": ["pat@example.org"]},
                           "kim": {"email": ["kim@example.org"]}},
                "rota": {"shifts": [
                    {"days": WEEKDAYS, "from": "09:00", "to": "17:00", "lead": "pat",
                     "deputy": "alex"},
                    {"days": WEEKDAYS, "from": "17:00", "to": "18:00", "lead": "kim"},
                ]},
                **alerts,
            }
        }
    )  # fmt: skip


CONFIG = _config()


@pytest.fixture
def staff(migrated_engine: Engine) -> dict[str, int]:
    with session_scope(migrated_engine) as db:
        users = [User(username=name, password_hash="-", role=role) for name, role in (
            ("mo", "moderator"), ("ad", "admin"), ("pat", "safeguarding_lead"),
            ("kim", "safeguarding_lead"), ("alex", "safeguarding_deputy"))]  # fmt: skip
        db.add_all(users)
        db.flush()
        return {u.username: u.id for u in users}  # type: ignore[misc]


def _support_case(engine: Engine, **seed: Any) -> int:
    with session_scope(engine) as db:
        case_id = seed_message(db, age_days=0, **seed).case_id
    assert case_id is not None
    return case_id


def _escalate(engine: Engine, case_id: int, who: str | None, now: datetime,
              config: HavenConfig = CONFIG) -> Any:  # fmt: skip
    with session_scope(engine) as db:
        by = db.exec(select(User).where(User.username == who)).one() if who else None
        return escalate_case(db, config, db.get(Case, case_id), now, by=by, reason="JW: worried")


def _audit(engine: Engine, case_id: int) -> list[str]:
    with Session(engine) as db:
        rows = db.exec(
            select(AuditEntry.action).where(
                AuditEntry.subject_type == "case", AuditEntry.subject_id == str(case_id)
            )
        ).all()
    return list(rows)


def test_a_moderator_escalating_pages_and_assigns_the_lead_on_duty_and_twice_is_once(
    migrated_engine: Engine, staff: dict[str, int]
) -> None:
    case_id = _support_case(migrated_engine)
    first = _escalate(migrated_engine, case_id, "mo", WEDNESDAY)
    again = _escalate(migrated_engine, case_id, "ad", WEDNESDAY + timedelta(minutes=1))
    assert first.opened and not again.opened and again.escalation_id == first.escalation_id
    with Session(migrated_engine) as db:
        case = db.get(Case, case_id)
        assert (case.case_type, case.status) == ("safeguarding", "escalated")
        assert case.priority == "urgent"
        assert case.assignee_id == staff["pat"]  # the lead on duty, not the other lead
        (escalation,) = db.exec(select(Escalation)).all()
        assert (escalation.status, escalation.category, escalation.severity) == (
            "open", "safeguarding", "high")  # fmt: skip
        (alert,) = db.exec(select(Alert)).all()
        events = db.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
    # The moderator's reason is on the record; the assignment is Haven's, saying why.
    assert [(e.kind, e.actor_id, e.text) for e in events if e.kind != "note"] == [
        ("status", staff["mo"], "JW: worried"),
        ("assign", None, "the safeguarding lead on duty"),
    ]
    assert alert.facts == {
        "raised_by": "a moderator",
        "on_duty": {"safeguarding_lead": "pat", "safeguarding_deputy": "alex"},
    }
    # Pat on their own address; Alex has no entry in `people`, so the deputies' address.
    assert _recipients(migrated_engine, alert) == [
        "all-deputies@example.org", "pat@example.org"]  # fmt: skip
    audit = _audit(migrated_engine, case_id)
    assert audit.count("escalation.opened") == 1 and audit.count("escalation.joined") == 1
    assert audit.count("case.escalated") == 1


def test_re_pages_go_to_whoever_is_on_duty_then_and_acknowledging_takes_the_case(
    migrated_engine: Engine, staff: dict[str, int]
) -> None:
    case_id = _support_case(migrated_engine)
    _escalate(migrated_engine, case_id, None, WEDNESDAY)
    # 17:10: pat's shift has ended. The re-page goes to kim, on duty now, and to every deputy.
    assert step_escalations(migrated_engine, CONFIG, now=WEDNESDAY + timedelta(minutes=15)) == 1
    with Session(migrated_engine) as db:
        repage = db.exec(select(Alert).where(Alert.level == 1)).one()
        escalation = db.exec(select(Escalation)).one()
    assert repage.facts == {"on_duty": {"safeguarding_lead": "kim"}}
    assert _recipients(migrated_engine, repage) == [
        "all-deputies@example.org", "kim@example.org"]  # fmt: skip
    with session_scope(migrated_engine) as db:
        escalation = db.get(Escalation, escalation.id)
        now = WEDNESDAY + timedelta(minutes=20)
        assert acknowledge(db, escalation, user_id=staff["alex"], via="case page", now=now)
        assert not acknowledge(db, escalation, user_id=staff["kim"], via="inbox", now=now)
    with Session(migrated_engine) as db:
        assert db.get(Case, case_id).assignee_id == staff["alex"]
    assert step_escalations(migrated_engine, CONFIG, now=WEDNESDAY + timedelta(hours=3)) == 0


def test_a_gap_in_the_rota_pages_every_lead_and_the_case_waits_for_whoever_acknowledges(
    migrated_engine: Engine, staff: dict[str, int]
) -> None:
    case_id = _support_case(migrated_engine)
    with session_scope(migrated_engine) as db:
        db.get(Case, case_id).assignee_id = staff["mo"]  # it was the moderator's support case
    _escalate(migrated_engine, case_id, "mo", SATURDAY)
    with Session(migrated_engine) as db:
        alert = db.exec(select(Alert)).one()
        case = db.get(Case, case_id)
    assert alert.facts["on_duty"] == {} and alert.out_of_hours is True
    assert _recipients(migrated_engine, alert) == [
        "all-deputies@example.org", "all-leads@example.org"]  # fmt: skip
    # Two leads, nobody on duty: not the moderator's any more (they may not hold it), nobody's yet.
    assert case.assignee_id is None


def test_without_a_rota_the_only_lead_has_it(
    migrated_engine: Engine, staff: dict[str, int]
) -> None:
    with session_scope(migrated_engine) as db:
        db.get(User, staff["kim"]).active = False
    case_id = _support_case(migrated_engine)
    result = _escalate(migrated_engine, case_id, "ad", SATURDAY, _config(rota={}))
    assert result.assignee_id == staff["pat"]
    with Session(migrated_engine) as db:
        assert "on_duty" not in db.exec(select(Alert)).one().facts


def test_a_closed_case_is_not_escalated(migrated_engine: Engine, staff: dict[str, int]) -> None:
    case_id = _support_case(migrated_engine)
    with session_scope(migrated_engine) as db:
        db.get(Case, case_id).status = "closed"
    with pytest.raises(CannotEscalate):
        _escalate(migrated_engine, case_id, "mo", WEDNESDAY)
    with Session(migrated_engine) as db:
        assert db.exec(select(Escalation)).all() == []


def _recipients(engine: Engine, alert: Alert) -> list[str]:
    """Where an alert goes beyond the inbox, for whom it may reach now (bot/cases/access.py)."""
    with Session(engine) as db:
        return sorted(t.recipient for t in targets(CONFIG.alerts, alert, alert_audience(db, alert)))
