"""Data protection in the dashboard, for admins only: the retention report, subject access
(a JSON download) and erasure (with a confirmation step).

Admins may not see what a safeguarding case is about, so their export replaces those rows with
a note; the safeguarding lead, or `haven subject export` on the server, provides them.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import Session

from bot.db import session_scope
from bot.privacy.core_data import subject_case_ids
from bot.privacy.holds import would_hold
from bot.privacy.retention_report import build_report
from bot.privacy.subject import PLATFORMS, check_subject, erase_subject, export_subject, to_json
from bot.privacy.subject_data import SUBJECT_DATA
from bot.web.dashboard.base import actor, engine, haven

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _admin() -> None:
    if current_user.role != "admin":
        abort(403)


def _subject_from_form() -> tuple[str, str]:
    """The platform and user id the form names; anything malformed is refused with 400."""
    platform = request.form.get("platform", "")
    user_id = request.form.get("user_id", "").strip()
    try:
        check_subject(platform, user_id)
    except ValueError:
        abort(400)
    return platform, user_id


@bp.get("")
@login_required
def overview() -> ResponseReturnValue:
    _admin()
    with Session(engine()) as db:
        report = build_report(db, haven().settings.config.data_protection)
    return render_template("privacy/overview.html", report=report, platforms=PLATFORMS)


@bp.post("/export")
@login_required
def export() -> ResponseReturnValue:
    _admin()
    platform, user_id = _subject_from_form()
    with session_scope(engine()) as db:
        data = export_subject(
            db, platform, user_id, actor=actor(), source="dashboard", withhold_safeguarding=True
        )
    response = Response(to_json(data), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="haven-subject-{platform}-{user_id}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/erase")
@login_required
def erase() -> ResponseReturnValue:
    """First post: what would go and what is held, and a confirm button. Second: erase."""
    _admin()
    platform, user_id = _subject_from_form()
    if request.form.get("confirm") != "erase":
        with Session(engine()) as db:
            counts = {e.name: len(e.export(db, platform, user_id)) for e in SUBJECT_DATA}
            cases = subject_case_ids(db, platform, user_id)
            held = would_hold(db, cases)
        return render_template(
            "privacy/confirm_erase.html",
            platform=platform,
            user_id=user_id,
            counts=counts,
            held=sorted(held),
        )
    with session_scope(engine()) as db:
        result = erase_subject(db, platform, user_id, actor=actor(), source="dashboard")
    return render_template("privacy/erased.html", platform=platform, result=result)
