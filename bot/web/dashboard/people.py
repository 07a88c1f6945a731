"""People: one author's items and cases, and the "removed from the community" mark.

A person is who Meta says wrote an item: a platform and Meta's id for them. Facebook and
Instagram give the same person different ids, so each platform's person is their own page.
Details stay minimal: a first name and initial, what they wrote and when.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import cases_seen_by, items_seen_by, person_seen_by
from bot.cases.people import MIN_QUERY, SCAN_LIMIT, search_people
from bot.db import session_scope
from bot.models import Case, Item, User, utcnow
from bot.models.dashboard import PersonMark
from bot.web.auth.login import MODERATORS
from bot.web.dashboard.base import (
    CHANNEL_LABELS,
    actor,
    display_author,
    engine,
    pager,
    role,
)
from bot.web.dashboard.entries import load_entries

bp = Blueprint("people", __name__)

PLATFORMS = ("facebook", "instagram")
MAX_REASON = 500
MAX_QUERY = 100


@bp.get("/people")
@login_required
def marked() -> ResponseReturnValue:
    """Search for a person by name or handle; everyone marked as removed from the community."""
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    with Session(engine()) as db:
        found = search_people(db, role(), query) if query else None
        marks = db.exec(
            select(PersonMark)
            .where(
                PersonMark.lifted_at.is_(None),
                person_seen_by(role(), PersonMark.platform, PersonMark.author_id),
            )
            .order_by(PersonMark.removed_at.desc())
        ).all()
        names = dict(
            db.exec(
                select(Item.author_id, func.max(Item.author_name))
                .where(Item.author_id.in_([m.author_id for m in marks]))
                .group_by(Item.author_id)
            ).all()
        )
        users = {u.id: u.username for u in db.exec(select(User)).all()}
    rows = [(m, display_author(names.get(m.author_id)), users.get(m.removed_by, "")) for m in marks]
    page = pager(len(found.people)) if found else None
    shown = found.people[page.offset : page.offset + page.size] if found and page else []
    return render_template(
        "dashboard/people.html",
        rows=rows,
        query=query,
        found=found,
        page=page,
        results=[(p, display_author(p.name)) for p in shown],
        min_query=MIN_QUERY,
        scan_limit=SCAN_LIMIT,
    )  # fmt: skip


@bp.get("/people/<any(facebook, instagram):platform>/<author_id>")
@login_required
def person(platform: str, author_id: str) -> ResponseReturnValue:
    # Not even that this person has a safeguarding case: elsewhere such cases show that they
    # exist, never whom they are about.
    mine = [Item.platform == platform, Item.author_id == author_id, items_seen_by(role())]
    their_cases = [Case.platform == platform, Case.author_id == author_id, cases_seen_by(role())]
    with session_scope(engine()) as db:
        total, first_seen, last_seen, name = db.exec(
            select(
                func.count(), func.min(Item.created_at), func.max(Item.created_at),
                func.max(Item.author_name),
            ).where(*mine)
        ).one()  # fmt: skip
        if not total:
            abort(404)
        channels = db.exec(select(Item.channel).where(*mine).distinct()).all()
        page = pager(total)
        items = db.exec(
            select(Item)
            .where(*mine)
            .order_by(Item.created_at.desc(), Item.id.desc())
            .offset(page.offset)
            .limit(page.size)
        ).all()
        entries = load_entries(db, items, utcnow(), via="person page")
        cases = db.exec(select(Case).where(*their_cases).order_by(Case.opened_at.desc())).all()
        mark = db.exec(
            select(PersonMark).where(
                PersonMark.platform == platform, PersonMark.author_id == author_id
            )
        ).first()
        marked_by = db.get(User, mark.removed_by) if mark and mark.removed_by else None
    return render_template(
        "dashboard/person.html",
        platform=platform,
        author_id=author_id,
        name=display_author(name),
        total=total,
        first_seen=first_seen,
        last_seen=last_seen,
        channels=sorted(CHANNEL_LABELS.get(c, c) for c in channels),
        entries=entries,
        page=page,
        cases=cases,
        mark=mark if mark and mark.lifted_at is None else None,
        marked_by=marked_by.username if marked_by else None,
    )


@bp.post("/people/<any(facebook, instagram):platform>/<author_id>/removal")
@login_required
def removal(platform: str, author_id: str) -> ResponseReturnValue:
    """Mark (or lift the mark on) a person removed from the community."""
    if current_user.role not in MODERATORS:
        abort(403)
    lift = request.form.get("lift") == "1"
    reason = (request.form.get("reason") or "").strip()
    back = redirect(url_for("people.person", platform=platform, author_id=author_id))
    if not lift and not 0 < len(reason) <= MAX_REASON:
        flash(
            f"Say briefly why (up to {MAX_REASON} characters; no names or contact details).",
            "error",
        )
        return back
    now = utcnow()
    with session_scope(engine()) as db:
        # Someone this user may not see is no one to them, as on their page.
        if not db.exec(select(person_seen_by(role(), platform, author_id))).one():
            abort(404)
        mark = db.exec(
            select(PersonMark).where(
                PersonMark.platform == platform, PersonMark.author_id == author_id
            )
        ).first()
        if lift:
            if mark is not None and mark.lifted_at is None:
                mark.lifted_at, mark.lifted_by = now, current_user.id
                db.add(mark)
                # The mark's row id, not the person's Meta id: the audit log cannot be erased.
                record(db, actor(), "person.removal_lifted", "person_mark", str(mark.id))
            flash("The mark is lifted: their new items are no longer flagged.", "info")
            return back
        if mark is None:
            mark = PersonMark(platform=platform, author_id=author_id, reason=reason)
        # Marking again (after a lift) starts the mark afresh, with its new reason.
        mark.removed_at, mark.removed_by, mark.reason = now, current_user.id, reason
        mark.lifted_at = mark.lifted_by = None
        db.add(mark)
        db.flush()
        record(db, actor(), "person.removal_marked", "person_mark", str(mark.id))
    flash("Marked as removed from the community: anything new from them is flagged.", "info")
    return back
