"""The safeguarding record in subject access and erasure: exported, and kept while held."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import utcnow
from bot.models.record import RecordEntry
from bot.privacy.core_data import REMOVED_TEXT
from bot.privacy.subject import erase_subject, export_subject, to_json
from tests.privacy.support import PERSON, seed_message

WRITTEN = "Told Northshire's duty desk about Lily"


def _entry(case_id: int | None) -> RecordEntry:
    return RecordEntry(case_id=case_id, kind="action", basis="fact", happened_at=utcnow(),
                       text=WRITTEN, by_whom="JW", told_whom="A.B. at Northshire")  # fmt: skip


def test_the_record_is_exported_and_kept_while_its_case_is_held(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        held = seed_message(db, age_days=3, case_type="safeguarding")
        # A case no longer held (a hold released after its review) loses what staff wrote.
        released = seed_message(db, age_days=5)
        db.add_all([_entry(held.case_id), _entry(released.case_id)])
    with session_scope(db_engine) as db:
        exported = json.loads(
            to_json(export_subject(db, "facebook", PERSON, actor="cli", source="cli"))
        )
    rows = exported["data"]["safeguarding_record"]
    assert [(r["table"], r["text"]) for r in rows] == [
        ("safeguarding_record_entries", WRITTEN),
        ("safeguarding_record_entries", WRITTEN),
    ]
    for expected in (1, 0):  # a second erasure changes nothing
        with session_scope(db_engine) as db:
            result = erase_subject(db, "facebook", PERSON, actor="cli", source="cli")
        assert result.changed["safeguarding_record"] == expected
    with Session(db_engine) as db:
        kept, blanked = db.exec(select(RecordEntry).order_by(RecordEntry.id)).all()
    assert (kept.text, kept.told_whom) == (WRITTEN, "A.B. at Northshire")
    assert (blanked.text, blanked.by_whom, blanked.told_whom) == (REMOVED_TEXT,) * 3
    assert blanked.reason is None and (blanked.kind, blanked.basis) == ("action", "fact")
