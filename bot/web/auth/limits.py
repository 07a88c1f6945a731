"""Sign-in attempt limits, per username and per address, kept in the database.

The database (not process memory, not Redis) holds the count, so the limit is the same for
every gunicorn worker and web machine, and a restart does not wipe it. A username is limited
whether or not it exists, so a refusal says nothing about who has an account.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import Request
from sqlalchemy import delete, func
from sqlmodel import Session, select

from bot.config.dashboard import Dashboard
from bot.models import utcnow
from bot.models.dashboard import LoginAttempt

# Rows older than this are of no use to any window and are pruned as new ones arrive.
KEEP_FOR = timedelta(days=1)


def client_ip(request: Request, *, behind_proxy: bool) -> str:
    """The address to count attempts against; behind one proxy, the client's own."""
    if behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        # The proxy appends the address it saw, so the last entry is the one it vouches for.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return (request.remote_addr or "unknown")[:64]


def _key(username: str) -> str:
    return username.strip().lower()[:80]


def refusal(
    db: Session, username: str, ip: str, config: Dashboard, now: datetime | None = None
) -> int:
    """0 if another attempt may be made now, else the minutes to wait."""
    now = now or utcnow()
    window = timedelta(minutes=config.login_window_minutes)
    since = now - window
    # A completed sign-in clears the username's slate (but not the address's).
    last_success = db.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == _key(username), LoginAttempt.succeeded.is_(True)
        )
    ).one()
    user_since = max(since, last_success) if last_success else since
    by_user = _failures(db, LoginAttempt.username == _key(username), user_since)
    by_ip = _failures(db, LoginAttempt.ip == ip, since)
    oldest: list[datetime] = []
    if len(by_user) >= config.login_failures_per_user:
        oldest.append(by_user[-config.login_failures_per_user])
    if len(by_ip) >= config.login_failures_per_ip:
        oldest.append(by_ip[-config.login_failures_per_ip])
    if not oldest:
        return 0
    # Allowed again when the failure that reached the limit leaves the window.
    free_at = max(oldest) + window
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


def _failures(db: Session, condition, since: datetime) -> list[datetime]:  # type: ignore[no-untyped-def]
    """Times of failed attempts matching `condition` since `since`, oldest first."""
    return list(
        db.exec(
            select(LoginAttempt.at)
            .where(condition, LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
            .order_by(LoginAttempt.at)
        ).all()
    )


def note_attempt(
    db: Session, username: str, ip: str, stage: str, *, succeeded: bool, now: datetime | None = None
) -> None:
    """Record an attempt (the caller commits) and prune what no window needs any more."""
    now = now or utcnow()
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_FOR))
    db.add(LoginAttempt(at=now, username=_key(username), ip=ip, stage=stage, succeeded=succeeded))
