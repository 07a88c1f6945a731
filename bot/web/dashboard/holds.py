"""Safeguarding holds: the lead and deputy see which holds are due for review, and extend or
release each one with a reason (bot/privacy/hold_reviews.py). Nobody else reaches this page.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import Session
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.db import session_scope
from bot.models import utcnow
from bot.privacy.hold_reviews import (
    MAX_REASON,
    ReviewError,
    extend_hold,
    held_cases,
    recently_released,
    release_hold,
)
from bot.privacy.holds import months_later
from bot.web.dashboard.base import can_see_safeguarding, engine, haven

bp = Blueprint("holds", __name__)

REASON_HELP = "Initials, dates and the reason; no names or contact details."


REASON_CHECKS = [
    DataRequired("Say briefly why."),
    Length(max=MAX_REASON, message=f"Keep it under {MAX_REASON} characters."),
]


class ExtendForm(FlaskForm):
    review_on = DateField("Review again on", validators=[DataRequired("Choose a date.")])
    reason = TextAreaField(
        "Why the messages must be kept longer", validators=REASON_CHECKS, render_kw={"rows": 2}
    )


class ReleaseForm(FlaskForm):
    reason = TextAreaField(
        "Why they need not be kept any longer", validators=REASON_CHECKS, render_kw={"rows": 2}
    )
    confirm = BooleanField(
        "I understand that messages older than the retention period are then removed, "
        "for good, at the next tick",
        validators=[DataRequired("Tick the box to confirm.")],
    )


def _forms(hold_id: int) -> tuple[ExtendForm, ReleaseForm]:
    # One pair of forms per hold on the page: prefixes keep their fields' ids apart.
    return ExtendForm(prefix=f"extend-{hold_id}"), ReleaseForm(prefix=f"release-{hold_id}")


def _lead_only() -> None:
    if not can_see_safeguarding():
        abort(403)


@bp.get("/holds")
@login_required
def holds() -> ResponseReturnValue:
    _lead_only()
    return _page()


def _page(failed: int | None = None, forms: tuple[ExtendForm, ReleaseForm] | None = None,
          status: int = 200) -> ResponseReturnValue:  # fmt: skip
    """The page; `forms` are the ones just posted for hold `failed`, with their errors."""
    today = utcnow().date()
    retention = haven().settings.config.data_protection
    with Session(engine()) as db:
        held = held_cases(db, today)
        released = recently_released(db)
    rows = []
    for entry in held:
        if forms is not None and entry.hold.id == failed:
            pair = forms
        else:
            pair = _forms(entry.hold.id)  # type: ignore[arg-type]
            pair[0].review_on.data = months_later(today, retention.hold_review_months)
        rows.append((entry, *pair))
    page = render_template(
        "dashboard/holds.html",
        rows=rows,
        released=released,
        today=today,
        retention_days=retention.retention_days,
        reason_help=REASON_HELP,
    )
    return page, status


# What to fix when a form comes back incomplete.
INCOMPLETE = {
    "extend": "Give a review date and a reason.",
    "release": "Give a reason, and tick the box to confirm.",
}


@bp.post("/holds/<int:hold_id>/<any(extend, release):decision>")
@login_required
def decide(hold_id: int, decision: str) -> ResponseReturnValue:
    """Extend or release one hold; its reason becomes a note on the case."""
    _lead_only()
    forms = _forms(hold_id)
    form = forms[0] if decision == "extend" else forms[1]
    if not form.validate_on_submit():
        return _refused(hold_id, forms, INCOMPLETE[decision])
    try:
        with session_scope(engine()) as db:
            done = _record(db, hold_id, forms, decision)
    except LookupError:
        abort(404)
    except ReviewError as error:
        return _refused(hold_id, forms, str(error))
    flash(done, "info")
    return redirect(url_for("holds.holds"))


def _record(db: Session, hold_id: int, forms: tuple[ExtendForm, ReleaseForm], decision: str) -> str:
    if decision == "release":
        reason = forms[1].reason.data or ""
        release_hold(db, hold_id, reason=reason, user_id=current_user.id)
        return "Hold released: the case's messages now follow normal retention."
    review_on: date = forms[0].review_on.data  # type: ignore[assignment]
    extend_hold(db, hold_id, review_on=review_on, reason=forms[0].reason.data or "",
                user_id=current_user.id, today=utcnow().date())  # fmt: skip
    return f"Hold extended: reviewed again on {review_on:%d %B %Y}."


def _refused(
    hold_id: int, forms: tuple[ExtendForm, ReleaseForm], message: str
) -> ResponseReturnValue:
    """Nothing was recorded: the page again, with what to fix, and a 400."""
    flash(message, "error")
    return _page(hold_id, forms, 400)
