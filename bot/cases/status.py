"""A case's status machine: where a case may go next, who may hold it, and moving it on.

Each move is a `case_events` row (append-only: the decision and its reason, who and when) and
an audit entry. The person who moved it is passed in (`actor_id`); nothing here reads a
session or a request, so the dashboard, the CLI and the jobs move cases the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import may_see_case
from bot.cases.follow_up import end_follow_up
from bot.directory.settle import settle_case
from bot.models import Case, Item, User
from bot.models.dashboard import CaseEvent

# Where a case may go next. "new" is where cases start; "closed" is where they end (a new
# message from the person afterwards opens a new case, so nothing is reopened in place).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("awaiting_consent", "matched", "follow_up_due", "escalated", "closed"),
    "awaiting_consent": ("matched", "follow_up_due", "escalated", "closed"),
    "matched": ("awaiting_consent", "follow_up_due", "escalated", "closed"),
    "follow_up_due": ("awaiting_consent", "matched", "escalated", "closed"),
    "escalated": ("awaiting_consent", "matched", "follow_up_due", "closed"),
    "closed": (),
}


def allowed_transitions(case: Case) -> tuple[str, ...]:
    return TRANSITIONS.get(case.status, ())


def may_hold(user: User, case: Case) -> bool:
    """Only the safeguarding roles can be given a safeguarding case."""
    return may_see_case(user.role, case)


def apply_status(
    db: Session,
    case: Case,
    target: str,
    reason: str,
    outcome: str | None,
    now: datetime,
    *,
    actor_id: int,
) -> CaseEvent:
    """Move the case on, with the reason on record; the caller has checked the transition."""
    actor = f"user:{actor_id}"
    previous = case.status
    case.status, case.updated_at = target, now
    if target == "escalated" and case.case_type != "safeguarding":
        # Escalating hands the case to the safeguarding lead: from now it is theirs alone.
        case.case_type = "safeguarding"
        case.priority = "urgent"
    if target == "closed":
        case.closed_at, case.outcome = now, outcome
        # Free the person-and-thread key: their next message opens a new case.
        case.open_key = None
        db.execute(
            update(Item)
            .where(Item.case_id == case.id, Item.reviewed_at.is_(None))
            .values(reviewed_at=now, reviewed_by=actor_id)
        )
    db.add(case)
    event = _event(db, case, now, actor_id, "status", reason,
                   from_status=previous, to_status=target, outcome=outcome)  # fmt: skip
    record(db, actor, "case.status_changed", "case", case.id, **{
        "from": previous, "to": target, "event_id": event.id, "outcome": outcome})  # fmt: skip
    if target == "escalated":
        record(db, actor, "case.escalated", "case", case.id, event_id=event.id)
    if target == "closed":
        # A supporter's place is freed the moment the case closes, not at the next tick.
        settle_case(db, case.id, actor_id=actor_id, now=now)  # type: ignore[arg-type]
        end_follow_up(db, case.id, "case closed", now)  # type: ignore[arg-type]
    mark_first_action(db, item_ids(db, case.id), now)  # type: ignore[arg-type]
    return event


def assign(
    db: Session,
    case: Case,
    assignee_id: int | None,
    now: datetime,
    *,
    actor_id: int | None,
    reason: str | None = None,
) -> CaseEvent:
    """Give the case to someone (None: nobody); `actor_id` None is Haven itself (the rota).

    The caller has checked `may_hold`.
    """
    case.assignee_id, case.updated_at = assignee_id, now
    db.add(case)
    event = _event(db, case, now, actor_id, "assign", reason, assignee_id=assignee_id)
    actor = f"user:{actor_id}" if actor_id is not None else "system"
    record(db, actor, "case.assigned", "case", case.id, assignee_id=assignee_id, event_id=event.id)
    if actor_id is not None:
        mark_first_action(db, item_ids(db, case.id), now)  # type: ignore[arg-type]
    return event


def add_note(db: Session, case: Case, text: str, now: datetime, *, actor_id: int) -> CaseEvent:
    """A member of staff's note on the case; the first thing done about its items, if it is."""
    case.updated_at = now
    db.add(case)
    event = _event(db, case, now, actor_id, "note", text)
    record(db, f"user:{actor_id}", "case.note_added", "case", case.id, event_id=event.id)
    mark_first_action(db, item_ids(db, case.id), now)  # type: ignore[arg-type]
    return event


def _event(
    db: Session,
    case: Case,
    now: datetime,
    actor_id: int | None,
    kind: str,
    text: str | None,
    **fields: object,
) -> CaseEvent:
    """A case_events row (append-only), flushed so its id can go on the audit entry."""
    event = CaseEvent(case_id=case.id, at=now, actor_id=actor_id, kind=kind, text=text, **fields)  # type: ignore[arg-type]
    db.add(event)
    db.flush()
    return event


def item_ids(db: Session, case_id: int) -> list[int]:
    return list(db.exec(select(Item.id).where(Item.case_id == case_id)).all())  # type: ignore[arg-type]


def mark_first_action(db: Session, ids: Iterable[int], at: datetime) -> None:
    """The first thing a person did about these items, for response times; set once."""
    ids = [i for i in ids if i is not None]
    if ids:
        db.execute(
            update(Item)
            .where(Item.id.in_(ids), Item.first_action_at.is_(None))
            .values(first_action_at=at)
        )
