"""The second factor: a TOTP code (RFC 6238, any authenticator app) after the password.

Required for admins and the safeguarding roles. A user without one is asked to enrol at
their next sign-in: the key is shown as text and as an otpauth:// link (no QR image, which
would mean an external service or more code than it is worth). `haven users reset-totp NAME`
clears a lost one. A code is accepted once: the last used time step is kept.
"""

from __future__ import annotations

import hmac
import re
import time

import pyotp
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlmodel import Session
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from bot.audit import record
from bot.db import session_scope
from bot.models import User, utcnow
from bot.web.auth import limits as auth_limits
from bot.web.auth.login import complete_login, dashboard_config, pending_user_id

bp = Blueprint("totp", __name__)

STEP_SECONDS = 30
# One step either side: phone clocks drift, and people type slowly.
DRIFT_STEPS = 1
SIX_DIGITS = re.compile(r"[0-9]{6}")


class CodeForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired(), Length(min=6, max=12)])


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(user: User, issuer: str) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(
        name=user.username, issuer_name=issuer
    )


def accept_code(user: User, code: str, now: float | None = None) -> bool:
    """True (and the step remembered, caller commits) for a fresh, correct code."""
    # ASCII digits only: "１２３４５６" is no code (and compare_digest refuses non-ASCII text).
    digits = "".join(code.split()).replace("-", "")
    if not user.totp_secret or not SIX_DIGITS.fullmatch(digits):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed: this code (or a later one) was already used
            user.totp_last_step = step
            return True
    return False


def enrol(db: Session, user: User, *, actor: str) -> str:
    """Give the user a new, confirmed secret (the demo and operators); returns it."""
    user.totp_secret = new_secret()
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = None
    db.add(user)
    record(db, actor, "user.totp_enrolled", "user", user.id)
    return user.totp_secret


def reset(db: Session, user: User, *, actor: str) -> None:
    """Forget the second factor: the user enrols again at their next sign-in."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.add(user)
    record(db, actor, "user.totp_reset", "user", user.id)


def _pending(db: Session) -> User | None:
    uid = pending_user_id()
    user = db.get(User, uid) if uid is not None else None
    return user if user is not None and user.active else None


def _pending_target() -> str:
    return str(session.get("pending_login", {}).get("next") or url_for("dashboard.queue"))


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> ResponseReturnValue:
    return _second_factor(enrolling=False)


@bp.route("/login/enrol", methods=["GET", "POST"], endpoint="enrol")
def enrol_page() -> ResponseReturnValue:
    return _second_factor(enrolling=True)


def _second_factor(*, enrolling: bool) -> ResponseReturnValue:
    config = dashboard_config()
    form = CodeForm()
    ip = auth_limits.client_ip(request, behind_proxy=config.behind_proxy)
    with session_scope(current_app.extensions["haven"].engine) as db:
        user = _pending(db)
        if user is None:
            flash("Please sign in again.", "error")
            return redirect(url_for("auth.login"))
        enrolled = user.totp_confirmed_at is not None
        if enrolling and enrolled:
            return redirect(url_for("totp.code"))
        if not enrolling and not enrolled:
            return redirect(url_for("totp.enrol"))
        if enrolling and user.totp_secret is None:
            user.totp_secret = new_secret()  # kept unconfirmed until a code proves it works
            db.add(user)
        page = "auth/enrol.html" if enrolling else "auth/code.html"
        context = {"form": form, "user": user}
        if enrolling:
            context["secret"] = user.totp_secret
            context["uri"] = provisioning_uri(user, config.totp_issuer)
        if not form.validate_on_submit():
            return render_template(page, **context)
        wait = auth_limits.refusal(db, user.username, ip, config)
        if wait:
            session.pop("pending_login", None)
            flash(f"Too many sign-in attempts. Try again in {wait} minutes.", "error")
            return redirect(url_for("auth.login"))
        if not accept_code(user, form.code.data or ""):
            auth_limits.note_attempt(db, user.username, ip, "code", succeeded=False)
            record(db, f"user:{user.id}", "user.code_failed", "user", user.id)
            flash(
                "That code is not right. Check the time on your phone and try the newest code.",
                "error",
            )
            return render_template(page, **context)
        if enrolling:
            user.totp_confirmed_at = utcnow()
            record(db, f"user:{user.id}", "user.totp_enrolled", "user", user.id)
        return complete_login(db, user, ip, "code", _pending_target())
