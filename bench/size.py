"""Size benchmark (issue 10): the dashboard's queue and case pages on a large PostgreSQL database.

Usage: .venv/bin/python bench/size.py [--items 1000000] [--open-cases 10000]
       [--closed-cases 20000] [--requests 40] [--revision head] [--write-docs] [--keep]

Makes a fresh database `haven_bench_size_<pid>_<hex>`, migrates it (`--revision` lets the
run stop before a migration, to measure without its indexes), bulk-loads realistic rows with
COPY (bench/size_data.py), runs VACUUM ANALYZE as autovacuum would, and then times the real
Flask app's pages through its test client, signed in as the safeguarding lead (who sees the
most). Each page is requested `--requests` times after two warm-ups; p50/p95/max are of the
whole request (queries and template). The slowest SQL statement of each page is shown too.
Storage per item is the size of every table with its indexes and TOAST over the item count.
The database is dropped at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docblock  # noqa: E402
import psycopg  # noqa: E402
import size_data  # noqa: E402
from size_pages import pages, signed_in_client, time_pages  # noqa: E402

PG = "host=127.0.0.1 port=5432 user=postgres"
AIM_P95_MS = 200.0


def data_key(database: str) -> str:
    """The key the loader seals texts with (as Haven would) and the app opens them with.

    Made from the database's name, so a database kept by `--keep` opens again with
    `--no-load`; its rows are made up, so the key protects nothing.
    """
    digest = hashlib.sha256(f"haven-bench-size:{database}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


@contextmanager
def fresh_database(given: str | None = None) -> Iterator[str]:
    """A new database, dropped (with any connection still open) on the way out."""
    if given:  # an empty database someone else made and will drop (the smoke test's)
        yield given
        return
    name = f"haven_bench_size_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"database {name}", file=sys.stderr)
    try:
        yield name
    finally:
        if not getattr(fresh_database, "keep", False):
            with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}", file=sys.stderr)


def existing_counts(dsn: str) -> dict[str, int]:
    tables = ("items", "inbound_events", "findings", "reply_drafts", "alerts", "audit_log")
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def storage(dsn: str, items: int) -> list[tuple[str, int, int]]:
    """(table, rows, bytes with indexes and TOAST), largest first."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 3 DESC"
        ).fetchall()
    return [(name, max(0, count), size) for name, count, size in rows]


def _install_key(key: str) -> None:
    try:
        from bot.crypto import install_keys
    except ImportError:  # a tree without encryption at rest stores texts as they are
        return
    install_keys([key])


