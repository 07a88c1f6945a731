"""Subject access and erasure for what Haven saw in a person's photos (bot/privacy/subject_data.py).

An observation holds no picture, but its perceptual hash still says "this photo of them", and
its counts say who was in it: erasure deletes the observations of the person's items, except
on a case under a safeguarding hold. The photo-consent register is not here: it holds initials
that staff typed, linked to no account, and is corrected or withdrawn on its own page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.models import Item
from bot.models.photos import PhotoObservation
from bot.privacy.core_data import about_subject


def _observations(
    session: Session, platform: str, author_id: str, held: set[int] | None = None
) -> list[PhotoObservation]:
    query = (
        select(PhotoObservation)
        .join(Item, col(Item.id) == PhotoObservation.item_id)
        .where(about_subject(platform, author_id))
        .order_by(PhotoObservation.id)
    )
    if held:
        query = query.where(or_(col(Item.case_id).is_(None), col(Item.case_id).not_in(held)))
    return list(session.exec(query).all())


def export_observations(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    return [row.model_dump() for row in _observations(session, platform, author_id)]


def erase_observations(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    rows = _observations(session, platform, author_id, held)
    for row in rows:
        session.delete(row)
    return len(rows)
