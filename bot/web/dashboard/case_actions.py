"""Working a case: status changes with reasons, notes, assignment, and opening a case by hand.

Each step is a `case_events` row (append-only: the decision and its reason, who and when)
and an audit entry. Safeguarding cases are worked by the safeguarding lead and deputy only.
Escalating (by status or by opening a safeguarding case) is `escalate_case`, the same as a
rule's: the lead on duty is paged and given the case.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.escalation import escalate_case
from bot.cases.keys import open_key
from bot.cases.offers import case_refusal
from bot.cases.status import add_note as add_case_note
from bot.cases.status import (
    allowed_transitions,
    apply_status,
    mark_first_action,
    may_hold,
)
from bot.cases.status import assign as assign_case
from bot.db import add_unless_taken, session_scope
from bot.models import Case, Finding, Item, User, utcnow
from bot.notify.delivery import dispatch_soon
from bot.notify.escalation import acknowledge, open_escalation
from bot.untrusted import ascii_int
from bot.web.auth.login import safe_target
from bot.web.dashboard.base import (
    CASE_TYPES,
    MAX_TEXT,
    SEVERITY_RANK,
    actor,
    can_see_safeguarding,
    check_case_access,
    engine,
    haven,
    restricted,
    status_label,
)
from bot.web.dashboard.case_forms import back_to_case, caseworker_only

bp = Blueprint("casework", __name__)
ESCALATED = "Escalated: the safeguarding lead on duty is being paged and has the case now."


def _text(name: str, *, required: bool) -> str | None:
    """A trimmed form field, or None (with a message) when it is missing or too long."""
    value = (request.form.get(name) or "").strip()
    if (required and not value) or len(value) > MAX_TEXT:
        flash(f"Please write between 1 and {MAX_TEXT} characters.", "error")
        return None
    return value


@bp.post("/cases/<int:case_id>/status")
@login_required
def change_status(case_id: int) -> ResponseReturnValue:
    caseworker_only()
    target = request.form.get("status", "")
    outcome = (request.form.get("outcome") or "").strip() or None
    reason = _text("reason", required=True)
    if reason is None:
        return back_to_case(case_id, "work")
    with session_scope(engine()) as db:
        case = check_case_access(db, case_id) or abort(404)
        if target not in allowed_transitions(case):
            flash(
                f"A {status_label(case.status)} case cannot become {status_label(target)}.", "error"
            )
            return back_to_case(case_id, "work")
        if target == "closed" and outcome not in haven().settings.config.dashboard.case_outcomes:
            flash("Choose the outcome the case is closed with.", "error")
            return back_to_case(case_id, "work")
        if target == "escalated":
            alert_id = _escalate(db, case, reason)
        else:
            apply_status(
                db, case, target, reason, outcome if target == "closed" else None, utcnow(),
                actor_id=current_user.id,
            )  # fmt: skip
    if target == "escalated":
        dispatch_soon(haven().enqueuer, alert_id)
        if not can_see_safeguarding():
            flash(ESCALATED, "info")
            return redirect(url_for("dashboard.queue"))
    flash(f"Case #{case_id} is now {status_label(target)}.", "info")
    return back_to_case(case_id, "work")


def _escalate(db: Session, case: Case, reason: str) -> int | None:
    """Escalate as the signed-in person; the id of the page to send at once, if one was raised."""
    by = db.get(User, current_user.id)
    escalated = escalate_case(db, haven().settings.config, case, utcnow(), by=by, reason=reason)
    return escalated.alert.id if escalated.alert else None


@bp.post("/cases/<int:case_id>/acknowledge")
@login_required
def acknowledge_from_case(case_id: int) -> ResponseReturnValue:
    """ "I'm dealing with this", from the case page: the open escalation stops paging."""
    if not can_see_safeguarding():
        abort(403)  # only the lead and deputy acknowledge, as from the alert or the inbox
    with session_scope(engine()) as db:
        check_case_access(db, case_id) or abort(404)
        escalation = open_escalation(db, case_id)
        if escalation is not None:
            acknowledge(db, escalation, user_id=current_user.id, via="case page", now=utcnow())
    flash("Acknowledged: paging has stopped, and the case is yours." if escalation else
          "Someone has already acknowledged this escalation.", "info")  # fmt: skip
    return back_to_case(case_id)


@bp.post("/cases/<int:case_id>/notes")
@login_required
def add_note(case_id: int) -> ResponseReturnValue:
    caseworker_only()
    text = _text("note", required=True)
    if text is None:
        return back_to_case(case_id, "work")
    now = utcnow()
    with session_scope(engine()) as db:
        case = check_case_access(db, case_id) or abort(404)
        if not haven().settings.config.cases.free_text_notes:
            # Minimal notes by default: initials, date, type of support (dashboard_consent.py).
            flash("Free-text notes are turned off; add a brief note instead.", "error")
            return back_to_case(case_id, "work")
        add_case_note(db, case, text, now, actor_id=current_user.id)
    flash("Note added.", "info")
    return back_to_case(case_id, "work")


@bp.post("/cases/<int:case_id>/assignee")
@login_required
def assign(case_id: int) -> ResponseReturnValue:
    caseworker_only()
    raw = request.form.get("assignee", "")
    now = utcnow()
    with session_scope(engine()) as db:
        case = check_case_access(db, case_id) or abort(404)
        number = ascii_int(raw)
        user = db.get(User, number) if number is not None else None
        if raw and (user is None or not user.active or not may_hold(user, case)):
            flash("That person cannot be given this case.", "error")
            return back_to_case(case_id, "work")
        assign_case(db, case, user.id if user else None, now, actor_id=current_user.id)
    flash(f"Assigned to {user.username}." if user else "Unassigned.", "info")
    return back_to_case(case_id, "work")


@bp.post("/items/<int:item_id>/case")
@login_required
def open_case(item_id: int) -> ResponseReturnValue:
    """Open a case for a flagged item, or join the one already open for that person."""
    caseworker_only()
    case_type = request.form.get("case_type", "")
    if case_type not in CASE_TYPES:
        flash("Choose what kind of case to open.", "error")
        return redirect(safe_target(request.form.get("back")))
    now = utcnow()
    alert_id = None
    with session_scope(engine()) as db:
        item = db.get(Item, item_id) or abort(404)
        case = check_case_access(db, item.case_id)
        refusal = case_refusal(db, item) if case is None else None
        if refusal is not None:
            flash(refusal, "error")
            return redirect(safe_target(request.form.get("back")))
        if case is None:
            case = _find_or_open(db, item, case_type, now)
            item.case_id = case.id
            db.add(item)
            if case_type == "safeguarding":
                alert_id = _escalate(db, case, "Opened as a safeguarding case from the queue")
        mark_first_action(db, [item_id], now)
        case_id, hidden = case.id, restricted(case)
    dispatch_soon(haven().enqueuer, alert_id)
    if hidden:
        flash(ESCALATED, "info")
        return redirect(safe_target(request.form.get("back")))
    return redirect(url_for("dashboard.case_detail", case_id=case_id))


def _find_or_open(db: Session, item: Item, case_type: str, now: datetime) -> Case:
    key = open_key(item)
    existing = db.exec(select(Case).where(Case.open_key == key)).first()
    if existing is not None:
        # Joined, as a worker would join it; if it is a safeguarding case the item now shows
        # only that such a case exists, like the rest of that case.
        return existing
    severities = db.exec(
        select(Finding.severity).where(Finding.item_id == item.id, Finding.superseded_at.is_(None))
    ).all()
    # A safeguarding case is escalated by the caller (escalate_case), with the reason on record.
    case = Case(
        case_type=case_type,
        status="new",
        priority="normal",
        severity=max(severities, key=lambda s: SEVERITY_RANK.get(s, 0), default="low"),
        platform=item.platform,
        account_id=item.account_id,
        author_id=item.author_id,
        open_key=key,
        opened_at=now,
        updated_at=now,
    )
    # A worker may open this person's case at the same moment: the unique key decides.
    if not add_unless_taken(db, case):
        return db.exec(select(Case).where(Case.open_key == key)).one()
    record(db, actor(), "case.opened", "case", case.id, item_id=item.id, case_type=case_type)
    return case