def make_app(dsn_url: str, workdir: Path, key: str) -> Any:
    from bot.app import create_app
    from bot.config import load_settings
    from bot.tasks import LocalEnqueuer

    root = Path(__file__).resolve().parents[1]
    env = {
        "HAVEN_CONFIG": str(root / "config.yaml"),
        "HAVEN_INSTANCE_PATH": str(workdir),
        "SECRET_KEY": secrets.token_hex(32),
        "META_APP_SECRET": secrets.token_hex(16),
        "DATABASE_URL": dsn_url,
        "META_GRAPH_URL": "http://127.0.0.1:9",
        "HAVEN_DATA_KEYS": key,
    }
    settings = load_settings(None, env)
    # The pages only read; a queue that never runs keeps the bench's CPU for the pages.
    app = create_app(settings, enqueuer=LocalEnqueuer([], start=False), migrate=False)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def report(
    args: argparse.Namespace,
    started: datetime.datetime,
    counts: dict[str, int],
    sizes: list[tuple[str, int, int]],
    results: list[dict],
    load_s: float,
) -> str:  # type: ignore[type-arg]
    items = max(1, counts.get("items", 1))
    total = sum(size for _n, _r, size in sizes)
    loaded = (
        f"rows of an earlier run, migrated to this revision in {args.migrate_s:.1f} s"
        if args.no_load
        else f"loaded with COPY in {load_s:.0f} s"
    )
    lines = [
        docblock.header("size.py", started, docblock.SHARED),
        f"- data: {counts.get('items', 0):,} items (one inbound event each), "
        f"{args.open_cases:,} open and {args.closed_cases:,} closed cases, "
        f"{counts.get('findings', 0):,} findings, {counts.get('reply_drafts', 0):,} drafts, "
        f"{counts.get('alerts', 0):,} alerts, {counts.get('audit_log', 0):,} audit entries; "
        f"schema at revision `{args.revision}`; {loaded}, then VACUUM ANALYZE",
        f"- pages: the real Flask app through its test client, signed in as the safeguarding "
        f"lead; {args.requests} requests per page after 2 warm-ups; whole request (queries "
        f"and template); page size {args.page_size}",
        "",
        "| page | p50 ms | p95 ms | max ms | p95 < 200 ms | slowest statement ms "
        "| slowest statement |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        ok = "yes" if r["p95"] < AIM_P95_MS else "**NO**"
        sql = r["slowest_sql"].replace("|", "\\|")
        lines.append(f"| {r['page']} (`{r['path']}`) | {r['p50']:.1f} | {r['p95']:.1f} "
                     f"| {r['max']:.1f} | {ok} | {r['slowest_ms']:.1f} | `{sql}` |")  # fmt: skip
    lines += ["", "| table | rows | size with indexes and TOAST | bytes per item |",
              "|---|---:|---:|---:|"]  # fmt: skip
    for name, rows, size in sizes:
        if size >= 1024 * 1024:
            lines.append(f"| {name} | {rows:,} | {size / 1024**2:,.1f} MiB | {size / items:,.0f} |")
    lines.append(
        f"| **all tables** | | **{total / 1024**2:,.1f} MiB** | **{total / items:,.0f}** |"
    )
    worst = max((r["p95"] for r in results), default=float("nan"))
    verdict = "HOLDS" if worst < AIM_P95_MS else "DOES NOT HOLD"
    lines += ["", f"Aim p95 < {AIM_P95_MS:g} ms on every page: **{verdict}** "
              f"(worst p95 {worst:.1f} ms). Storage: {total / items:,.0f} bytes per item "
              "(everything, over the item count)."]  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--open-cases", type=int, default=10_000)
    parser.add_argument("--closed-cases", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--revision", default="head", help="migrate only this far")
    parser.add_argument("--no-audit", action="store_true", help="skip the audit_log rows")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--database", help="use this existing database (not dropped)")
    parser.add_argument(
        "--no-load", action="store_true",
        help="with --database: keep its rows (from an earlier --keep run), only migrate and time",
    )  # fmt: skip
    docblock.add_arguments(parser, block="size")
    args = parser.parse_args(argv)
    if not (100 <= args.items <= 5_000_000 and 1 <= args.requests <= 1000):
        parser.error("--items must be 100..5,000,000 and --requests 1..1000")
    if args.open_cases + args.closed_cases > args.items // 2:
        parser.error("at most half as many cases as items")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    free = shutil.disk_usage("/work" if Path("/work").exists() else "/").free
    needed = args.items * 3500  # measured ~2.5 kB per item with audit; keep a margin
    if free < needed * 3:
        print(f"refusing: {free / 1024**3:.1f} GiB free, need ~{needed * 3 / 1024**3:.1f}")
        return 1
    fresh_database.keep = args.keep  # type: ignore[attr-defined]
    from bot.db import make_engine, upgrade

    with (
        fresh_database(args.database) as name,
        tempfile.TemporaryDirectory(prefix="haven-size-") as tmp,
    ):
        dsn, url = f"{PG} dbname={name}", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        engine = make_engine(url)
        t0 = time.monotonic()
        upgrade(engine, args.revision)
        migrate_s = args.migrate_s = time.monotonic() - t0
        engine.dispose()
        _install_key(data_key(name))
        if args.no_load:  # a database loaded by an earlier run (--keep), migrated further
            counts, load_s = existing_counts(dsn), 0.0
            print(f"migrated to {args.revision} in {migrate_s:.1f} s", file=sys.stderr)
        else:
            plan = size_data.Plan(args.items, args.open_cases, args.closed_cases)
            t0 = time.monotonic()
            counts = size_data.load(dsn, plan, size_data.utc_now(), audit=not args.no_audit)
            load_s = time.monotonic() - t0
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # what autovacuum does to a table this size
        print(f"loaded {counts} in {load_s:.0f} s", file=sys.stderr)
        sizes = storage(dsn, args.items)
        app = make_app(url, Path(tmp), data_key(name))
        try:
            client = signed_in_client(app)
            args.page_size = app.extensions["haven"].settings.config.dashboard.page_size
            results = time_pages(app, client, pages(dsn, args.page_size), args.requests)
        finally:
            app.extensions["haven"].engine.dispose()
    text = report(args, started, counts, sizes, results, load_s)
    return docblock.publish(args, text, "## Dashboard at size (issue 10)")


if __name__ == "__main__":
    docblock.run(main)
