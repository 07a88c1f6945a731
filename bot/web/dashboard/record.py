"""The safeguarding record on the case page, its printable copy, and telling partner agencies.

The panel (templates/cases/_record.html) reads its data through the `safeguarding_record`
template global, so the case page needs only its include line; the support-and-matching panel
asks `support_open` whether it may show (templates/cases/_support_gate.html). The rules live in
bot/cases/record.py and bot/cases/partners.py; this module reads forms and shows pages. Only
the safeguarding lead and deputy reach any of it: anyone else is refused, and that is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session, select

from bot.audit import record as audit
from bot.cases import partners
from bot.cases import record as safeguarding
from bot.cases.record import Keeper, NewEntry, Refused
from bot.db import session_scope
from bot.models import AuditEntry, Case, User, utcnow
from bot.models.record import PartnerTask, RecordEntry
from bot.web.dashboard.base import CHANNEL_LABELS, actor, engine, haven, local_time
from bot.web.dashboard.case_forms import back_to_case
from bot.web.dashboard.cases import case_detail

bp = Blueprint("record", __name__)

# Who a printed copy is for: the audit log keeps this, never the copy itself.
EXPORT_FOR = {
    "social_care": "children's or adults' social care",
    "police": "the police",
    "partner": "a partner agency",
    "lado": "the LADO (allegations against someone who works with children)",
    "own_file": "our own safeguarding file",
    "other": "another agency",
}
TASK_LABELS = {"open": "to tell today", "told": "told", "not_told": "decided not to tell"}
INPUT_TIME = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class TaskView:
    task: PartnerTask
    label: str
    draft: str
    entry: RecordEntry | None


def _zone() -> ZoneInfo:
    return ZoneInfo(haven().settings.config.organisation.timezone)


def _names(db: Session) -> dict[int | None, str]:
    return {u.id: u.username for u in db.exec(select(User)).all()}


def record_view(db: Session, case: Case) -> dict[str, Any]:
    """The record as it reads, for the case page and the printed copy alike."""
    entries = safeguarding.entries_of(db, case.id)  # type: ignore[arg-type]
    by_id = {e.id: e for e in entries}
    kept = safeguarding.record_of(db, case.id)  # type: ignore[arg-type]
    organisation = haven().settings.config.organisation.name
    tasks = [
        TaskView(
            task=task,
            label=TASK_LABELS.get(task.status, task.status),
            draft=partners.draft_notice(
                task, organisation=organisation, when=local_time(task.opened_at, "%A %d %B %Y")
            ),
            entry=by_id.get(task.entry_id),
        )
        for task in partners.tasks_of(db, case.id)  # type: ignore[arg-type]
    ]
    main = [e for e in entries if not e.addendum]
    signed = kept is not None and kept.signed_off_at is not None
    return {
        "case": case,
        "concern": safeguarding.concern_of(db, case),
        "channel_labels": CHANNEL_LABELS,
        "sections": [
            ("actions", "Actions", [e for e in main if e.kind == "action"]),
            ("decisions", "Decisions and their reasons", [e for e in main if e.kind == "decision"]),
            ("outcome", "Outcome", [e for e in main if e.kind == "outcome"]),
        ],
        "sign_off": next((e for e in main if e.kind == "sign_off"), None),
        "addenda": [e for e in entries if e.addendum],
        "signed": signed,
        "missing": [] if signed else safeguarding.missing_for_sign_off(db, case.id),  # type: ignore[arg-type]
        "tasks": tasks,
        "names": _names(db),
        "kind_labels": safeguarding.KIND_LABELS,
        "decision_labels": safeguarding.DECISION_LABELS,
        "how_labels": partners.HOW_LABELS,
        "export_for": EXPORT_FOR,
        "organisation": organisation,
        "timezone": haven().settings.config.organisation.timezone,
    }


@bp.app_template_global("safeguarding_record")
def record_panel(case: Case) -> dict[str, Any] | None:
    """The record panel's data; None for anyone but the lead and deputy, and for a case with
    no record to keep (not a safeguarding case, and no partner agency to tell)."""
    if not safeguarding.may_keep_record(current_user.role):
        return None
    with Session(engine()) as db:
        if case.case_type != "safeguarding" and not partners.tasks_of(db, case.id):  # type: ignore[arg-type]
            return None
        view = record_view(db, case)
        exports = db.exec(
            select(AuditEntry)
            .where(
                AuditEntry.action == "record.exported",
                AuditEntry.subject_type == "case",
                AuditEntry.subject_id == str(case.id),
            )
            .order_by(AuditEntry.id)
        ).all()
    names = view["names"]
    return {
        **view,
        "exports": [
            (x.at, _who(x.actor, names), EXPORT_FOR.get((x.detail or {}).get("for"), "someone"))
            for x in exports
        ],
        "may_sign_off": safeguarding.may_sign_off(current_user.role),
        "me": current_user.username,
        "now_input": utcnow().astimezone(_zone()).strftime(INPUT_TIME),
    }


def _who(actor_ref: str | None, names: dict[int | None, str]) -> str:
    number = (actor_ref or "").removeprefix("user:")
    return names.get(int(number), "someone") if number.isdigit() else (actor_ref or "Haven")


@bp.app_template_global("support_open")
def support_panel_open(case: Case) -> bool:
    with Session(engine()) as db:
        return safeguarding.support_open(db, case)


def _keeper(case_id: int) -> None:
    """Only the lead and deputy, and only where there is a record to keep; refusals audited."""
    allowed = safeguarding.may_keep_record(current_user.role)
    with session_scope(engine()) as db:
        case = db.get(Case, case_id) or abort(404)
        if not allowed:
            audit(db, actor(), "record.refused", "case", case_id, via=request.endpoint)
        elif case.case_type != "safeguarding" and not partners.tasks_of(db, case_id):
            abort(404)
    if not allowed:
        abort(403)


def _back(case_id: int, anchor: str = "record-title") -> ResponseReturnValue:
    # Opening support is a step of the matches section; everything else is the record's.
    section = "matches" if anchor == "matches-title" else "record"
    return back_to_case(case_id, section, anchor=anchor)


def _refused(case_id: int, refused: Refused) -> ResponseReturnValue:
    """The case page again, with what was wrong, and a 400 (bad input) or 409 (not now)."""
    flash(str(refused), "error")
    return case_detail(case_id), refused.status


def _when(name: str, *, default_now: bool = True) -> datetime | None:
    """A `datetime-local` field, read in the organisation's timezone."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        if default_now:
            return utcnow()
        return None
    try:
        return datetime.strptime(raw, INPUT_TIME).replace(tzinfo=_zone())
    except ValueError:
        raise Refused("Please give the date and time as day, month, year and hour.") from None


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _take(case_id: int, step: Callable[[Session, Keeper], str], anchor: str) -> ResponseReturnValue:
    """Take one step on the record in a transaction; a refusal changes nothing and says why."""
    _keeper(case_id)
    keeper = Keeper(user_id=current_user.id, role=current_user.role, now=utcnow())
    try:
        with session_scope(engine()) as db:
            done = step(db, keeper)
    except Refused as refused:
        return _refused(case_id, refused)
    flash(done, "info")
    return _back(case_id, anchor)


