"""Sign-in throttling: growing waits instead of lock-outs, counted atomically in the database.

A hard block is a weapon (issue 17): five wrong passwords locked the safeguarding lead out for
15 minutes, twenty from one address locked out a whole office. So each failure is charged to
counts that a stranger cannot share with the lead:

- from an address the user has signed in from (within `login_known_address_days`), a count of
  its own for that username and address, and nothing else: the lead at her usual desk is never
  slowed by failures anywhere else;
- from any other address, one count for the username over all such addresses (spreading
  guesses over many addresses gains nothing) and one for the address over all the usernames it
  has never signed in as (guessing names).

Up to its free failures a count lets attempts through; past them, each further attempt waits
a minute, then two, four ... up to `login_max_wait_minutes`, and never longer. A quiet
`login_window_minutes` after the last wait forgets the failures.

An attempt is charged *before* its password or code is checked, in a transaction of its own:
on each count, one conditional UPDATE adds the failure only if the count lets the attempt
through at that moment. It is taken back when it proves right. Parallel requests therefore
cannot all slip under a limit (thirty at once once got eleven checks against a limit of five),
a refused attempt changes nothing, and every web process sees the same counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Request
from sqlalchemy import ColumnElement, case, delete, literal, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config.dashboard import Dashboard
from bot.db import insert_ignoring_duplicates, session_scope
from bot.models import utcnow
from bot.models.dashboard import LoginThrottle

FIRST_WAIT = timedelta(minutes=1)
# An update that finds no count, then an insert that finds one made meanwhile, then again.
RETRIES = 4
NO_WAIT = timedelta(0)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the counts it was charged to, or how long it must wait instead."""

    charged: tuple[str, ...] = ()
    pair: str = ""
    wait: timedelta = NO_WAIT

    @property
    def refused(self) -> bool:
        return self.wait > NO_WAIT

    def wait_in_words(self) -> str:
        minutes = max(1, math.ceil(self.wait.total_seconds() / 60))
        return "1 minute" if minutes == 1 else f"{minutes} minutes"


class _Refused(Exception):
    def __init__(self, wait: timedelta) -> None:
        super().__init__()
        self.wait = wait


def client_ip(request: Request, *, behind_proxy: bool) -> str:
    """The address to count attempts against; behind one proxy, the client's own."""
    if behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        # The proxy appends the address it saw, so the last entry is the one it vouches for.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return (request.remote_addr or "unknown")[:64]


def _name(username: str) -> str:
    return username.strip().lower()[:80]


def wait_after(failures: int, free: int, config: Dashboard) -> timedelta:
    """How long after its last failure a count with this many failures lets the next through."""
    if failures < free:
        return NO_WAIT
    longest = timedelta(minutes=config.login_max_wait_minutes)
    return min(FIRST_WAIT * 2 ** min(failures - free, 20), longest)


def _standing(
    failures: int, last_at: datetime, free: int, config: Dashboard, now: datetime
) -> tuple[int, timedelta]:
    """The failures a count still remembers, and the wait left before another attempt."""
    until = last_at + wait_after(failures, free, config)
    if now >= until + timedelta(minutes=config.login_window_minutes):
        return 0, NO_WAIT
    return failures, max(until - now, NO_WAIT)


def charge(
    engine: Engine, username: str, ip: str, config: Dashboard, now: datetime | None = None
) -> Attempt:
    """Count an attempt as a failure before it is checked; refused (nothing counted) if it must
    wait. Commits at once, whatever the check then finds."""
    now = now or utcnow()
    pair = f"pair:{_name(username)}|{ip}"
    with Session(engine) as db:
        known_since = now - timedelta(days=config.login_known_address_days)
        succeeded = db.exec(select(LoginThrottle.succeeded_at).where(LoginThrottle.key == pair))
        last_success = succeeded.first()
    if last_success is not None and last_success >= known_since:
        counts = [(pair, config.login_failures_per_user)]
    else:
        counts = [
            (f"user:{_name(username)}", config.login_failures_per_user),
            (f"ip:{ip}", config.login_failures_per_ip),
        ]
    try:
        with session_scope(engine) as db:
            # Always in this order (user, ip; pair in proved_right), so two transactions
            # never each hold a count the other waits for.
            for key, free in counts:
                _charge_one(db, key, free, config, now)
    except _Refused as refused:
        return Attempt(pair=pair, wait=refused.wait)  # rolled back: a refusal counts nothing
    with session_scope(engine) as db:
        _prune(db, config, now)
    return Attempt(charged=tuple(key for key, _free in counts), pair=pair)


