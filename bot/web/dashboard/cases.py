"""Cases: a filtered, paged list, and a detail page that reads as a chronology."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import is_safeguarding
from bot.cases.looks import record_looks
from bot.cases.status import allowed_transitions, may_hold
from bot.db import session_scope
from bot.models import CASE_STATUSES, Case, Item, User, utcnow
from bot.notify.escalation import open_escalation
from bot.untrusted import ascii_int
from bot.web.dashboard import chronology as dashboard_chronology
from bot.web.dashboard.base import (
    CASE_TYPES,
    SEVERITY_RANK,
    actor,
    bp,
    can_see_safeguarding,
    display_author,
    engine,
    haven,
    pager,
    restricted,
)
from bot.web.dashboard.entries import load_entries, removal_marks
from bot.web.dashboard.page_filter import chosen_page
from bot.web.inputs import query_int

OPEN = "open"


def _filters() -> dict[str, str]:
    """The list's filters from the query string; unknown values are ignored, not errors."""
    args = request.args
    status = args.get("status", OPEN)
    return {
        "status": status if status in (*CASE_STATUSES, OPEN, "all") else OPEN,
        "type": args.get("type", "") if args.get("type") in CASE_TYPES else "",
        "severity": args.get("severity", "") if args.get("severity") in SEVERITY_RANK else "",
        "assignee": _assignee(args.get("assignee", "")),
        "account": chosen_page() or "",
    }


def _assignee(value: str) -> str:
    """ "none", "me", a user's id, or "" for anyone; an id that does not parse is a 400."""
    if value in ("", "none", "me"):
        return value
    return str(query_int("assignee", 0))


@bp.get("/cases")
@login_required
def cases() -> ResponseReturnValue:
    chosen = _filters()
    query = select(Case)
    if chosen["status"] == OPEN:
        query = query.where(Case.status != "closed")
    elif chosen["status"] != "all":
        query = query.where(Case.status == chosen["status"])
    if chosen["type"]:
        query = query.where(Case.case_type == chosen["type"])
    if chosen["severity"]:
        query = query.where(Case.severity == chosen["severity"])
    if chosen["account"]:
        query = query.where(Case.account_id == chosen["account"])
    if chosen["assignee"] == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif chosen["assignee"]:
        who = current_user.id if chosen["assignee"] == "me" else ascii_int(chosen["assignee"])
        query = query.where(Case.assignee_id == who)
    with Session(engine()) as db:
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        page = pager(total)
        rows = db.exec(
            query.order_by(Case.updated_at.desc(), Case.id.desc())
            .offset(page.offset)
            .limit(page.size)
        ).all()
        people = _people(db, [c.id for c in rows])
        users = list(db.exec(select(User).order_by(User.username)).all())
    names = {u.id: u.username for u in users}
    return render_template(
        "dashboard/cases.html",
        cases=[(c, restricted(c), people.get(c.id, ("someone", 0))) for c in rows],
        names=names,
        users=users,
        chosen=chosen,
        page=page,
        statuses=CASE_STATUSES,
        types=CASE_TYPES,
        severities=list(SEVERITY_RANK),
    )


def _people(db: Session, case_ids: list[int | None]) -> dict[int, tuple[str, int]]:
    """Who each case is about (first name, initial) and how many items it holds."""
    rows = db.exec(
        select(Item.case_id, func.max(Item.author_name), func.count())
        .where(Item.case_id.in_(case_ids))
        .group_by(Item.case_id)
    ).all()
    return {case_id: (display_author(name), count) for case_id, name, count in rows}


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id: int) -> ResponseReturnValue:
    with session_scope(engine()) as db:
        case = db.get(Case, case_id)
        if case is None:
            abort(404)
        hidden = restricted(case)
        if is_safeguarding(case):
            # Every look at a safeguarding case is itself on the record, and every refusal;
            # a reload inside the same look adds nothing (bot/cases/looks.py).
            if hidden:
                record(db, actor(), "case.view_refused", "case", case.id, via="case page")
            else:
                record_looks(db, actor(), [case.id], "case page", utcnow())
        users = list(db.exec(select(User).where(User.active).order_by(User.username)).all())
        context = {
            "case": case,
            "restricted": hidden,
            "names": {u.id: u.username for u in db.exec(select(User)).all()},
        }
        if not hidden:
            items = db.exec(
                select(Item).where(Item.case_id == case.id).order_by(Item.created_at, Item.id)
            ).all()
            # The view is recorded once above, not again for each of its items.
            entries = load_entries(db, items, utcnow(), via=None)
            events, views = dashboard_chronology.build(db, case, entries)
            person = next((i for i in items if i.author_id), None)
            context.update(
                events=events,
                views=views,
                person=person,
                person_name=display_author(person.author_name) if person else "someone",
                removed=bool(removal_marks(db, items)),
                assignable=[u for u in users if may_hold(u, case)],
                transitions=allowed_transitions(case),
                escalation=open_escalation(db, case.id) if can_see_safeguarding() else None,
                outcomes=haven().settings.config.dashboard.case_outcomes,
            )
    return render_template("dashboard/case.html", **context)
