"""Sign-in for staff: Flask-Login sessions, hashed passwords, CSRF-protected forms.

A sign-in is a password and, for admins and the safeguarding roles, a TOTP code
(bot/web/auth/totp.py). Attempts are counted in the database (bot/web/auth/limits.py), so the limits
hold across every web process.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any
from urllib.parse import urlsplit

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
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_login import logout_user as _logout_user
from flask_wtf import FlaskForm
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.audit import record
from bot.config.dashboard import Dashboard
from bot.db import session_scope
from bot.models import ROLES, SAFEGUARDING_ROLES, User, utcnow
from bot.web.auth import limits as auth_limits

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see the dashboard."
# A stolen session cookie should not survive the user's password or IP changing hands.
login_manager.session_protection = "strong"

MIN_PASSWORD_LENGTH = 12
# Who may approve what is sent in the charity's name, and who may hide or unhide comments.
APPROVERS = frozenset({"admin"}) | SAFEGUARDING_ROLES
MODERATORS = frozenset({"admin", "moderator"}) | SAFEGUARDING_ROLES
# Who may read the audit log (it names who looked at which safeguarding case).
AUDITORS = frozenset({"admin"}) | SAFEGUARDING_ROLES
# Elevated access needs a second factor, as school safeguarding systems require.
TOTP_ROLES = frozenset({"admin"}) | SAFEGUARDING_ROLES
# A password checked but no code yet: the half-signed-in state lasts this long (long enough
# to install an authenticator app while enrolling).
PENDING_SECONDS = 600
# For Haven's own test suite only: a cheap hashing method (scrypt's ~0.1-0.4 s a password was
# most of the suite's set-up). Honoured only while pytest runs a test; refused anywhere else,
# so a stray variable can never weaken the hashes of a real deployment.
TEST_PASSWORD_METHOD_ENV = "HAVEN_TEST_PASSWORD_METHOD"


class SignedInUser(UserMixin):
    """The session's view of a user: id, name and role, never the password hash."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.role = user.role
        self._fingerprint = session_fingerprint(user)

    def get_id(self) -> str:
        # The fingerprint ends every session when the password, second factor or role changes.
        return f"{self.id}.{self._fingerprint}"

    @property
    def can_see_safeguarding(self) -> bool:
        return self.role in SAFEGUARDING_ROLES


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def permissions() -> dict[str, bool]:
    """What the signed-in user may do, for every template (a context processor)."""
    role = current_user.role if current_user.is_authenticated else None
    return {
        "can_approve": role in APPROVERS,
        "can_moderate": role in MODERATORS,
        "can_audit": role in AUDITORS,
        "can_see_safeguarding": role in SAFEGUARDING_ROLES,
    }


def session_fingerprint(user: User) -> str:
    material = "|".join(
        str(part)
        for part in (user.password_hash, user.totp_secret, user.totp_confirmed_at, user.role)
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def dashboard_config() -> Dashboard:
    return current_app.extensions["haven"].settings.config.dashboard


def needs_totp(user: User, config: Dashboard) -> bool:
    return user.role in TOTP_ROLES or (user.role == "moderator" and config.totp_for_moderators)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    number, _, fingerprint = user_id.partition(".")
    if not number.isdigit():
        return None
    with Session(current_app.extensions["haven"].engine) as db:
        user = db.get(User, int(number))
        if user is None or not user.active or fingerprint != session_fingerprint(user):
            return None
        if needs_totp(user, dashboard_config()) and user.totp_confirmed_at is None:
            return None  # e.g. an admin whose second factor was reset: sign in again
        return SignedInUser(user)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """Werkzeug's default (scrypt), unless the test suite has asked for its cheap method."""
    method = os.environ.get(TEST_PASSWORD_METHOD_ENV)
    if not method:
        return generate_password_hash(password)
    if "PYTEST_CURRENT_TEST" not in os.environ:
        raise RuntimeError(f"{TEST_PASSWORD_METHOD_ENV} is for Haven's test suite only: unset it")
    return generate_password_hash(password, method)


def find_user(db: Session, username: str) -> User | None:
    return db.exec(select(User).where(User.username == username)).first()


def create_user(session: Session, username: str, password: str, role: str) -> User:
    """Add a user; the caller commits. Refuses unknown roles and short passwords."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_password_strength(password)
    if find_user(session, username) is not None:
        raise ValueError(f"a user called {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    record(session, "cli", "user.created", "user", user.id, role=role)
    return user


def set_password(session: Session, user: User, password: str, *, actor: str = "cli") -> None:
    """Replace a user's password; the caller commits. Their open sessions end."""
    _check_password_strength(password)
    user.password_hash = hash_password(password)
    session.add(user)
    record(session, actor, "user.password_set", "user", user.id)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    config = dashboard_config()
    username = form.username.data or ""
    ip = auth_limits.client_ip(request, behind_proxy=config.behind_proxy)
    with session_scope(current_app.extensions["haven"].engine) as db:
        wait = auth_limits.refusal(db, username, ip, config)
        if wait:
            record(db, "anonymous", "user.login_limited", "user", None)
            flash(f"Too many sign-in attempts. Try again in {wait} minutes.", "error")
            return render_template("auth/login.html", form=form), 429
        user = find_user(db, username)
        ok = (
            user is not None
            and user.active
            and check_password_hash(user.password_hash, form.password.data or "")
        )
        if not ok or user is None:
            auth_limits.note_attempt(db, username, ip, "password", succeeded=False)
            record(db, "anonymous", "user.login_failed", "user", None)
            # One message for both cases, so the form does not reveal which usernames exist.
            flash("That username and password do not match.", "error")
            return render_template("auth/login.html", form=form)
        target = safe_target(request.args.get("next"))
        if needs_totp(user, config):
            start_pending(user, target)
            enrolled = user.totp_confirmed_at is not None
            return redirect(url_for("totp.code" if enrolled else "totp.enrol"))
        return complete_login(db, user, ip, "password", target)


def start_pending(user: User, target: str) -> None:
    """Password checked; remember who, briefly, until the second factor is done."""
    session.pop("_user_id", None)
    session["pending_login"] = {"uid": user.id, "at": int(time.time()), "next": target}


def pending_user_id() -> int | None:
    pending: Any = session.get("pending_login")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending_login", None)
        return None
    uid = pending.get("uid")
    return uid if isinstance(uid, int) else None


def complete_login(
    db: Session, user: User, ip: str, stage: str, target: str
) -> ResponseReturnValue:
    """Every factor is checked: sign the user in."""
    session.pop("pending_login", None)
    user.last_login_at = utcnow()
    db.add(user)
    auth_limits.note_attempt(db, user.username, ip, stage, succeeded=True)
    record(db, f"user:{user.id}", "user.login", "user", user.id)
    login_user(SignedInUser(user))
    return redirect(target)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    _logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def safe_target(target: str | None) -> str:
    """Only ever redirect within the dashboard (after sign-in, after an action)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.queue")
