"""Subject access and erasure for introductions and case topics (bot/privacy/subject_data.py).

What an introduction holds about the person is in the details they agreed to share and the
text passed on; a case's topics (bereavement, domestic abuse...) are about them too. Erasure
blanks the first and deletes the second, except on cases a safeguarding hold keeps. The
introduction's bare record (which supporter, when, by whom) stays: the supporter's load and
the audit log refer to it, and it says nothing about the person once blanked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.models import Case
from bot.models.directory import CaseTopic, Introduction, SupportResource


def _case_ids(session: Session, platform: str, author_id: str) -> list[int]:
    rows = session.exec(
        select(Case.id).where(Case.platform == platform, Case.author_id == author_id)
    ).all()
    return [r for r in rows if r is not None]


def export_introductions(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    cases = _case_ids(session, platform, author_id)
    rows = session.exec(
        select(Introduction, SupportResource.kind)
        .join(SupportResource, col(SupportResource.id) == Introduction.resource_id)
        .where(col(Introduction.case_id).in_(cases))
        .order_by(col(Introduction.id))
    ).all()
    return [
        {
            "introduction_id": intro.id,
            "case_id": intro.case_id,
            "kind_of_support": kind,
            "status": intro.status,
            "proposed_at": intro.proposed_at,
            "person_agreed_at": intro.person_agreed_at,
            "details_you_agreed_to_share": intro.person_shares,
            "supporter_agreed_at": intro.supporter_agreed_at,
            "introduced_at": intro.introduced_at,
            "text_passed_on": intro.shared_text,
            "ended_at": intro.ended_at,
            "end_reason": intro.end_reason,
        }
        for intro, kind in rows
    ]


def erase_introductions(
    session: Session, platform: str, author_id: str, held_case_ids: set[int]
) -> int:
    cases = [c for c in _case_ids(session, platform, author_id) if c not in held_case_ids]
    # Filtered here, not in SQL: PostgreSQL's json type has no equality to test {} with.
    intros = session.exec(select(Introduction).where(col(Introduction.case_id).in_(cases))).all()
    changed = 0
    for intro in intros:
        if intro.person_shares or intro.shared_text is not None:
            intro.person_shares, intro.shared_text = {}, None
            session.add(intro)
            changed += 1
    return changed


def export_case_topics(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    cases = _case_ids(session, platform, author_id)
    rows = session.exec(
        select(CaseTopic).where(col(CaseTopic.case_id).in_(cases)).order_by(col(CaseTopic.id))
    ).all()
    return [{"case_id": t.case_id, "topic": t.topic, "set_at": t.set_at} for t in rows]


def erase_case_topics(
    session: Session, platform: str, author_id: str, held_case_ids: set[int]
) -> int:
    cases = [c for c in _case_ids(session, platform, author_id) if c not in held_case_ids]
    if not cases:
        return 0
    result = session.execute(delete(CaseTopic).where(col(CaseTopic.case_id).in_(cases)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
