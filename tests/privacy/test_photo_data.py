"""What Haven saw in a person's photos is theirs: exported with the rest, erased with the rest,
except on a case under a safeguarding hold."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models.photos import PhotoObservation
from bot.privacy.subject import erase_subject, export_subject, to_json
from tests.privacy.support import OTHER, PERSON, seed_message


def _observe(db: Session, item_id: int, phash: str) -> None:
    db.add(
        PhotoObservation(
            item_id=item_id,
            position=0,
            url_digest="d" * 64,
            status="checked",
            phash=phash,
            people=2,
            faces=2,
            reasons=["2 people, faces visible"],
        )
    )


def test_photo_observations_are_exported_and_erased_but_not_on_a_held_case(
    db_engine: Engine,
) -> None:
    with session_scope(db_engine) as db:
        plain = seed_message(db, age_days=5, with_other=OTHER)
        held = seed_message(db, age_days=3, case_type="safeguarding")
        _observe(db, plain.item_id, "00ff00ff00ff00ff")
        _observe(db, held.item_id, "ff00ff00ff00ff00")
    with session_scope(db_engine) as db:
        exported = json.loads(
            to_json(export_subject(db, "facebook", PERSON, actor="t", source="cli"))
        )
    rows = exported["data"]["photo_observations"]
    assert {r["phash"] for r in rows} == {"00ff00ff00ff00ff", "ff00ff00ff00ff00"}
    assert rows[0]["reasons"] == ["2 people, faces visible"]

    with session_scope(db_engine) as db:
        result = erase_subject(db, "facebook", PERSON, actor="t", source="cli")
    assert result.changed["photo_observations"] == 1
    with Session(db_engine) as db:
        left = db.exec(select(PhotoObservation)).all()
    assert [(o.item_id, o.phash) for o in left] == [(held.item_id, "ff00ff00ff00ff00")]

    with session_scope(db_engine) as db:
        again = erase_subject(db, "facebook", PERSON, actor="t", source="cli")
    assert again.changed.get("photo_observations", 0) == 0
