"""Sign-in for staff: Flask-Login sessions, hashed passwords, CSRF-protected forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.audit import record
from bot.db import session_scope
from bot.models import ROLES, SAFEGUARDING_ROLES, User, utcnow

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


class SignedInUser(UserMixin):
    """The session's view of a user: id, name and role, never the password hash."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.role = user.role

    @property
    def can_see_safeguarding(self) -> bool:
        return self.role in SAFEGUARDING_ROLES


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _permissions() -> dict[str, bool]:
        role = current_user.role if current_user.is_authenticated else None
        return {"can_approve": role in APPROVERS, "can_moderate": role in MODERATORS}


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    engine = current_app.extensions["haven"].engine
    with Session(engine) as session:
        user = session.get(User, int(user_id)) if user_id.isdigit() else None
        return SignedInUser(user) if user is not None and user.active else None


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, username: str, password: str, role: str) -> User:
    """Add a user; the caller commits. Refuses unknown roles and short passwords."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_password_strength(password)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise ValueError(f"a user called {username!r} already exists")
    user = User(username=username, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    record(session, "cli", "user.created", "user", user.id, role=role)
    return user


def set_password(session: Session, user: User, password: str, *, actor: str = "cli") -> None:
    """Replace a user's password; the caller commits."""
    _check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    session.add(user)
    record(session, actor, "user.password_set", "user", user.id)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        engine = current_app.extensions["haven"].engine
        with session_scope(engine) as session:
            user = session.exec(select(User).where(User.username == form.username.data)).first()
            ok = (
                user is not None
                and user.active
                and check_password_hash(user.password_hash, form.password.data or "")
            )
            if ok:
                user.last_login_at = utcnow()
                record(session, f"user:{user.id}", "user.login", "user", user.id)
                signed_in = SignedInUser(user)
            else:
                record(session, "anonymous", "user.login_failed", "user", None)
        if ok:
            login_user(signed_in)
            return redirect(_safe_next(request.args.get("next")))
        # One message for both cases, so the form does not reveal which usernames exist.
        flash("That username and password do not match.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only ever redirect within the dashboard after sign-in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.queue")
