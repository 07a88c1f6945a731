"""The record of who was erased, so that erasure sticks (webhooks/store.py reads it).

Meta redelivers an update for up to 36 hours, not always byte for byte, and an update written
before an erasure may arrive after it. What the person wrote up to their erasure is not stored
again; what they write afterwards is new, and is moderated like anything else (it may be a cry
for help). The record is a keyed digest of platform and id (bot/crypto.py), never the id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from bot.db import insert_ignoring_duplicates
from bot.models import utcnow
from bot.models.privacy import ErasedSubject, subject_digests


def record_erasure(
    session: Session, platform: str, author_id: str, now: datetime | None = None
) -> None:
    """Note (or move forward) the time this person was erased; safe to race and to repeat."""
    now = now or utcnow()
    digests = subject_digests(platform, author_id)
    session.execute(
        insert_ignoring_duplicates(session, ErasedSubject, "subject_digest"),
        [{"subject_digest": digests[0], "erased_at": now}],
    )
    # A record made under an older data key is brought forward too.
    session.execute(
        update(ErasedSubject)
        .where(col(ErasedSubject.subject_digest).in_(digests))
        .values(erased_at=now)
    )
