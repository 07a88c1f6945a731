"""Holds with an end, on SQLite and PostgreSQL: a review date, the lead's reminder, and an
extension or a release, after which retention treats the case's texts as it treats any."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config.privacy import DataProtection
from bot.db import session_scope
from bot.models import AuditEntry, InboundEvent, Item, ReplyDraft, utcnow
from bot.models.alerts import Alert
from bot.models.dashboard import CaseEvent
from bot.models.privacy import PrivacyHold
from bot.privacy.core_data import REMOVED_BODY, REMOVED_TEXT
from bot.privacy.hold_reviews import (
    ReviewError,
    extend_hold,
    held_cases,
    release_hold,
    remind_due_holds,
)
from bot.privacy.holds import months_later, place_safeguarding_holds, would_hold
from bot.privacy.retention import purge_expired
from tests.privacy.support import SECRET_TEXT, Seeded, seed_message

CONFIG = DataProtection(retention_days=90, hold_review_months=12, hold_reminder_every_days=7)


def _held(engine: Engine, *ages: float) -> list[Seeded]:
    """Safeguarding cases with messages this many days old, held by a retention run."""
    with session_scope(engine) as db:
        seeded = [seed_message(db, age_days=age, case_type="safeguarding") for age in ages]
    with session_scope(engine) as db:
        purge_expired(db, CONFIG)
    return seeded


def _hold(db: Session, seeded: Seeded) -> PrivacyHold:
    return db.exec(select(PrivacyHold).where(PrivacyHold.case_id == seeded.case_id)).one()


def _user(engine: Engine) -> int:
    from bot.web.auth.login import create_user

    with session_scope(engine) as db:
        return create_user(db, "lead", "a-long-enough-password", "safeguarding_lead").id  # type: ignore[return-value]


@pytest.mark.parametrize(("months", "placed", "due"), [
    (12, date(2026, 3, 11), date(2027, 3, 11)),
    (6, date(2026, 8, 31), date(2027, 2, 28)),
    (12, date(2028, 2, 29), date(2029, 2, 28)),
])  # fmt: skip
def test_review_dates_are_whole_months_ahead(months: int, placed: date, due: date) -> None:
    assert months_later(placed, months) == due


def test_a_hold_is_placed_with_its_review_date(db_engine: Engine) -> None:
    [seeded] = _held(db_engine, 200)
    with Session(db_engine) as db:
        hold = _hold(db, seeded)
        assert hold.review_on == months_later(utcnow().date(), 12)
        placed = db.exec(select(AuditEntry).where(AuditEntry.action == "privacy.hold_placed")).one()
        assert placed.detail["review_on"] == hold.review_on.isoformat()  # type: ignore[union-attr]
    with session_scope(db_engine) as db:
        other = seed_message(db, age_days=1, case_type="safeguarding")
        place_safeguarding_holds(db, "system", review_months=3)
    with Session(db_engine) as db:
        assert _hold(db, other).review_on == months_later(utcnow().date(), 3)


def test_retention_erases_a_released_holds_texts_and_keeps_an_extended_ones(
    db_engine: Engine,
) -> None:
    extended, released = _held(db_engine, 200, 200)
    lead = _user(db_engine)
    today = utcnow().date()
    with session_scope(db_engine) as db:
        extend_hold(db, _hold(db, extended).id, review_on=today + timedelta(days=180),  # type: ignore[arg-type]
                    reason="SE 07/12: police enquiry open", user_id=lead, today=today)  # fmt: skip
        release_hold(db, _hold(db, released).id, reason="SE 07/12: closed, no further action",  # type: ignore[arg-type]
                     user_id=lead)  # fmt: skip
    with session_scope(db_engine) as db:
        counts = purge_expired(db, CONFIG)
    assert counts == {"items": 1, "inbound_events": 1, "reply_drafts": 1}
    with Session(db_engine) as db:
        gone = db.get(Item, released.item_id)
        assert gone is not None and (gone.text, gone.author_name) == (None, None)
        assert db.get(InboundEvent, released.event_id).body == REMOVED_BODY  # type: ignore[union-attr]
        assert db.get(ReplyDraft, released.draft_id).text == REMOVED_TEXT  # type: ignore[union-attr]
        kept = db.get(Item, extended.item_id)
        assert kept is not None and kept.text == SECRET_TEXT
        # A released hold stays released: the next run does not place it again.
        assert _hold(db, released).released_at is not None
        assert _hold(db, released).released_by == f"user:{lead}"
        notes = {
            e.case_id: e.text
            for e in db.exec(select(CaseEvent).where(CaseEvent.actor_id == lead)).all()
        }
        actions = db.exec(select(AuditEntry.action).where(AuditEntry.actor == f"user:{lead}"))
        assert set(actions.all()) == {"privacy.hold_extended", "privacy.hold_released"}
        assert not [a for a in db.exec(select(AuditEntry)).all() if "police" in str(a.detail)]
    assert notes[extended.case_id].endswith("Reason: SE 07/12: police enquiry open")
    assert "reviewed again on" in notes[extended.case_id]
    assert notes[released.case_id].startswith("Safeguarding hold released")
    with session_scope(db_engine) as db:
        assert purge_expired(db, CONFIG)["items"] == 0
        assert would_hold(db, [released.case_id, extended.case_id]) == {extended.case_id}  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("days_ahead", "reason", "says"),
    [
        (0, "a reason", "must be after today"),
        (-3, "a reason", "must be after today"),
        (366 * 10 + 3, "a reason", "within ten years"),
        (30, "   ", "Say briefly why"),
        (30, "x" * 501, "Say briefly why"),
    ],
)
def test_an_extension_needs_a_later_date_and_a_reason_and_changes_nothing_otherwise(
    db_engine: Engine, days_ahead: int, reason: str, says: str
) -> None:
    [seeded] = _held(db_engine, 200)
    today = utcnow().date()
    with Session(db_engine) as db:
        hold = _hold(db, seeded)
        with pytest.raises(ReviewError, match=says):
            extend_hold(db, hold.id, review_on=today + timedelta(days=days_ahead),  # type: ignore[arg-type]
                        reason=reason, user_id=1, today=today)  # fmt: skip
        db.rollback()
    with Session(db_engine) as db:
        assert _hold(db, seeded).review_on == months_later(today, 12)
        assert db.exec(select(CaseEvent).where(CaseEvent.actor_id.is_not(None))).all() == []


def test_a_released_hold_cannot_be_released_or_extended_again(db_engine: Engine) -> None:
    [seeded] = _held(db_engine, 200)
    lead = _user(db_engine)
    with session_scope(db_engine) as db:
        hold_id = _hold(db, seeded).id
        release_hold(db, hold_id, reason="done with", user_id=lead)  # type: ignore[arg-type]
    with Session(db_engine) as db:
        with pytest.raises(ReviewError, match="released already"):
            release_hold(db, hold_id, reason="again", user_id=lead)  # type: ignore[arg-type]
        with pytest.raises(ReviewError, match="released already"):
            extend_hold(db, hold_id, review_on=date(2099, 1, 1), reason="r", user_id=lead,  # type: ignore[arg-type]
                        today=utcnow().date())  # fmt: skip
        with pytest.raises(LookupError):
            release_hold(db, 999_999, reason="no such hold", user_id=lead)


def test_the_lead_is_reminded_when_a_review_is_due_then_weekly_until_it_is_decided(
    db_engine: Engine,
) -> None:
    due, later = _held(db_engine, 200, 200)
    now = utcnow()
    with session_scope(db_engine) as db:
        hold = _hold(db, due)
        hold.review_on = now.date() - timedelta(days=1)
        db.add(hold)
    with session_scope(db_engine) as db:
        assert [h.hold.case_id for h in held_cases(db, now.date()) if h.due] == [due.case_id]
        alert = remind_due_holds(db, CONFIG, now=now)
        assert alert is not None
        assert (alert.kind, alert.roles, alert.case_id) == (
            "hold_review",
            ["safeguarding_lead"],
            None,
        )
        assert alert.facts == {"cases": [due.case_id], "count": 1}
    with session_scope(db_engine) as db:
        # Once per due date, then again a week later while nobody has decided.
        assert remind_due_holds(db, CONFIG, now=now + timedelta(days=6)) is None
        assert remind_due_holds(db, CONFIG, now=now + timedelta(days=7)) is not None
    lead = _user(db_engine)
    week = now + timedelta(days=7)
    with session_scope(db_engine) as db:
        extend_hold(db, _hold(db, due).id, review_on=week.date() + timedelta(days=30),  # type: ignore[arg-type]
                    reason="review at the child protection conference", user_id=lead,
                    today=week.date())  # fmt: skip
    with session_scope(db_engine) as db:
        assert remind_due_holds(db, CONFIG, now=week + timedelta(days=14)) is None
        # The new date comes round: reminded again.
        again = remind_due_holds(db, CONFIG, now=week + timedelta(days=30))
        assert again is not None and again.facts["cases"] == [due.case_id]
    with Session(db_engine) as db:
        assert len(db.exec(select(Alert).where(Alert.kind == "hold_review")).all()) == 3
        reminded = db.exec(
            select(AuditEntry.subject_id).where(AuditEntry.action == "privacy.hold_review_due")
        ).all()
        assert set(reminded) == {str(due.case_id)} and str(later.case_id) not in reminded
