"""The case page's consent, follow-up, notes and close panel (templates/cases/_consent.html).

Staff can record consent the person gave another way (by phone, in person), always with a
reason; set, snooze or end the follow-up; add the minimal note the procedure asks for; and
close the case with an outcome and a reason. Every step is audited. Reads the database and
writes it; never calls Meta.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.consent import SETTABLE, contacts, history, set_consent
from bot.cases.follow_up import end_follow_up, follow_up_of, schedule_follow_up
from bot.cases.status import allowed_transitions, apply_status, item_ids, mark_first_action
from bot.db import session_scope
from bot.models import Case, User, utcnow
from bot.models.consent import CaseNote
from bot.untrusted import ascii_int
from bot.web.dashboard.base import actor, check_case_access, engine, haven
from bot.web.dashboard.case_forms import back_to_case, caseworker_only

bp = Blueprint("consent", __name__)

MAX_REASON = 500
MAX_NOTE = 2000
HISTORY_LABELS = {
    "asked": "Asked in private",
    "given": "Consent given",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "unclear": "Unclear answer: for a person to read",
    "safeguarding_override": "Safeguarding override",
}
SOURCE_LABELS = {
    "private_reply": "private reply",
    "dm": "message",
    "text": "their message",
    "button": "a button they tapped",
    "staff": "recorded by staff",
    "system": "Haven",
}


@bp.app_template_global("consent_panel")
def consent_panel(case: Case) -> dict[str, Any]:
    """Everything the panel shows, read in one session."""
    settings = haven().settings.config
    with Session(engine()) as db:
        names = {u.id: u.username for u in db.exec(select(User)).all()}
        notes = db.exec(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.at)
        ).all()
        return {
            "history": history(db, case.id),  # type: ignore[arg-type]
            "linked": bool(contacts(db, case.id)),  # type: ignore[arg-type]
            "follow_up": follow_up_of(db, case.id),  # type: ignore[arg-type]
            "notes": list(notes),
            "names": names,
            "history_labels": HISTORY_LABELS,
            "source_labels": SOURCE_LABELS,
            "settable": SETTABLE,
            "support_types": settings.cases.support_types,
            "free_text": settings.cases.free_text_notes,
            "follow_up_days": settings.cases.follow_up_days,
            "outcomes": settings.dashboard.case_outcomes,
            "can_close": "closed" in allowed_transitions(case),
            "open": case.status != "closed",
            "today": utcnow().date().isoformat(),
        }


def _field(name: str, limit: int) -> str | None:
    value = (request.form.get(name) or "").strip()
    return value if 0 < len(value) <= limit else None


def _may_work_on(case_id: int) -> None:
    """Signed-in caseworkers only; safeguarding cases for the lead and deputy only."""
    caseworker_only()
    with Session(engine()) as db:
        check_case_access(db, case_id) or abort(404)


def _open_case(db: Session, case_id: int) -> Case:
    """The case; a closed one is not reopened: back to its page with a message instead."""
    case = check_case_access(db, case_id) or abort(404)
    if case.status == "closed":
        flash("The case is closed.", "error")
        abort(back_to_case(case_id, "consent"))  # nothing written yet: the session rolls back
    return case


@bp.post("/cases/<int:case_id>/consent")
@login_required
def record_consent(case_id: int) -> ResponseReturnValue:
    """Consent given another way (by phone, in person): the reason is required and kept."""
    _may_work_on(case_id)
    state = request.form.get("state", "")
    reason = _field("reason", MAX_REASON)
    if state not in SETTABLE or reason is None:
        flash(f"Choose the consent and give a reason (up to {MAX_REASON} characters).", "error")
        return back_to_case(case_id, "consent")
    now = utcnow()
    with session_scope(engine()) as db:
        case = _open_case(db, case_id)
        set_consent(db, case, state, source="staff", now=now, actor=actor(),
                    actor_id=current_user.id, reason=reason,
                    follow_up_days=haven().settings.config.cases.follow_up_days)  # fmt: skip
        mark_first_action(db, item_ids(db, case_id), now)
    flash(f"Consent recorded as {state}.", "info")
    return back_to_case(case_id, "consent")


@bp.post("/cases/<int:case_id>/follow-up")
@login_required
def set_follow_up(case_id: int) -> ResponseReturnValue:
    """Set or snooze the follow-up (a number of days from now or a date), or end it."""
    _may_work_on(case_id)
    now = utcnow()
    with session_scope(engine()) as db:
        case = _open_case(db, case_id)
        if request.form.get("end") == "1":
            end_follow_up(db, case_id, "ended by staff", now)
            record(db, actor(), "follow_up.ended_by_staff", "case", case_id)
            flash("No follow-up for this case.", "info")
            return back_to_case(case_id, "consent")
        due = _due_from_form(now)
        if due is None:
            flash("Give a number of days (1 to 90) or a date in the next 90 days.", "error")
            return back_to_case(case_id, "consent")
        reason = "snoozed" if follow_up_of(db, case_id) else "set by staff"
        schedule_follow_up(db, case, due_at=due, actor=actor(), reason=reason, now=now)
        if case.status == "follow_up_due":
            # Snoozed: the case waits again until the new time.
            apply_status(db, case, "matched" if _was_matched(db, case_id) else
                         "awaiting_consent", f"Follow-up {reason}.", None, now,
                         actor_id=current_user.id)  # fmt: skip
    flash(f"Follow-up due {due:%d %b %Y}.", "info")
    return back_to_case(case_id, "consent")


def _due_from_form(now: datetime) -> datetime | None:
    days, on = (request.form.get("days") or "").strip(), (request.form.get("on") or "").strip()
    if days:
        number = ascii_int(days, low=1, high=90)
        return now + timedelta(days=number) if number is not None else None
    try:
        chosen = date.fromisoformat(on)
    except ValueError:
        return None
    due = datetime.combine(chosen, time(9, 0), tzinfo=UTC)
    return due if now < due <= now + timedelta(days=90) else None


def _was_matched(db: Session, case_id: int) -> bool:
    from bot.models.dashboard import CaseEvent

    return (
        db.exec(
            select(CaseEvent.id).where(
                CaseEvent.case_id == case_id, CaseEvent.to_status == "matched"
            )
        ).first()
        is not None
    )


@bp.post("/cases/<int:case_id>/close")
@login_required
def close_case(case_id: int) -> ResponseReturnValue:
    """Record the outcome and close the case with a reason; no follow-up after that."""
    _may_work_on(case_id)
    outcome = request.form.get("outcome", "")
    reason = _field("reason", MAX_NOTE)
    if outcome not in haven().settings.config.dashboard.case_outcomes or reason is None:
        flash("Choose the outcome and give the reason for closing.", "error")
        return back_to_case(case_id, "consent")
    now = utcnow()
    with session_scope(engine()) as db:
        case = _open_case(db, case_id)
        # apply_status also ends the follow-up and any introductions, whichever form closes.
        apply_status(db, case, "closed", reason, outcome, now, actor_id=current_user.id)
    flash(f"Case #{case_id} closed: {outcome}.", "info")
    return back_to_case(case_id, "consent")


@bp.post("/cases/<int:case_id>/case-notes")
@login_required
def add_case_note(case_id: int) -> ResponseReturnValue:
    """The brief note: initials, date, type of support; free text only if turned on."""
    _may_work_on(case_id)
    cases = haven().settings.config.cases
    initials = (request.form.get("initials") or "").strip().upper()
    support = request.form.get("support_type", "")
    text = (request.form.get("text") or "").strip() or None
    try:
        noted_on = date.fromisoformat(request.form.get("noted_on") or "")
    except ValueError:
        noted_on = None
    valid = (
        1 <= len(initials) <= 4
        and initials.replace(".", "").isalpha()
        and support in cases.support_types
        and noted_on is not None
        and (text is None or (cases.free_text_notes and len(text) <= MAX_NOTE))
    )
    if not valid:
        flash(
            "A note is initials (up to 4 letters), a date and a type of support"
            + ("" if cases.free_text_notes else "; free text is turned off")
            + ".",
            "error",
        )
        return back_to_case(case_id, "consent")
    now = utcnow()
    with session_scope(engine()) as db:
        case = check_case_access(db, case_id) or abort(404)
        note = CaseNote(case_id=case_id, at=now, actor_id=current_user.id, initials=initials,
                        noted_on=noted_on, support_type=support, text=text)  # fmt: skip
        db.add(note)
        case.updated_at = now
        db.add(case)
        db.flush()
        record(db, actor(), "case.note_recorded", "case", case_id, note_id=note.id,
               support_type=support, free_text=text is not None)  # fmt: skip
        mark_first_action(db, item_ids(db, case_id), now)
    flash("Note added.", "info")
    return back_to_case(case_id, "consent")


@bp.app_template_global("free_text_notes")
def free_text_notes() -> bool:
    """Whether the organisation has turned free-text case notes on (off by default)."""
    return haven().settings.config.cases.free_text_notes
