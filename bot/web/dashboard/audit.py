"""The audit log, read-only and filterable, for admins and the safeguarding roles.

The log holds no message text, but it does hold categories, templates and what was done: an
admin (who must not see what a safeguarding case is about) is shown no entry about anything on
one (bot/cases/access.py), and any other detail naming a risk category is withheld.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import Session, select

from bot.audit.sentences import sentence
from bot.cases.access import audit_entries_seen_by
from bot.models import AuditEntry, User
from bot.web.auth.login import AUDITORS
from bot.web.dashboard.base import can_see_safeguarding, engine, haven, local_time, pager, role

bp = Blueprint("audit", __name__)

SUBJECT_TYPES = ("case", "item", "draft", "action", "user", "person_mark", "account")
WITHHELD = "(withheld: safeguarding)"
# Who did it, when the actor is not a user.
ACTORS = {
    "system": "Haven",
    "cli": "Someone at the command line",
    "anonymous": "Someone not signed in",
}


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    zone = ZoneInfo(haven().settings.config.organisation.timezone)
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _shown(detail: dict[str, Any] | None, sees: bool) -> str:
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    if not sees and "risk." in text:
        return WITHHELD
    return "" if text == "{}" else text


def _entry(row: AuditEntry, names: dict[str, str], sees: bool) -> tuple[AuditEntry, str, str, str]:
    """The row, who, what they did in words, and the raw detail for the disclosure."""
    who = names.get(row.actor) or ACTORS.get(row.actor, row.actor)
    detail = _shown(row.detail, sees)
    # A withheld detail gives the sentence none of its facts either (they could name a risk).
    facts = {} if detail == WITHHELD else row.detail

    def day(at: datetime) -> str:
        return local_time(at, "%a %-d %b")

    return row, who, sentence(row.action, facts, day), detail


@bp.get("/audit")
@login_required
def audit() -> ResponseReturnValue:
    if current_user.role not in AUDITORS:
        abort(403)
    args = request.args
    with Session(engine()) as db:
        users = list(db.exec(select(User).order_by(User.username)).all())
        query = select(AuditEntry).where(audit_entries_seen_by(role()))
        actor = args.get("actor", "")
        if actor:
            query = query.where(AuditEntry.actor == actor)
        action = args.get("action", "").strip()
        if action:
            # A prefix: "case." finds every case action.
            escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditEntry.action.like(f"{escaped}%", escape="\\"))
        subject_type = args.get("subject_type", "")
        if subject_type in SUBJECT_TYPES:
            query = query.where(AuditEntry.subject_type == subject_type)
            subject_id = args.get("subject_id", "").strip()
            if subject_id:
                query = query.where(AuditEntry.subject_id == subject_id)
        since, until = _day(args.get("from")), _day(args.get("to"))
        if since:
            query = query.where(AuditEntry.at >= _start_of(since))
        if until:
            query = query.where(AuditEntry.at < _start_of(until + timedelta(days=1)))
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        page = pager(total)
        rows = db.exec(
            query.order_by(AuditEntry.id.desc()).offset(page.offset).limit(page.size)
        ).all()
    names = {f"user:{u.id}": u.username for u in users}
    sees = can_see_safeguarding()
    entries = [_entry(row, names, sees) for row in rows]
    return render_template(
        "dashboard/audit.html",
        entries=entries,
        users=users,
        page=page,
        subject_types=SUBJECT_TYPES,
        args=args,
    )