@bp.post("/cases/<int:case_id>/record/entries")
@login_required
def add_entry(case_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        entry = NewEntry(
            kind=_form("kind"),
            basis=_form("basis"),
            happened_at=_when("happened_at"),  # type: ignore[arg-type]
            text=_form("text"),
            by_whom=_form("by_whom"),
            told_whom=_form("told_whom"),
            reason=_form("reason"),
            decision=_form("decision") or None,
        )
        added = safeguarding.add_entry(db, case_id, entry, keeper)
        label = safeguarding.KIND_LABELS[added.kind].lower()
        addendum = " as an addendum" if added.addendum else ""
        return f"Added to the record{addendum}: the {label}."

    return _take(case_id, step, "record-title")


@bp.post("/cases/<int:case_id>/record/sign-off")
@login_required
def sign_off(case_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        if request.form.get("complete") != "yes":
            raise Refused("Confirm that you have read the whole record and it is complete.")
        safeguarding.sign_off(db, case_id, _form("summary"), keeper)
        return "The record is signed off. Anything added from now on is an addendum."

    return _take(case_id, step, "record-title")


@bp.post("/cases/<int:case_id>/record/support")
@login_required
def open_support(case_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        safeguarding.open_support(db, case_id, keeper)
        return "Support and introductions are open on this case."

    return _take(case_id, step, "matches-title")


@bp.post("/cases/<int:case_id>/record/partners/<int:task_id>/told")
@login_required
def partner_told(case_id: int, task_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        confirmed = _form("confirmed")
        if confirmed not in ("yes", "no"):
            raise Refused("Say whether it has been confirmed in writing.")
        told = partners.Told(
            by_whom=_form("by_whom"),
            told_whom=_form("told_whom"),
            at=_when("at"),  # type: ignore[arg-type]
            how=_form("how"),
            confirmed_in_writing=confirmed == "yes",
            confirmed_at=_when("confirmed_at", default_now=False),
        )
        entry = partners.record_told(db, case_id, task_id, told, keeper)
        return f"On the record: {entry.partner} told."

    return _take(case_id, step, f"partner-task-{task_id}")


@bp.post("/cases/<int:case_id>/record/partners/<int:task_id>/confirmed")
@login_required
def partner_confirmed(case_id: int, task_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        at = _when("at")
        entry = partners.record_confirmed(db, case_id, task_id, _form("by_whom"), at, keeper)  # type: ignore[arg-type]
        return f"On the record: confirmed in writing to {entry.partner}."

    return _take(case_id, step, f"partner-task-{task_id}")


@bp.post("/cases/<int:case_id>/record/partners/<int:task_id>/not-told")
@login_required
def partner_not_told(case_id: int, task_id: int) -> ResponseReturnValue:
    def step(db: Session, keeper: Keeper) -> str:
        entry = partners.record_not_told(db, case_id, task_id, _form("reason"), keeper)
        return f"On the record: the decision not to tell {entry.partner}, and why."

    return _take(case_id, step, f"partner-task-{task_id}")


@bp.get("/cases/<int:case_id>/record/print")
@login_required
def printable(case_id: int) -> ResponseReturnValue:
    """A copy to print or save as PDF for social services or the police; each one audited."""
    _keeper(case_id)
    purpose = request.args.get("for", "")
    if purpose not in EXPORT_FOR:
        return _refused(case_id, Refused("Say who the printed copy is for."))
    now = utcnow()
    with session_scope(engine()) as db:
        case = db.get(Case, case_id) or abort(404)
        view = record_view(db, case)
        audit(db, actor(), "record.exported", "case", case_id, **{"for": purpose})
    return render_template(
        "cases/record_print.html",
        r=view,
        prepared_for=EXPORT_FOR[purpose],
        prepared_at=now,
        prepared_by=current_user.username,
    )
