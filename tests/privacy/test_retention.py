"""Retention on SQLite and PostgreSQL: old texts go, the minimal record and held cases stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config.privacy import DataProtection
from bot.db import session_scope
from bot.models import AuditEntry, Case, Finding, InboundEvent, Item, ReplyDraft, utcnow
from bot.models.privacy import PrivacyHold
from bot.privacy.core_data import REMOVED_BODY, REMOVED_TEXT
from bot.privacy.holds import SAFEGUARDING_REASON
from bot.privacy.retention import purge_expired, run_retention
from bot.privacy.retention_report import build_report
from tests.privacy.support import SECRET_TEXT, seed_message

CONFIG = DataProtection(retention_days=90, purge_batch_size=500)


def test_old_texts_are_purged_and_the_minimal_case_record_stays(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        old = seed_message(db, age_days=100)
        recent = seed_message(db, age_days=10)
    assert run_retention(db_engine, CONFIG) == 3  # one item, one raw delivery, one draft
    with Session(db_engine) as db:
        item = db.get(Item, old.item_id)
        assert item is not None
        assert (item.text, item.author_name, item.author_username) == (None, None, None)
        assert item.attachments == []
        # The minimal record: who (Meta's id), when, where, and what was found.
        assert item.author_id is not None and item.channel == "fb_comment"
        assert db.exec(select(Finding.category).where(Finding.item_id == item.id)).one() == "pii"
        case = db.get(Case, old.case_id)
        assert case is not None and (case.case_type, case.status) == ("support", "new")
        assert db.get(InboundEvent, old.event_id).body == REMOVED_BODY  # type: ignore[union-attr]
        assert db.get(ReplyDraft, old.draft_id).text == REMOVED_TEXT  # type: ignore[union-attr]
        fresh = db.get(Item, recent.item_id)
        assert fresh is not None and fresh.text == SECRET_TEXT and fresh.author_name == "Jo Visitor"
        assert SECRET_TEXT in db.get(InboundEvent, recent.event_id).body  # type: ignore[union-attr]
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "retention.purged")).one()
        assert entry.detail["items"] == 1 and SECRET_TEXT not in str(entry.detail)


def test_safeguarding_cases_are_held_with_the_reason_recorded(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        held = seed_message(db, age_days=200, case_type="safeguarding")
    with session_scope(db_engine) as db:
        assert purge_expired(db, CONFIG) == {"items": 0, "inbound_events": 0, "reply_drafts": 0}
    with Session(db_engine) as db:
        item = db.get(Item, held.item_id)
        assert item is not None and item.text == SECRET_TEXT
        assert SECRET_TEXT in db.get(InboundEvent, held.event_id).body  # type: ignore[union-attr]
        hold = db.exec(select(PrivacyHold).where(PrivacyHold.case_id == held.case_id)).one()
        assert hold.reason == SAFEGUARDING_REASON and hold.placed_by == "system"
        placed = db.exec(select(AuditEntry).where(AuditEntry.action == "privacy.hold_placed")).one()
        assert placed.subject_id == str(held.case_id)
        report = build_report(db, CONFIG)
    assert [(h.case_id, h.items_kept_past_retention) for h in report.held] == [(held.case_id, 1)]
    assert report.held[0].reason == SAFEGUARDING_REASON


def test_purging_is_batched_and_idempotent(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        for _ in range(5):
            seed_message(db, age_days=95, case_type=None)
    small = DataProtection(retention_days=90, purge_batch_size=2)
    runs = []
    for _ in range(4):
        with session_scope(db_engine) as db:
            runs.append(purge_expired(db, small)["items"])
    assert runs == [2, 2, 1, 0]
    with Session(db_engine) as db:
        assert db.exec(select(Item).where(Item.text.is_not(None))).all() == []
        audit_runs = db.exec(select(AuditEntry).where(AuditEntry.action == "retention.purged"))
        # Only runs that removed something are recorded.
        assert len(audit_runs.all()) == 3


def test_the_report_says_what_was_purged_and_what_is_due_next(db_engine: Engine) -> None:
    now = utcnow()
    with session_scope(db_engine) as db:
        seed_message(db, age_days=120, now=now)
        seed_message(db, age_days=88.5, now=now)  # due in about a day and a half
        seed_message(db, age_days=30, now=now)
    with Session(db_engine) as db:
        before = build_report(db, CONFIG, now=now)
    assert before.overdue_items == 1 and before.purge_runs == 0
    with session_scope(db_engine) as db:
        purge_expired(db, CONFIG, now=now)
    with Session(db_engine) as db:
        report = build_report(db, CONFIG, now=now)
    assert report.purged == {"items": 1, "inbound_events": 1, "reply_drafts": 1}
    assert report.overdue_items == 0 and report.purge_runs == 1
    due_day = (now - timedelta(days=88.5) + timedelta(days=90)).date()
    assert report.due_next == {due_day: 1}
    text = "\n".join(report.lines())
    assert "Purged so far: 1 items, 1 inbound events, 1 reply drafts in 1 runs" in text
    assert SECRET_TEXT not in text and "Jo" not in text


def test_the_tick_runs_retention(app) -> None:  # type: ignore[no-untyped-def]
    from workers.jobs import tick

    engine = app.extensions["haven"].engine  # the app installed its context for jobs
    with session_scope(engine) as db:
        old = seed_message(db, age_days=91, case_type=None)
    counts = tick()
    assert counts["retention_purged"] == 3
    with Session(engine) as db:
        assert db.get(Item, old.item_id).text is None  # type: ignore[union-attr]
    assert tick()["retention_purged"] == 0
