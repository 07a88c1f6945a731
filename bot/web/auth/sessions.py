"""Sessions that end: on the server when someone signs out, and after idle and absolute time.

A Flask session is a signed cookie, so signing out in one browser cannot delete a copy saved
somewhere else; before issue 17, such a copy kept working. Now:

- every user has a session generation in the database, and a session carries the one it began
  under; when the number moves on, the session is refused. Signing out, a new password, role or
  second factor (or its reset) moves it, ending every session of that user, on every device;
- a session records when it began and when it was last used, and is refused past the idle time
  of its user's role (shorter for those who see safeguarding cases) or its absolute time.

Flask-Login's user loader (login.py) checks both on every request.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from bot.config.dashboard import Sessions
from bot.models import SAFEGUARDING_ROLES, User

# Admins and the safeguarding lead and deputy: they can see or act on what matters most, so
# they need a second factor and their idle sessions end soonest.
ELEVATED_ROLES = frozenset({"admin"}) | SAFEGUARDING_ROLES
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# The keys a signed-in session holds (Flask-Login's and ours), dropped when it ends.
SIGNED_IN_KEYS = ("_user_id", "_fresh", "_id", SIGNED_IN_AT, SEEN_AT)


def end_sessions(db: Session, user: User) -> None:
    """End every session the user has (the caller commits). One statement, so two changes at
    once cannot both move the number to the same value."""
    db.execute(
        update(User)
        .where(User.id == user.id)  # type: ignore[arg-type]
        .values(session_generation=User.session_generation + 1)
    )
    db.expire(user, ["session_generation"])


def mark_signed_in(session: MutableMapping[str, Any], now: float | None = None) -> None:
    moment = int(now if now is not None else time.time())
    session[SIGNED_IN_AT] = moment
    session[SEEN_AT] = moment


def idle_minutes(role: str, config: Sessions) -> int:
    return config.idle_minutes if role in ELEVATED_ROLES else config.moderator_idle_minutes


def why_over(
    session: MutableMapping[str, Any], role: str, config: Sessions, now: float | None = None
) -> str | None:
    """Why this session has ended, in words for the person, or None (and it is used now)."""
    now = now if now is not None else time.time()
    began, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(began, int) or not isinstance(seen, int):
        return "Please sign in again."  # a session from before these times were kept
    idle = idle_minutes(role, config)
    if now - seen > idle * 60:
        return f"You were signed out after {idle} minutes without activity."
    if now - began > config.absolute_hours * 3600:
        return f"You were signed out: a session lasts at most {config.absolute_hours:g} hours."
    session[SEEN_AT] = int(now)
    return None


def forget(session: MutableMapping[str, Any]) -> None:
    """Drop the signed-in keys, keeping the rest (a sign-in form's CSRF token, messages)."""
    for key in SIGNED_IN_KEYS:
        session.pop(key, None)
