"""Subject access and erasure, on SQLite and PostgreSQL, including a safeguarding hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import AuditEntry, Case, InboundEvent, Item, ReplyDraft
from bot.models.dashboard import CaseEvent, PersonMark
from bot.models.privacy import PrivacyHold
from bot.privacy import subject
from bot.privacy.core_data import REMOVED_BODY, REMOVED_TEXT
from bot.privacy.holds import SAFEGUARDING_REASON
from bot.privacy.subject import erase_subject, export_subject, to_json
from bot.privacy.subject_data import SUBJECT_DATA, SubjectData
from tests.privacy.support import OTHER, PERSON, SECRET_TEXT, seed_message
from tests.support.append_only import assert_refused_as_append_only


def _seed_person(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as db:
        plain = seed_message(db, age_days=5, with_other=OTHER)
        held = seed_message(db, age_days=3, case_type="safeguarding")
        db.add(PersonMark(platform="facebook", author_id=PERSON, reason="shared Lily's school"))
    return {"plain": plain, "held": held}


def test_export_holds_everything_about_the_person_and_is_audited(db_engine: Engine) -> None:
    seeded = _seed_person(db_engine)
    with session_scope(db_engine) as db:
        exported = export_subject(db, "facebook", PERSON, actor="cli", source="cli")
    data = json.loads(to_json(exported))
    items = data["data"]["items"]
    assert {i["id"] for i in items} == {seeded["plain"].item_id, seeded["held"].item_id}
    assert all(i["text"] == SECRET_TEXT and i["author_name"] == "Jo Visitor" for i in items)
    assert items[0]["findings"][0]["category"] == "pii"
    assert {c["id"] for c in data["data"]["cases"]} == {
        seeded["plain"].case_id,
        seeded["held"].case_id,
    }
    assert data["data"]["case_events"][0]["text"] == "Spoke to Jo about Lily"
    assert data["data"]["reply_drafts"][0]["text"].startswith("Thanks Jo")
    assert data["data"]["person_marks"][0]["reason"] == "shared Lily's school"
    # Raw deliveries are listed, not copied: they carry other people's messages too.
    assert all(
        set(e) == {"id", "received_at", "body_removed"} for e in data["data"]["inbound_events"]
    )
    assert "hello all" not in to_json(exported)
    with Session(db_engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "subject.exported")).one()
    assert entry.detail["counts"]["items"] == 2
    assert PERSON not in json.dumps(entry.detail) and PERSON != entry.subject_id


def test_erasure_keeps_the_safeguarding_case_and_says_why(db_engine: Engine) -> None:
    seeded = _seed_person(db_engine)
    plain, held = seeded["plain"], seeded["held"]
    with session_scope(db_engine) as db:
        result = erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
    assert result.changed["items"] == 1 and result.changed["inbound_events"] == 1
    assert result.changed["reply_drafts"] == 1 and result.changed["case_events"] == 1
    assert result.changed["cases"] == 1 and result.changed["person_marks"] == 1
    assert [k.case_id for k in result.kept if k.case_id] == [held.case_id]
    assert any(k.reason == SAFEGUARDING_REASON for k in result.kept)
    assert any(k.what == "community removal mark" for k in result.kept)
    with Session(db_engine) as db:
        item = db.get(Item, plain.item_id)
        assert item is not None and item.text is None and item.author_id is None
        assert item.author_name is None and item.attachments == []
        # The other person in the same delivery keeps their normalised item.
        other = db.exec(select(Item).where(Item.author_id == OTHER)).one()
        assert other.text == "hello all"
        assert db.get(InboundEvent, plain.event_id).body == REMOVED_BODY  # type: ignore[union-attr]
        assert db.get(ReplyDraft, plain.draft_id).text == REMOVED_TEXT  # type: ignore[union-attr]
        assert db.get(CaseEvent, plain.note_id).text == REMOVED_TEXT  # type: ignore[union-attr]
        case = db.get(Case, plain.case_id)
        assert case is not None and case.author_id is None and case.status == "closed"
        assert case.case_type == "support"  # the minimal record stays
        # The safeguarding case and everything on it are kept as they were.
        kept = db.get(Item, held.item_id)
        assert kept is not None and kept.text == SECRET_TEXT and kept.author_id == PERSON
        assert SECRET_TEXT in db.get(InboundEvent, held.event_id).body  # type: ignore[union-attr]
        assert db.get(CaseEvent, held.note_id).text == "Spoke to Jo about Lily"  # type: ignore[union-attr]
        hold = db.exec(select(PrivacyHold).where(PrivacyHold.case_id == held.case_id)).one()
        assert hold.reason == SAFEGUARDING_REASON
        mark = db.exec(select(PersonMark)).one()
        assert mark.reason == REMOVED_TEXT and mark.lifted_at is None
        entries = db.exec(select(AuditEntry).where(AuditEntry.action.like("subject.%"))).all()
    assert [e.action for e in entries] == ["subject.erased"]
    assert entries[0].detail["held_cases"] == [held.case_id]
    logged = json.dumps([e.detail for e in entries]) + str([e.subject_id for e in entries])
    assert PERSON not in logged and "Lily" not in logged


def test_erasing_twice_changes_nothing_the_second_time(db_engine: Engine) -> None:
    _seed_person(db_engine)
    with session_scope(db_engine) as db:
        first = erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
    with session_scope(db_engine) as db:
        second = erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
    assert first.total > 0 and second.total == 0
    assert [k.case_id for k in second.kept if k.case_id] == [
        k.case_id for k in first.kept if k.case_id
    ]


def test_case_notes_may_only_be_blanked_not_rewritten(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        seeded = seed_message(db, age_days=1)
    assert_refused_as_append_only(
        db_engine,
        "UPDATE case_events SET text = 'something else'",
        "UPDATE case_events SET kind = 'status'",
        f"UPDATE case_events SET text = '{REMOVED_TEXT}', outcome = 'changed'",
        "DELETE FROM case_events",
    )
    with db_engine.begin() as connection:
        connection.execute(text(f"UPDATE case_events SET text = '{REMOVED_TEXT}'"))
    with Session(db_engine) as db:
        assert db.get(CaseEvent, seeded.note_id).text == REMOVED_TEXT  # type: ignore[union-attr]


def test_a_listed_table_is_exported_and_erased_with_the_held_cases(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, set[int]]] = []

    def export(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
        return [{"who": author_id}]

    def erase(session: Session, platform: str, author_id: str, held: set[int]) -> int:
        calls.append((platform, author_id, held))
        return 1

    monkeypatch.setattr(
        subject, "SUBJECT_DATA", (SubjectData("test_extra", export, erase), *SUBJECT_DATA)
    )
    names = [entry.name for entry in subject.SUBJECT_DATA]
    # Others run before the core tables unlink the person from items and cases.
    for other in ("test_extra", "consent_and_case_notes", "introductions", "case_topics"):
        assert names.index(other) < names.index("cases") < names.index("items")
    seeded = _seed_person(db_engine)
    with session_scope(db_engine) as db:
        exported = export_subject(db, "facebook", PERSON, actor="cli", source="cli")
        result = erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
    assert exported["data"]["test_extra"] == [{"who": PERSON}]
    assert result.changed["test_extra"] == 1
    assert calls == [("facebook", PERSON, {seeded["held"].case_id})]
