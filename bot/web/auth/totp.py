"""The second factor: a TOTP code (RFC 6238, any authenticator app) after the password.

Required for admins and the safeguarding roles. A new user without one is asked to enrol at
their first sign-in: the key is shown as text and as an otpauth:// link (no QR image, which
would mean an external service or more code than it is worth). `haven users reset-totp NAME`
clears a lost one and prints a one-time enrolment code (and a link holding it): after a reset,
the password alone no longer sets up a new second factor, so someone who has only the password
cannot put the lead's second factor on their own phone.

A code is accepted once: the last used time step is claimed with a conditional UPDATE, so the
same code sent from many sessions at once signs in one of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from bot.audit import record
from bot.db import session_scope
from bot.models import User, utcnow
from bot.web.auth import limits as auth_limits
from bot.web.auth.login import (
    charge_attempt,
    complete_login,
    dashboard_config,
    haven_engine,
    pending_user_id,
    too_many_attempts,
)
from bot.web.auth.sessions import end_sessions

bp = Blueprint("totp", __name__)

STEP_SECONDS = 30
# One step either side: phone clocks drift, and people type slowly.
DRIFT_STEPS = 1
# Long enough to reach someone over a weekend; after it, the reset is done again.
ENROL_CODE_VALID = timedelta(days=3)
ENROL_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # no 0/O or 1/I to misread
ENROL_CODE_LENGTH = 12  # 60 bits, and every guess is a counted sign-in attempt


class CodeForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired(), Length(min=6, max=12)])


class EnrolCodeForm(FlaskForm):
    reset_code = StringField("Enrolment code", validators=[DataRequired(), Length(max=40)])


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(user: User, issuer: str) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(
        name=user.username, issuer_name=issuer
    )


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a correct code belongs to (one step of drift either side), or None."""
    digits = code.replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            return step
    return None


def use_code(db: Session, user: User, code: str, now: float | None = None) -> bool:
    """True for a right code whose time step (or a later one) was never used; the step is
    claimed in the same statement that checks it (the caller commits)."""
    step = matching_step(user.totp_secret or "", code, now) if user.totp_secret else None
    if step is None:
        return False
    claimed = db.execute(
        update(User)
        .where(
            User.id == user.id,  # type: ignore[arg-type]
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),  # type: ignore[union-attr,operator]
        )
        .values(totp_last_step=step)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False  # replayed, perhaps by another session at this very moment
    set_committed_value(user, "totp_last_step", step)
    return True


def _code_hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def enrol(db: Session, user: User, *, actor: str) -> str:
    """Give the user a new, confirmed secret (the demo and operators); returns it."""
    user.totp_secret = new_secret()
    _confirmed(db, user, actor=actor)
    user.totp_last_step = None
    return user.totp_secret


def _confirmed(db: Session, user: User, *, actor: str) -> None:
    """The user's second factor is now this secret: other sessions end, any reset code dies."""
    user.totp_confirmed_at = utcnow()
    user.totp_enrol_code_hash = None
    user.totp_enrol_code_expires_at = None
    db.add(user)
    end_sessions(db, user)
    record(db, actor, "user.totp_enrolled", "user", user.id)


def reset(db: Session, user: User, *, actor: str) -> str:
    """Forget the second factor and end the user's sessions; returns the one-time enrolment
    code (shown once, stored hashed) without which no new one can be set up."""
    code = "".join(secrets.choice(ENROL_CODE_ALPHABET) for _ in range(ENROL_CODE_LENGTH))
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.totp_enrol_code_hash = _code_hash(code)
    user.totp_enrol_code_expires_at = utcnow() + ENROL_CODE_VALID
    db.add(user)
    end_sessions(db, user)
    record(db, actor, "user.totp_reset", "user", user.id)
    return "-".join(code[i : i + 4] for i in range(0, ENROL_CODE_LENGTH, 4))


