"""Proposing matches from the support directory for a case, each with its reasons.

`score` and `rank` are pure (need and candidates in, proposals out) and tested directly;
`proposals_for_case` reads what they need from the database. Full entries are shown, so staff
know they exist, but are not offered until a place frees up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from bot.directory.vocabulary import (
    CASE_TYPE_KINDS,
    KIND_LABELS,
    NEED_KINDS,
    NEED_TOPICS,
    need_label,
    topic_label,
)
from bot.models import Case, Finding, Item
from bot.models.directory import LIVE_STATUSES, CaseTopic, Introduction, SupportResource

TOPIC_POINTS = 2.0
# Among equally good matches, the one with more room comes first; never more than this.
ROOM_POINTS_MAX = 1.0


@dataclass(frozen=True)
class Need:
    """What a case asks for: weights per kind of support (and why), and its topics."""

    kinds: dict[str, int]
    kind_reasons: dict[str, str]
    topics: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    id: int
    kind: str
    name: str
    topics: frozenset[str]
    capacity: int | None
    load: int

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.load)


@dataclass(frozen=True)
class Proposal:
    candidate: Candidate
    score: float
    reasons: tuple[str, ...]  # why it fits: the need and the shared topics
    offered: bool
    room: str = ""  # the places left as they are now (places_wording)

    @property
    def explanation(self) -> str:
        return "; ".join(r for r in (*self.reasons, self.room) if r)

    @property
    def why(self) -> str:
        """What an introduction keeps: why it fits. Places change; they are counted when shown."""
        return "; ".join(self.reasons)


def places_wording(capacity: int | None, load: int) -> str:
    """The places a directory entry has now, in words."""
    if capacity is None:
        return "no set limit"
    left = max(0, capacity - load)
    if left == 0:
        return f"full ({load} of {capacity})"
    return f"{left} place{'s' if left != 1 else ''} left"


def need_for(case_type: str, categories: Iterable[str], topics: Iterable[str]) -> Need:
    """The need from the case's findings, falling back on its type, plus its topics."""
    kinds: dict[str, int] = {}
    reasons: dict[str, str] = {}
    found = sorted(set(categories))
    for category in found:
        for kind, weight in NEED_KINDS.get(category, {}).items():
            if weight > kinds.get(kind, 0):
                kinds[kind], reasons[kind] = weight, need_label(category)
    if not kinds:
        for kind, weight in CASE_TYPE_KINDS.get(case_type, {}).items():
            kinds[kind], reasons[kind] = weight, f"{case_type} case"
    implied = {NEED_TOPICS[c] for c in found if c in NEED_TOPICS}
    return Need(kinds=kinds, kind_reasons=reasons, topics=frozenset(topics) | implied)


def score(need: Need, candidate: Candidate) -> Proposal | None:
    """How well one directory entry meets the need, with its reasons; None if not at all."""
    kind_weight = need.kinds.get(candidate.kind, 0)
    shared = sorted(need.topics & candidate.topics, key=topic_label)
    if not kind_weight and not shared:
        return None
    reasons: list[str] = []
    if kind_weight:
        reasons.append(f"need: {need.kind_reasons[candidate.kind]} → {KIND_LABELS[candidate.kind]}")
    if shared:
        reasons.append("topic: " + ", ".join(topic_label(t) for t in shared))
    left = candidate.places_left
    if left is None:
        room, offered = ROOM_POINTS_MAX / 2, True
    elif left == 0:
        room, offered = 0.0, False
    else:
        room, offered = min(left, 4) * ROOM_POINTS_MAX / 4, True
    total = kind_weight + TOPIC_POINTS * len(shared) + room
    return Proposal(
        candidate=candidate,
        score=round(total, 2),
        reasons=tuple(reasons),
        offered=offered,
        room=places_wording(candidate.capacity, candidate.load),
    )


def rank(need: Need, candidates: Iterable[Candidate]) -> list[Proposal]:
    """Offered matches first, best first; then the full ones, for staff to know about."""
    proposals = [p for c in candidates if (p := score(need, c)) is not None]
    return sorted(proposals, key=lambda p: (not p.offered, -p.score, p.candidate.name.lower()))


def case_topics(session: Session, case_id: int) -> list[str]:
    rows = session.exec(select(CaseTopic.topic).where(CaseTopic.case_id == case_id)).all()
    return sorted(rows)


def case_categories(session: Session, case_id: int) -> list[str]:
    """The current (not superseded) finding categories of the case's items."""
    rows = session.exec(
        select(Finding.category)
        .join(Item, Item.id == Finding.item_id)
        .where(Item.case_id == case_id, Finding.superseded_at.is_(None))
        .distinct()
    ).all()
    return sorted(rows)


def candidate_of(resource: SupportResource) -> Candidate:
    return Candidate(
        id=resource.id,  # type: ignore[arg-type]
        kind=resource.kind,
        name=resource.name,
        topics=frozenset(resource.topics or ()),
        capacity=resource.capacity,
        load=resource.load,
    )


def proposals_for_case(session: Session, case: Case) -> list[Proposal]:
    """Ranked proposals for the case among active entries it is not already introduced to."""
    need = need_for(
        case.case_type,
        case_categories(session, case.id),
        case_topics(session, case.id),  # type: ignore[arg-type]
    )
    taken = select(Introduction.resource_id).where(
        Introduction.case_id == case.id, Introduction.status.in_(LIVE_STATUSES)
    )
    resources = session.exec(
        select(SupportResource).where(
            SupportResource.active.is_(True), SupportResource.id.not_in(taken)
        )
    ).all()
    return rank(need, (candidate_of(r) for r in resources))
