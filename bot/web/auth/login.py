"""Sign-in for staff: Flask-Login sessions, hashed passwords, CSRF-protected forms.

A sign-in is a password and, for admins and the safeguarding roles, a TOTP code
(bot/web/auth/totp.py). Every attempt is charged to counts in the database before it is checked
(bot/web/auth/limits.py); sessions end on the server (bot/web/auth/sessions.py).
"""

from __future__ import annotations

import functools
import os
import secrets
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
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.audit import record
from bot.cases.access import sees_safeguarding
from bot.config.dashboard import Dashboard
from bot.db import session_scope
from bot.models import ROLES, SAFEGUARDING_ROLES, User, utcnow
from bot.web.auth import limits as auth_limits
from bot.web.auth import sessions

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
TOTP_ROLES = sessions.ELEVATED_ROLES
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
        self._generation = user.session_generation

    def get_id(self) -> str:
        # The generation the session began under: when it moves on, the session is over.
        return f"{self.id}.{self._generation}"

    @property
    def can_see_safeguarding(self) -> bool:
        return sees_safeguarding(self.role)


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
        "can_see_safeguarding": sees_safeguarding(role),
    }


def dashboard_config() -> Dashboard:
    return current_app.extensions["haven"].settings.config.dashboard


def haven_engine() -> Engine:
    return current_app.extensions["haven"].engine


def needs_totp(user: User, config: Dashboard) -> bool:
    return user.role in TOTP_ROLES or (user.role == "moderator" and config.totp_for_moderators)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    """Every request: the user, if their session is still theirs and still open."""
    number, _, generation = user_id.partition(".")
    if not (number.isascii() and number.isdigit() and generation.isascii()):
        return None
    with Session(haven_engine()) as db:
        user = db.get(User, int(number))
        if user is None or not user.active or generation != str(user.session_generation):
            return None
        config = dashboard_config()
        if needs_totp(user, config) and user.totp_confirmed_at is None:
            return None  # e.g. an admin whose second factor was reset: sign in again
        over = sessions.why_over(session, user.role, config.sessions)
        if over is not None:
            sessions.forget(session)
            flash(over, "info")
            return None
        return SignedInUser(user)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def _password_method() -> str | None:
    """None for Werkzeug's default (scrypt), unless the test suite has asked for its cheap one."""
    method = os.environ.get(TEST_PASSWORD_METHOD_ENV)
    if method and "PYTEST_CURRENT_TEST" not in os.environ:
        raise RuntimeError(f"{TEST_PASSWORD_METHOD_ENV} is for Haven's test suite only: unset it")
    return method or None


def _hash_with(password: str, method: str | None) -> str:
    return generate_password_hash(password, method) if method else generate_password_hash(password)


def hash_password(password: str) -> str:
    return _hash_with(password, _password_method())


@functools.lru_cache(maxsize=4)
def _stand_in_hash(method: str | None) -> str:
    """A hash of a password nobody knows, made the way real ones are (once per process)."""
    return _hash_with(secrets.token_urlsafe(16), method)


def password_matches(user: User | None, password: str) -> bool:
    """Whether the password is the user's. An unknown or switched-off username costs one hash
    of the same method as a real check, so the time taken does not tell who has an account
    (issue 17: 0.4 s for a real user against 0.01 s)."""
    if user is None or not user.active:
        check_password_hash(_stand_in_hash(_password_method()), password)
        return False
    return check_password_hash(user.password_hash, password)


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
    sessions.end_sessions(session, user)
    record(session, actor, "user.password_set", "user", user.id)


def set_role(session: Session, user: User, role: str, *, actor: str = "cli") -> None:
    """Give a user another role; the caller commits. Their open sessions end."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    previous, user.role = user.role, role
    session.add(user)
    sessions.end_sessions(session, user)
    record(session, actor, "user.role_set", "user", user.id, role=role, previous=previous)


def charge_attempt(username: str) -> auth_limits.Attempt:
    """Charge a sign-in attempt (password or code) from this request's address."""
    config = dashboard_config()
    ip = auth_limits.client_ip(request, behind_proxy=config.behind_proxy)
    return auth_limits.charge(haven_engine(), username, ip, config)


def too_many_attempts(attempt: auth_limits.Attempt) -> None:
    flash(f"Too many sign-in attempts. Try again in {attempt.wait_in_words()}.", "error")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    # Counted before the password is checked, so parallel guesses cannot outrun the count.
    attempt = charge_attempt(form.username.data or "")
    with session_scope(haven_engine()) as db:
        if attempt.refused:
            record(db, "anonymous", "user.login_limited", "user", None)
            too_many_attempts(attempt)
            return render_template("auth/login.html", form=form), 429
        user = find_user(db, form.username.data or "")
        if not password_matches(user, form.password.data or "") or user is None:
            record(db, "anonymous", "user.login_failed", "user", None)
            # One message for both cases, so the form does not reveal which usernames exist.
            flash("That username and password do not match.", "error")
            return render_template("auth/login.html", form=form)
        target = safe_target(request.args.get("next"))
        if needs_totp(user, dashboard_config()):
            auth_limits.proved_right(db, attempt, signed_in=False)
            start_pending(user, target)
            enrolled = user.totp_confirmed_at is not None
            return redirect(url_for("totp.code" if enrolled else "totp.enrol"))
        return complete_login(db, user, attempt, target)


def start_pending(user: User, target: str) -> None:
    """Password checked; remember who, briefly, until the second factor is done."""
    sessions.forget(session)
    session["pending_login"] = {"uid": user.id, "at": int(time.time()), "next": target}


def pending_user_id() -> int | None:
    pending: Any = session.get("pending_login")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending_login", None)
        return None
    uid = pending.get("uid")
    return uid if isinstance(uid, int) else None


def complete_login(
    db: Session, user: User, attempt: auth_limits.Attempt, target: str
) -> ResponseReturnValue:
    """Every factor is checked: sign the user in."""
    session.pop("pending_login", None)
    user.last_login_at = utcnow()
    db.add(user)
    record(db, f"user:{user.id}", "user.login", "user", user.id)
    # After the user's row: every sign-in takes that lock before any count's, so two sign-ins
    # of one user never each hold what the other waits for (the audit chain comes at commit).
    auth_limits.proved_right(db, attempt, signed_in=True)
    login_user(SignedInUser(user))
    sessions.mark_signed_in(session)
    return redirect(target)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out: every session of this user ends on the server, including saved copies."""
    with session_scope(haven_engine()) as db:
        user = db.get(User, current_user.id)
        if user is not None:
            sessions.end_sessions(db, user)
            record(db, f"user:{user.id}", "user.logout", "user", user.id)
    _logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def safe_target(target: str | None) -> str:
    """Only ever redirect within the dashboard (after sign-in, after an action)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        # No control characters: a line break would end the Location header.
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.queue")
