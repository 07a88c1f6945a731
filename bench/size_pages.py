"""The size benchmark's page timing: a signed-in client, the pages, and their slowest SQL."""

from __future__ import annotations

import re
import statistics
import sys
import time
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import event

PASSWORD = "bench size password 1"


class SlowestStatement:
    """Times every SQL statement the app runs, so a slow page names its slow query."""

    def __init__(self, engine: Any) -> None:
        self.current: list[tuple[float, str]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        started = conn.info["bench_started"].pop()
        self.current.append(((time.perf_counter() - started) * 1000, statement))

    def take(self) -> list[tuple[float, str]]:
        taken, self.current = self.current, []
        return taken


def signed_in_client(app: Any) -> Any:
    import pyotp
    from sqlmodel import select

    from bot.db import session_scope
    from bot.models import User
    from bot.web.auth.login import create_user
    from bot.web.auth.totp import enrol

    with session_scope(app.extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == "bench-lead")).first()
        # A database kept from an earlier run already has the user: give it a new key.
        user = user or create_user(db, "bench-lead", PASSWORD, "safeguarding_lead")
        key = enrol(db, user, actor="cli")
    client = app.test_client()
    answer = client.post("/login", data={"username": "bench-lead", "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]
    with session_scope(app.extensions["haven"].engine) as db:
        user = db.exec(select(User).where(User.username == "bench-lead")).one()
        user.totp_last_step = None
    answer = client.post("/login/code", data={"code": pyotp.TOTP(key).now()})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]
    return client


def pages(dsn: str, page_size: int) -> list[tuple[str, str]]:
    """(label, path) for every page measured; deep pages are the last ones."""
    with psycopg.connect(dsn) as conn:
        open_cases = conn.execute("SELECT count(*) FROM cases WHERE status <> 'closed'").fetchone()
        all_cases = conn.execute("SELECT count(*) FROM cases").fetchone()
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM cases WHERE status <> 'closed' ORDER BY id LIMIT 1000"
        ).fetchall()]  # fmt: skip
        waiting = conn.execute(
            "SELECT count(DISTINCT f.item_id) FROM findings f JOIN items i ON i.id = f.item_id "
            "WHERE i.reviewed_at IS NULL AND f.superseded_at IS NULL"
        ).fetchone()
        deep = {}
        for position in (10_000, 50_000):  # the reviewed history pages by position
            row = conn.execute(
                "SELECT reviewed_at, id FROM items i WHERE reviewed_at IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM findings f WHERE f.item_id = i.id AND f.superseded_at IS NULL) "
                "ORDER BY reviewed_at DESC, id DESC OFFSET %s LIMIT 1",
                (position - 1,),
            ).fetchone()
            if row:
                deep[position] = quote(f"{row[0].isoformat()}_{row[1]}")
    last_waiting = max(1, -(-waiting[0] // page_size))
    last_open = max(1, -(-open_cases[0] // page_size))
    last_all = max(1, -(-all_cases[0] // page_size))
    picked = [ids[(n * 97) % len(ids)] for n in range(8)] if ids else [1]
    return [
        ("queue, first page", "/"),
        (f"queue, last page ({last_waiting})", f"/?page={last_waiting}"),
        ("queue, reviewed, most recent", "/?view=reviewed"),
        *[(f"queue, reviewed, from the {n:,}th", f"/?view=reviewed&before={cursor}")
          for n, cursor in deep.items()],
        ("cases (open), first page", "/cases"),
        (f"cases (open), last page ({last_open})", f"/cases?page={last_open}"),
        ("cases, all, first page", "/cases?status=all"),
        (f"cases, all, last page ({last_all})", f"/cases?status=all&page={last_all}"),
        ("cases, filtered (safeguarding, critical)",
         "/cases?type=safeguarding&severity=critical"),
        ("cases, unassigned", "/cases?assignee=none"),
        *[(f"case page #{cid}", f"/cases/{cid}") for cid in picked[:1]],
        ("case pages (8 open cases, cycled)", "|".join(f"/cases/{c}" for c in picked)),
    ]  # fmt: skip


def short(statement: str) -> str:
    """The statement without its long column lists: the FROM and WHERE are what matter."""
    flat = re.sub(
        r"SELECT (?:(?!\bFROM\b).){60,}?\bFROM\b", "SELECT … FROM", " ".join(statement.split())
    )
    return re.sub(r"(%\([a-z_0-9]+\)s::[A-Z]+(, )?){3,}", "…", flat)[:220]


def time_pages(app: Any, client: Any, targets: list[tuple[str, str]], requests: int) -> list[dict]:  # type: ignore[type-arg]
    watcher = SlowestStatement(app.extensions["haven"].engine)
    results = []
    for label, spec in targets:
        paths = spec.split("|")
        for path in paths[:2]:  # warm-up: the template cache and the connection pool
            assert client.get(path).status_code == 200, path
        watcher.take()
        times, slowest = [], (0.0, "")
        for n in range(requests):
            path = paths[n % len(paths)]
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
            for took, statement in watcher.take():
                slowest = max(slowest, (took, statement))
        times.sort()
        results.append({
            "page": label, "path": paths[0], "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], "max": times[-1],
            "slowest_ms": slowest[0], "slowest_sql": short(slowest[1]),
        })  # fmt: skip
        print(f"  {label}: p50 {results[-1]['p50']:.1f} p95 {results[-1]['p95']:.1f} ms; "
              f"slowest statement {slowest[0]:.1f} ms", file=sys.stderr)  # fmt: skip
    return results
