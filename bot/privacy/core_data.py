"""Subject access and erasure for the core tables: items, raw deliveries, drafts, cases, notes.

What is about a platform user: the items they wrote, the Page's messages in their DM thread
(Messenger and Instagram thread ids are the person's id), the raw deliveries those came in or
that name them, the replies drafted to them, their cases with the notes on them, and a
removal mark. Findings, outbound actions and alerts hold no text or names (categories, ids,
statuses), except the words "why?" quoted from a message, which go with its text: they are
exported with the items and kept, as the minimal record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.cases.weighing import forget_weighed_words
from bot.models import Case, Finding, InboundEvent, Item, OutboundAction, ReplyDraft, utcnow
from bot.models.dashboard import CaseEvent, PersonMark
from bot.models.privacy import REMOVED_BODY
from bot.privacy.removals import blank_rows, mark_removed, not_removed

# What blanked text reads as. Case notes may only ever be changed to this (migration 0005).
REMOVED_TEXT = "[removed: data protection]"
ERASURE = "erasure"
ERASED_OUTCOME = "personal data erased on request"


def about_subject(platform: str, author_id: str) -> Any:
    """Items written by the person or in their private conversation with the Page."""
    return (Item.platform == platform) & or_(
        Item.author_id == author_id, Item.thread_id == author_id
    )


def subject_case_ids(session: Session, platform: str, author_id: str) -> set[int]:
    """Their cases: opened for them, or holding one of their items."""
    own = session.exec(
        select(Case.id).where(Case.platform == platform, Case.author_id == author_id)
    ).all()
    via_items = session.exec(
        select(Item.case_id).where(about_subject(platform, author_id), Item.case_id.is_not(None))
    ).all()
    return {i for i in (*own, *via_items) if i is not None}


def _kept(held: set[int]) -> Any:
    """Items not on a held case (those keep everything)."""
    return or_(Item.case_id.is_(None), col(Item.case_id).not_in(held or {-1}))


def _row(model: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in model.model_dump().items() if k not in leave_out}


def export_items(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    items = session.exec(
        select(Item).where(about_subject(platform, author_id)).order_by(Item.id)
    ).all()
    rows = []
    for item in items:
        row = _row(item)
        row["findings"] = [
            {"rule": f.rule, "category": f.category, "severity": f.severity, "at": f.created_at}
            for f in session.exec(select(Finding).where(Finding.item_id == item.id)).all()
        ]
        rows.append(row)
    return rows


def erase_items(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    items = session.exec(select(Item).where(about_subject(platform, author_id), _kept(held))).all()
    for item in items:
        item.text = None
        item.author_name = item.author_username = None
        item.attachments = []
        if item.author_id == author_id:
            item.author_id = None
        if item.thread_id == author_id:
            item.thread_id = None
        session.add(item)
    erased = [i.id for i in items if i.id is not None]
    mark_removed(session, "items", erased, ERASURE)
    forget_weighed_words(session, erased)  # "why?" quotes none of their words
    return len(items)


def _subject_event_ids(session: Session, platform: str, author_id: str) -> set[int]:
    via_items = session.exec(select(Item.event_id).where(about_subject(platform, author_id))).all()
    # A delivery Haven could not fully normalise may name the person only in its body, which
    # is encrypted: those few are opened here and searched for their id (a long quoted number,
    # so a false match is unlikely and would only empty one raw body).
    unknown = session.exec(
        select(InboundEvent).where(
            InboundEvent.unknown_count > 0, not_removed("inbound_events", InboundEvent.id)
        )
    ).all()
    naming = [e.id for e in unknown if e.id is not None and f'"{author_id}"' in (e.body or "")]
    return {*via_items, *naming}


def export_events(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    # The raw bodies also carry other people's messages, so only the fact of each delivery
    # is exported; what it said about this person is in the items above.
    ids = _subject_event_ids(session, platform, author_id)
    emptied = set(
        session.exec(
            select(InboundEvent.id).where(
                col(InboundEvent.id).in_(ids), ~not_removed("inbound_events", InboundEvent.id)
            )
        ).all()
    )
    events = session.exec(
        select(InboundEvent.id, InboundEvent.received_at)
        .where(col(InboundEvent.id).in_(ids))
        .order_by(InboundEvent.id)
    ).all()
    return [{"id": i, "received_at": at, "body_removed": i in emptied} for i, at in events]


def erase_events(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    ids = _subject_event_ids(session, platform, author_id)
    if held:
        # A body that carried a held item stays whole: it is the record as Meta sent it.
        ids -= set(session.exec(select(Item.event_id).where(col(Item.case_id).in_(held))).all())
    ids = set(
        session.exec(
            select(InboundEvent.id).where(
                col(InboundEvent.id).in_(ids), not_removed("inbound_events", InboundEvent.id)
            )
        ).all()
    )
    return blank_rows(session, InboundEvent, ids, {"body": REMOVED_BODY}, ERASURE)


def _subject_drafts(platform: str, author_id: str) -> Any:
    return (
        select(ReplyDraft)
        .join(Item, Item.id == ReplyDraft.item_id)
        .where(about_subject(platform, author_id))
    )


def export_drafts(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    drafts = session.exec(_subject_drafts(platform, author_id).order_by(ReplyDraft.id)).all()
    return [_row(d) for d in drafts]


def erase_drafts(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    drafts = session.exec(
        _subject_drafts(platform, author_id).where(
            _kept(held),
            or_(ReplyDraft.case_id.is_(None), col(ReplyDraft.case_id).not_in(held or {-1})),
            not_removed("reply_drafts", ReplyDraft.id),
        )
    ).all()
    return _remove_texts(session, "reply_drafts", drafts)


def export_actions(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    actions = session.exec(
        select(OutboundAction)
        .join(Item, Item.id == OutboundAction.item_id)
        .where(about_subject(platform, author_id))
        .order_by(OutboundAction.id)
    ).all()
    return [_row(a, leave_out=("idempotency_key",)) for a in actions]


def nothing_to_erase(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    return 0


def export_cases(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    ids = subject_case_ids(session, platform, author_id)
    cases = session.exec(select(Case).where(col(Case.id).in_(ids)).order_by(Case.id)).all()
    return [_row(c, leave_out=("open_key",)) for c in cases]


def erase_cases(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    ids = subject_case_ids(session, platform, author_id) - held
    cases = session.exec(select(Case).where(col(Case.id).in_(ids))).all()
    changed = 0
    now: datetime = utcnow()
    for case in cases:
        if case.author_id is None and case.open_key is None:
            continue  # erased already
        # The case stays as the minimal record (type, dates, status, outcome); with nothing
        # left to work on, an open one is closed.
        if case.closed_at is None:
            case.status, case.closed_at, case.outcome = "closed", now, ERASED_OUTCOME
        case.author_id = case.open_key = None
        case.updated_at = now
        session.add(case)
        changed += 1
    return changed


def export_case_events(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    ids = subject_case_ids(session, platform, author_id)
    events = session.exec(
        select(CaseEvent).where(col(CaseEvent.case_id).in_(ids)).order_by(CaseEvent.id)
    ).all()
    return [_row(e) for e in events]


def erase_case_events(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    ids = subject_case_ids(session, platform, author_id) - held
    events = session.exec(
        select(CaseEvent).where(
            col(CaseEvent.case_id).in_(ids),
            CaseEvent.text.is_not(None),
            not_removed("case_events", CaseEvent.id),
        )
    ).all()
    # REMOVED_TEXT: the only change the append-only trigger allows on a case event.
    return _remove_texts(session, "case_events", events)


def _remove_texts(session: Session, table_name: str, rows: Sequence[Any]) -> int:
    """Replace each row's text with REMOVED_TEXT and record the rows as emptied."""
    for row in rows:
        row.text = REMOVED_TEXT
        session.add(row)
    mark_removed(session, table_name, [r.id for r in rows if r.id is not None], ERASURE)
    return len(rows)


def _marks(platform: str, author_id: str) -> Any:
    return select(PersonMark).where(
        PersonMark.platform == platform, PersonMark.author_id == author_id
    )


def export_marks(session: Session, platform: str, author_id: str) -> list[dict[str, Any]]:
    return [_row(m) for m in session.exec(_marks(platform, author_id)).all()]


def erase_marks(session: Session, platform: str, author_id: str, held: set[int]) -> int:
    changed = 0
    for mark in session.exec(_marks(platform, author_id)).all():
        if mark.lifted_at is not None:
            session.delete(mark)
            changed += 1
        elif mark.reason != REMOVED_TEXT:
            # An active removal mark is kept (ids and dates only) so a person removed from
            # the community cannot rejoin unnoticed; the reason staff wrote goes.
            mark.reason = REMOVED_TEXT
            session.add(mark)
            changed += 1
    return changed


def active_mark_kept(session: Session, platform: str, author_id: str) -> bool:
    """True when erasure keeps a removal mark for this person (reported as kept)."""
    return any(m.lifted_at is None for m in session.exec(_marks(platform, author_id)).all())


# Raw bodies, drafts and notes are found through items and cases, so they go before those are
# unlinked from the person; items go last of all.
