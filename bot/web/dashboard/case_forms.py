"""What the forms on a case page share: who may post them, and where they go back to."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.web.auth.login import MODERATORS


def caseworker_only() -> None:
    """Cases are worked by moderators, admins and the safeguarding roles; others get 403."""
    if current_user.role not in MODERATORS:
        abort(403)


def back_to_case(case_id: int, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("dashboard.case_detail", case_id=case_id, _anchor=anchor))
