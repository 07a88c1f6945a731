"""What one webhook delivery costs, in process: CPU, SQL statements, PostgreSQL and Redis CPU.

Usage: .venv/bin/python bench/ingest_cost.py [--deliveries 2000] [--redis-db 4]

Builds the web app on a fresh PostgreSQL database and a Redis db (as production runs it, no
worker), posts signed deliveries through Flask's test client from one thread, and reports per
delivery: the process's CPU (the web side, test client included), the SQL statements sent,
the CPU of the PostgreSQL backends serving this database and of redis-server (shared: other
users' commands count too). CPU time is what a shared machine distorts least; run the old and
new code in the same minutes to compare them (e.g. from a `git worktree` of the old commit).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))  # the code under test is this checkout's

import ingest_procs as procs  # noqa: E402
import ingest_stacks as stacks  # noqa: E402
from loadgen import make_deliveries  # noqa: E402

WARM = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    stacks.add_redis_db_argument(parser, default=4)
    args = parser.parse_args(argv)
    stacks.check_redis_db(parser, args.redis_db)
    if not stacks.services_ready(args.redis_db):
        return 0
    import psycopg
    from redis import Redis

    database = f"haven_cost_{os.getpid()}_{secrets.token_hex(3)}"
    redis_url = f"redis://{stacks.REDIS_HOST}:{stacks.REDIS_PORT}/{args.redis_db}"
    with psycopg.connect(stacks._pg_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    app = None
    try:
        secret = secrets.token_hex(8)
        url = f"postgresql://{stacks.PG_USER}@{stacks.PG_HOST}:{stacks.PG_PORT}/{database}"
        workdir = Path(tempfile.mkdtemp(prefix="haven-cost-"))
        os.environ.update(
            stacks._environment(workdir, 5999, secret, DATABASE_URL=url, REDIS_URL=redis_url)
        )
        Redis.from_url(redis_url).flushdb()
        from sqlalchemy import event

        from bot.app import create_app

        app = create_app(migrate=True)
        statements = [0]

        def count(*_args: object) -> None:
            statements[0] += 1

        for engine in _engines(app):
            event.listen(engine, "before_cursor_execute", count)
        client = app.test_client()
        deliveries = make_deliveries(
            args.deliveries + WARM, page_id=stacks.PAGE_ID, secret=secret, tag="0001"
        )

        def post(index: int) -> None:
            d = deliveries[index]
            headers = {"X-Hub-Signature-256": d.signature, "Content-Type": "application/json"}
            answer = client.post("/webhooks/meta", data=d.body, headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"delivery {index} answered {answer.status_code}")

        for index in range(WARM):  # connections, prepared statements, lazy imports
            post(index)
        statements[0] = 0
        before, cpu0, wall0 = _services(database), time.process_time(), time.perf_counter()
        for index in range(WARM, WARM + args.deliveries):
            post(index)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        after, n = _services(database), args.deliveries
        print(f"- date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
        print(f"- load average (1/5/15 min): {os.getloadavg()}")
        print(
            f"- per delivery: web CPU {1000 * cpu / n:.2f} ms, wall {1000 * wall / n:.2f} ms, "
            f"SQL statements {statements[0] / n:.2f}, PostgreSQL CPU (this database) "
            f"{1000 * (after[0] - before[0]) / n:.2f} ms, redis-server CPU (shared) "
            f"{1000 * (after[1] - before[1]) / n:.2f} ms"
        )
    finally:
        if app is not None:
            for engine in _engines(app):
                engine.dispose()
        with psycopg.connect(stacks._pg_dsn("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        Redis.from_url(redis_url).flushdb()
    return 0


def _engines(app: object) -> list:
    """The app's engine and, where there is one, the webhook's own."""
    extensions = app.extensions  # type: ignore[attr-defined]
    found = [extensions["haven"].engine]
    own = getattr(extensions.get("haven.webhooks"), "one_statement_engine", None)
    return found + ([own] if own is not None else [])


def _services(database: str) -> tuple[float, float]:
    table = procs.processes()
    redis = sum(p.cpu for p in table.values() if p.comm == "redis-server")
    return procs._backends_of(database, table), redis


if __name__ == "__main__":
    sys.exit(main())