def _enrol_code_matches(user: User, code: str) -> bool:
    expires = user.totp_enrol_code_expires_at
    if user.totp_enrol_code_hash is None or expires is None or expires < utcnow():
        return False
    return hmac.compare_digest(_code_hash(code), user.totp_enrol_code_hash)


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
    if request.args.get("reset"):
        # The link `haven users reset-totp` prints: keep its code through the password step.
        session["enrol_code"] = request.args["reset"][:40]
    return _second_factor(enrolling=True)


def _second_factor(*, enrolling: bool) -> ResponseReturnValue:
    with session_scope(haven_engine()) as db:
        user = _pending(db)
        if user is None:
            if session.get("enrol_code"):
                flash("Sign in with your password to set up your new second factor.", "info")
            else:
                flash("Please sign in again.", "error")
            return redirect(url_for("auth.login"))
        enrolled = user.totp_confirmed_at is not None
        if enrolling and enrolled:
            return redirect(url_for("totp.code"))
        if not enrolling and not enrolled:
            return redirect(url_for("totp.enrol"))
        if enrolling and user.totp_enrol_code_hash and not session["pending_login"].get("code_ok"):
            return _enrol_code(db, user)
        return _totp_code(db, user, enrolling=enrolling)


def _enrol_code(db: Session, user: User) -> ResponseReturnValue:
    """After a reset: the one-time enrolment code first, and only then a new key to show."""
    form = EnrolCodeForm()
    offered = session.pop("enrol_code", None) or (
        form.reset_code.data if form.validate_on_submit() else None
    )
    if not offered:
        return render_template("auth/enrol_code.html", form=form, user=user)
    attempt = charge_attempt(user.username)
    if attempt.refused:
        return _refused(attempt)
    if not _enrol_code_matches(user, offered):
        record(db, f"user:{user.id}", "user.enrol_code_failed", "user", user.id)
        flash(
            "That enrolment code is not right, or it has expired. Ask whoever reset your "
            "second factor for a new one.",
            "error",
        )
        return render_template("auth/enrol_code.html", form=EnrolCodeForm(formdata=None), user=user)
    # A new key, made only now: none shown to anyone before the code was given is of any use.
    user.totp_secret = new_secret()
    db.add(user)
    auth_limits.proved_right(db, attempt, signed_in=False)  # after the user's row, as always
    session["pending_login"] = {**session["pending_login"], "code_ok": True}
    return _key_page(user, CodeForm(formdata=None))


def _key_page(user: User, form: CodeForm) -> ResponseReturnValue:
    uri = provisioning_uri(user, dashboard_config().totp_issuer)
    secret = user.totp_secret
    return render_template("auth/enrol.html", form=form, user=user, secret=secret, uri=uri)


def _refused(attempt: auth_limits.Attempt) -> ResponseReturnValue:
    session.pop("pending_login", None)
    too_many_attempts(attempt)
    return redirect(url_for("auth.login"))


def _totp_code(db: Session, user: User, *, enrolling: bool) -> ResponseReturnValue:
    form = CodeForm()
    if enrolling and user.totp_secret is None:
        user.totp_secret = new_secret()  # kept unconfirmed until a code proves it works
        db.add(user)
        return _key_page(user, form)
    if not form.validate_on_submit():
        if enrolling:
            return _key_page(user, form)
        return render_template("auth/code.html", form=form, user=user)
    # Counted before the code is checked, so parallel guesses cannot outrun the count.
    attempt = charge_attempt(user.username)
    if attempt.refused:
        return _refused(attempt)
    if not use_code(db, user, form.code.data or ""):
        record(db, f"user:{user.id}", "user.code_failed", "user", user.id)
        flash(
            "That code is not right. Check the time on your phone and try the newest code.",
            "error",
        )
        if enrolling:
            return _key_page(user, form)
        return render_template("auth/code.html", form=form, user=user)
    if enrolling:
        _confirmed(db, user, actor=f"user:{user.id}")
    return complete_login(db, user, attempt, _pending_target())