def _charge_one(db: Session, key: str, free: int, config: Dashboard, now: datetime) -> None:
    """One statement adds the failure only if the count lets an attempt through now: on
    PostgreSQL a concurrent one waits for this row and then checks the condition again against
    what this one wrote; on SQLite writers take turns."""
    window = timedelta(minutes=config.login_window_minutes)
    for _ in range(RETRIES):
        changed = db.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,  # type: ignore[arg-type]
                or_(
                    LoginThrottle.failures < free,  # type: ignore[arg-type]
                    LoginThrottle.last_at <= _moment_by_failures(free, config, now, NO_WAIT),  # type: ignore[arg-type]
                ),
            )
            .values(
                failures=case(
                    (LoginThrottle.last_at <= _moment_by_failures(free, config, now, window), 1),  # type: ignore[arg-type]
                    else_=LoginThrottle.failures + 1,
                ),
                last_at=now,
            )
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            return
        row = db.exec(
            select(LoginThrottle.failures, LoginThrottle.last_at).where(LoginThrottle.key == key)
        ).first()
        if row is not None:
            _failures, wait = _standing(row.failures, row.last_at, free, config, now)
            if wait:
                raise _Refused(wait)
            continue  # a sign-in that proved right took its failure back meanwhile
        insert = insert_ignoring_duplicates(db, LoginThrottle, "key")
        values = {"key": key, "failures": 1, "last_at": now}
        if db.execute(insert.values(**values).returning(insert.table.c.key)).first():
            return
        # Another request made the count between our update and our insert: update it.
    raise _Refused(FIRST_WAIT)


def _moment_by_failures(
    free: int, config: Dashboard, now: datetime, beyond: timedelta
) -> ColumnElement[datetime]:
    """In SQL, for each row: now, less `beyond` and the wait its failures earn (wait_after)."""
    branches = []
    failures = free
    while wait_after(failures, free, config) < timedelta(minutes=config.login_max_wait_minutes):
        moment = now - beyond - wait_after(failures, free, config)
        branches.append((LoginThrottle.failures == failures, _at(moment)))
        failures += 1
    longest = now - beyond - timedelta(minutes=config.login_max_wait_minutes)
    return case(
        (LoginThrottle.failures < free, _at(now - beyond)),  # type: ignore[arg-type]
        *branches,
        else_=_at(longest),
    )


def _at(moment: datetime) -> ColumnElement[datetime]:
    # Bound with the column's own type, so SQLite compares it in the format it stores.
    return literal(moment, LoginThrottle.__table__.c.last_at.type)  # type: ignore[attr-defined]


def proved_right(db: Session, attempt: Attempt, *, signed_in: bool) -> None:
    """The password or code was right: take the attempt back (the caller commits). A completed
    sign-in also makes the address the user's own, with a clean count."""
    for key in attempt.charged:
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.failures > 0)  # type: ignore[arg-type]
            .values(failures=LoginThrottle.failures - 1)
        )
    if signed_in:
        now = utcnow()
        insert = insert_ignoring_duplicates(db, LoginThrottle, "key")
        db.execute(insert.values(key=attempt.pair, failures=0, last_at=now))
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == attempt.pair)  # type: ignore[arg-type]
            .values(failures=0, succeeded_at=now)
        )


def _prune(db: Session, config: Dashboard, now: datetime) -> None:
    """Drop counts that remember nothing and addresses no longer anyone's own."""
    quiet = timedelta(minutes=config.login_max_wait_minutes + config.login_window_minutes)
    known_since = now - timedelta(days=config.login_known_address_days)
    stale = (
        select(LoginThrottle.key)
        .where(
            LoginThrottle.last_at < now - quiet,  # type: ignore[arg-type]
            or_(
                LoginThrottle.succeeded_at.is_(None),  # type: ignore[union-attr]
                LoginThrottle.succeeded_at < known_since,  # type: ignore[operator]
            ),
        )
        # Rows a sign-in holds are left for next time: pruning must never wait on one.
        .with_for_update(skip_locked=True)
    )
    db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(stale)))  # type: ignore[attr-defined]
