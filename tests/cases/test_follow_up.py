"""The follow-up timer, driven by passing `now`: due after N days, reminded once, snoozed,
re-set after a match, routed to the assignee's role, never after closing."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlmodel import Session, select

from bot.cases.consent import set_consent
from bot.config import HavenConfig
from bot.db import session_scope
from bot.models import Case, utcnow
from bot.models.alerts import Alert
from bot.models.consent import CaseFollowUp
from bot.models.dashboard import CaseEvent
from tests.cases.support import asked_case
from workers.follow_up import remind_due, run_follow_ups


def _give(app: Flask, case_id: int, at, days: int = 3) -> None:  # type: ignore[no-untyped-def]
    with session_scope(app.extensions["haven"].engine) as db:
        case = db.get(Case, case_id)
        set_consent(db, case, "given", source="staff", now=at, follow_up_days=days)  # type: ignore[arg-type]


def _alerts(app: Flask, case_id: int) -> list[Alert]:
    with Session(app.extensions["haven"].engine) as db:
        return list(
            db.exec(select(Alert).where(Alert.kind == "follow_up", Alert.case_id == case_id))
        )


def test_a_follow_up_falls_due_after_three_days_and_reminds_once(app: Flask) -> None:
    engine = app.extensions["haven"].engine
    case = asked_case(app)
    start = utcnow()
    _give(app, case.id, start)  # type: ignore[arg-type]
    assert remind_due(engine, now=start + timedelta(days=2, hours=23)) == []
    assert remind_due(engine, now=start + timedelta(days=3, minutes=1)) == [case.id]
    assert remind_due(engine, now=start + timedelta(days=4)) == []  # idempotent
    with Session(engine) as db:
        fresh = db.get(Case, case.id)
        events = db.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert fresh is not None and fresh.status == "follow_up_due"
    assert any(e.to_status == "follow_up_due" and e.actor_id is None for e in events)
    [alert] = _alerts(app, case.id)  # type: ignore[arg-type]
    # Category and a link, never content; nobody assigned: the moderators.
    assert (alert.category, alert.roles, alert.facts, alert.item_id) == (
        "follow_up", ["moderator"], {}, None)  # fmt: skip


def test_the_reminder_goes_to_the_assignees_role(app: Flask) -> None:
    engine = app.extensions["haven"].engine
    case = asked_case(app)
    with session_scope(engine) as db:
        from bot.web.auth.login import create_user

        lead = create_user(db, "carer-lead", "a-long-enough-password", "safeguarding_deputy")
        db.flush()
        fresh = db.get(Case, case.id)
        fresh.assignee_id = lead.id  # type: ignore[union-attr]
        db.add(fresh)
    start = utcnow()
    _give(app, case.id, start, days=5)  # type: ignore[arg-type]
    assert remind_due(engine, now=start + timedelta(days=4)) == []
    assert remind_due(engine, now=start + timedelta(days=5, seconds=1)) == [case.id]
    assert [a.roles for a in _alerts(app, case.id)] == [["safeguarding_deputy"]]  # type: ignore[arg-type]


def test_a_match_re_sets_the_follow_up_from_the_match(app: Flask) -> None:
    engine = app.extensions["haven"].engine
    case = asked_case(app)
    start = utcnow()
    _give(app, case.id, start)  # type: ignore[arg-type]
    matched_at = start + timedelta(days=2)
    with session_scope(engine) as db:
        fresh = db.get(Case, case.id)
        fresh.status = "matched"  # type: ignore[union-attr]
        db.add(fresh)
        event = CaseEvent(case_id=case.id, at=matched_at, kind="status", to_status="matched")  # type: ignore[arg-type]
        db.add(event)
    counts = run_follow_ups(engine, HavenConfig(), now=matched_at + timedelta(minutes=5))
    assert counts["follow_ups_scheduled"] == 1
    with Session(engine) as db:
        row = db.exec(select(CaseFollowUp).where(CaseFollowUp.case_id == case.id)).one()
    assert abs(row.due_at - (matched_at + timedelta(days=3))) < timedelta(seconds=1)  # type: ignore[operator]
    assert row.reason == "matched with support"
    # A second pass changes nothing: the follow-up was set after the match.
    again = run_follow_ups(engine, HavenConfig(), now=matched_at + timedelta(minutes=6))
    assert again["follow_ups_scheduled"] == 0


def test_a_closed_case_is_never_reminded(app: Flask) -> None:
    engine = app.extensions["haven"].engine
    case = asked_case(app)
    start = utcnow()
    _give(app, case.id, start)  # type: ignore[arg-type]
    with session_scope(engine) as db:
        fresh = db.get(Case, case.id)
        fresh.status, fresh.open_key = "closed", None  # type: ignore[union-attr]
        db.add(fresh)
    assert remind_due(engine, now=start + timedelta(days=10)) == []
    assert _alerts(app, case.id) == []  # type: ignore[arg-type]


def test_the_default_is_three_days_and_configurable() -> None:
    assert HavenConfig().cases.follow_up_days == 3
    assert HavenConfig.model_validate({"cases": {"follow_up_days": 7}}).cases.follow_up_days == 7
