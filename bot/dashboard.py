"""The staff dashboard: what arrived, what Haven found, and what it suggests.

Reads the database only. Actions that reach Meta (approve and send) enqueue a job; this
module never talks to the Graph API. The views live in small modules beside this one
(bot/dashboard_*.py); `init_app` registers them all.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import and_, func, literal, union_all
from sqlalchemy import case as sql_case
from sqlmodel import select

from bot import (
    dashboard_actions,
    dashboard_audit,
    dashboard_case_actions,
    dashboard_check,
    dashboard_people,
    dashboard_rules,
    dashboard_times,
)
from bot.dashboard_base import (
    CONSENT_LABELS,
    SEVERITY_RANK,
    bp,
    display_author,
    duration,
    engine,
    highlight,
    local_time,
    pager,
    status_label,
)
from bot.dashboard_entries import load_entries
from bot.db import session_scope
from bot.models import Finding, Item, utcnow
from bot.models_dashboard import PersonMark
from bot.notify import overnight_first

__all__ = ["bp", "display_author", "highlight", "init_app"]

# Comment and message versions that only change state carry no text to review.
STATE_VERBS = ("remove", "hide", "unhide")
# Anything from someone removed from the community is put in front of staff, as high.
REMOVED_PERSON_RANK = SEVERITY_RANK["high"]


def init_app(app: Flask) -> None:
    """Register the dashboard's blueprints and template helpers."""
    app.register_blueprint(bp)
    for module in (
        dashboard_actions,
        dashboard_case_actions,
        dashboard_people,
        dashboard_times,
        dashboard_check,
        dashboard_rules,
        dashboard_audit,
    ):
        app.register_blueprint(module.bp)
    app.add_template_filter(local_time, "local")
    app.add_template_filter(duration, "duration")
    app.add_template_global(status_label, "status_label")
    app.add_template_global(CONSENT_LABELS, "consent_labels")


def _queue_ranks():  # type: ignore[no-untyped-def]
    """(item_id, rank) for everything that belongs on the queue, one row per item."""
    severity = sql_case(*((Finding.severity == s, r) for s, r in SEVERITY_RANK.items()), else_=0)
    flagged = select(Finding.item_id.label("item_id"), severity.label("rank")).where(
        Finding.superseded_at.is_(None)
    )
    removed = (
        select(Item.id.label("item_id"), literal(REMOVED_PERSON_RANK).label("rank"))
        .join(
            PersonMark,
            and_(PersonMark.platform == Item.platform, PersonMark.author_id == Item.author_id),
        )
        .where(
            # Said twice so the planner starts from the (few) marks and the author index,
            # rather than reading every item to look for a mark.
            Item.author_id.in_(select(PersonMark.author_id).where(PersonMark.lifted_at.is_(None))),
            PersonMark.lifted_at.is_(None),
            Item.received_at >= PersonMark.removed_at,
            Item.from_page.is_(False),
            Item.verb.not_in(STATE_VERBS),
        )
    )
    both = union_all(flagged, removed).subquery()
    return (
        select(both.c.item_id, func.max(both.c.rank).label("rank"))
        .group_by(both.c.item_id)
        .subquery()
    )


@bp.get("/")
@login_required
def queue() -> ResponseReturnValue:
    """Flagged items, most severe first, then oldest first within a severity."""
    reviewed = request.args.get("view") == "reviewed"
    ranks = _queue_ranks()
    query = select(Item).join(ranks, ranks.c.item_id == Item.id)
    if reviewed:
        query = query.where(Item.reviewed_at.is_not(None)).order_by(
            Item.reviewed_at.desc(), Item.id.desc()
        )
    else:
        query = query.where(Item.reviewed_at.is_(None)).order_by(
            ranks.c.rank.desc(),
            # Within a severity, what raised an alert overnight that nobody has acknowledged
            # comes first in the morning (the alerts subsystem's sort key).
            overnight_first(Item.id, Item.case_id).desc(),
            # Age is how long the person has been waiting: from when they wrote.
            Item.created_at.asc(),
            Item.id.asc(),
        )
    with session_scope(engine()) as db:
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        page = pager(total)
        items = db.exec(query.offset(page.offset).limit(page.size)).all()
        entries = load_entries(db, items, utcnow(), via="queue")
    return render_template(
        "dashboard/queue.html", entries=entries, page=page, reviewed=reviewed, total=total
    )
