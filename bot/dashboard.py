"""The staff dashboard: what arrived, what Haven found, and what it suggests.

Reads the database only. Actions that reach Meta (approve and send) enqueue a job; this
module never talks to the Graph API.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, select

from bot.audit import record
from bot.db import session_scope
from bot.models import Case, Finding, Item, ReplyDraft

bp = Blueprint("dashboard", __name__)


def init_app(app: Flask) -> None:
    """Register the dashboard's blueprints."""
    from bot import dashboard_actions

    app.register_blueprint(bp)
    app.register_blueprint(dashboard_actions.bp)


SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


def highlight(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    """Split text into plain and marked runs; overlapping spans merge."""
    merged: list[list[int]] = []
    for start, end in sorted((s, e) for s, e in spans if 0 <= s < e <= len(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments, cursor = [], 0
    for start, end in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start], False))
        segments.append(Segment(text[start:end], True))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:], False))
    return segments


def display_author(name: str | None) -> str:
    """First name and an initial at most: staff need to recognise people, not profile them."""
    if not name:
        return "someone"
    parts = name.split()
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def _engine():  # type: ignore[no-untyped-def]
    return current_app.extensions["haven"].engine


def _page_size() -> int:
    return current_app.extensions["haven"].settings.config.dashboard.page_size


@bp.get("/")
@login_required
def queue() -> ResponseReturnValue:
    """Flagged items, most severe first, then oldest first within a severity."""
    rank = func.max(
        sql_case(*((Finding.severity == s, r) for s, r in SEVERITY_RANK.items()), else_=0)
    )
    flagged = (
        select(Finding.item_id, rank.label("rank"))
        .where(Finding.superseded_at.is_(None))
        .group_by(Finding.item_id)
        .subquery()
    )
    with Session(_engine()) as session:
        rows = session.exec(
            select(Item, flagged.c.rank)
            .join(flagged, flagged.c.item_id == Item.id)
            .order_by(flagged.c.rank.desc(), Item.received_at.asc())
            .limit(_page_size())
        ).all()
        entries = [_entry(session, item) for item, _rank in rows]
    return render_template("dashboard/queue.html", entries=entries)


@bp.get("/cases")
@login_required
def cases() -> ResponseReturnValue:
    with Session(_engine()) as session:
        rows = session.exec(
            select(Case)
            .order_by(Case.status == "closed", Case.updated_at.desc())
            .limit(_page_size())
        ).all()
    return render_template("dashboard/cases.html", cases=rows)


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id: int) -> ResponseReturnValue:
    with session_scope(_engine()) as session:
        case = session.get(Case, case_id)
        if case is None:
            abort(404)
        restricted = case.case_type == "safeguarding" and not current_user.can_see_safeguarding
        if case.case_type == "safeguarding":
            # Every look at a safeguarding case is itself on the record, allowed or not.
            action = "case.view_refused" if restricted else "case.viewed"
            record(session, f"user:{current_user.id}", action, "case", case.id)
        items = (
            []
            if restricted
            else session.exec(
                select(Item).where(Item.case_id == case.id).order_by(Item.created_at)
            ).all()
        )
        entries = [_entry(session, item) for item in items]
    return render_template("dashboard/case.html", case=case, entries=entries, restricted=restricted)


@dataclass
class QueueEntry:
    item: Item
    segments: list[Segment]
    findings: list[Finding]
    drafts: list[ReplyDraft]
    case: Case | None
    restricted: bool
    author: str


def _entry(session: Session, item: Item) -> QueueEntry:
    findings = list(
        session.exec(
            select(Finding).where(Finding.item_id == item.id, Finding.superseded_at.is_(None))
        ).all()
    )
    case = session.get(Case, item.case_id) if item.case_id else None
    restricted = bool(
        case and case.case_type == "safeguarding" and not current_user.can_see_safeguarding
    )
    if restricted:
        # Others see that a safeguarding case exists and nothing of what it is about.
        return QueueEntry(item, [], [], [], case, True, "restricted")
    drafts = list(session.exec(select(ReplyDraft).where(ReplyDraft.item_id == item.id)).all())
    spans = [(f.span_start, f.span_end) for f in findings if f.span_start is not None]
    return QueueEntry(
        item,
        highlight(item.text or "", spans),  # type: ignore[arg-type]
        findings,
        drafts,
        case,
        False,
        display_author(item.author_name),
    )
