"""The photo-consent register: initials only, and a photo found again by its hash after
Facebook re-encodes and resizes it; withdrawn or lapsed consent is not consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import AuditEntry, User, utcnow
from bot.photos.analysis import photo_hash
from bot.photos.consent import (
    ConsentRefused,
    consent_for,
    record_consent,
    withdraw_consent,
)
from tests.photos.pictures import jpeg, landscape, people, png

MAX_PIXELS = 40_000_000
TODAY = utcnow().date()


@pytest.fixture
def staff_id(migrated_engine: Engine) -> int:
    with session_scope(migrated_engine) as db:
        user = User(username="angela", password_hash="x", role="admin")
        db.add(user)
        db.flush()
        assert user.id is not None
        return user.id


def _record(db: Session, staff_id: int, phash: str, **fields: object) -> object:
    values: dict[str, object] = {
        "description": "picnic, face painting",
        "consented_by": "J.W.",
        "consented_for": "self, A.W.",
        "method": "written form",
        "given_on": TODAY - timedelta(days=3),
        "until": None,
        **fields,
    }
    return record_consent(db, "user:1", staff_id, phash=phash, **values)  # type: ignore[arg-type]


def _hash(data: bytes) -> str:
    return photo_hash(data, max_pixels=MAX_PIXELS)


def test_a_registered_photo_is_found_after_a_re_encode_and_resize(
    migrated_engine: Engine, staff_id: int
) -> None:
    original = people(2)
    with session_scope(migrated_engine) as db:
        _record(db, staff_id, _hash(png(original)))
    posted = _hash(jpeg(original, quality=70, scale=0.5))  # as Facebook serves it back
    other = _hash(jpeg(landscape()))
    with Session(migrated_engine) as db:
        found = consent_for(db, posted, TODAY, max_distance=10)
        assert found is not None and found.consented_for == "self, A.W."
        assert consent_for(db, other, TODAY, max_distance=10) is None
        entry = db.exec(
            select(AuditEntry).where(AuditEntry.action == "photo_consent.recorded")
        ).one()
    # The audit log says that consent was recorded, not who gave it.
    assert "J.W." not in str(entry.detail)


def test_withdrawn_or_lapsed_consent_is_not_matched(migrated_engine: Engine, staff_id: int) -> None:
    photo = jpeg(people(3))
    with session_scope(migrated_engine) as db:
        lapsed = _record(db, staff_id, _hash(photo), until=TODAY - timedelta(days=1))
        withdrawn = _record(db, staff_id, _hash(photo))
        withdraw_consent(db, "user:1", staff_id, withdrawn.id)  # type: ignore[attr-defined]
    with Session(migrated_engine) as db:
        assert consent_for(db, _hash(photo), TODAY, max_distance=10) is None
        # On a day it still held, the lapsed one is found.
        before = TODAY - timedelta(days=2)
        assert consent_for(db, _hash(photo), before, 10).id == lapsed.id  # type: ignore[union-attr,attr-defined]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"consented_by": "Jo Williams"}, "initials only"),
        ({"consented_for": "her son Jack"}, "initials only"),
        ({"consented_for": " , "}, "For whom"),
        ({"method": "telepathy"}, "How was consent given"),
        ({"until": TODAY - timedelta(days=10)}, "cannot end before"),
        ({"given_on": TODAY + timedelta(days=2), "until": None}, "once it has been given"),
        ({"description": "   "}, "Describe the photo"),
    ],
)
def test_what_cannot_be_recorded_says_why_and_leaves_nothing(
    migrated_engine: Engine, staff_id: int, fields: dict[str, object], says: str
) -> None:
    with pytest.raises(ConsentRefused, match=says), session_scope(migrated_engine) as db:
        _record(db, staff_id, "8f3c0a1b2c3d4e5f", **fields)
    with Session(migrated_engine) as db:
        assert consent_for(db, "8f3c0a1b2c3d4e5f", TODAY, 64) is None


def test_initials_are_stored_in_capitals(migrated_engine: Engine, staff_id: int) -> None:
    with session_scope(migrated_engine) as db:
        consent = _record(db, staff_id, "8f3c0a1b2c3d4e5f", consented_by=" j.w. ",
                          consented_for="SELF,a.w.")  # fmt: skip
        assert consent.consented_by == "J.W."  # type: ignore[attr-defined]
        assert consent.consented_for == "self, A.W."  # type: ignore[attr-defined]
