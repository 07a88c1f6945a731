"""Start and stop the two stacks the ingest benchmark measures, and read back what they stored.

production: gunicorn (Procfile `web` flags) on bot.app:create_app(), a fresh PostgreSQL
database made for the run and dropped after, a dedicated Redis db (flushed before and after),
and `haven worker` process(es) draining the queue. embedded: `haven serve` with no
DATABASE_URL/REDIS_URL, i.e. one gunicorn gthread worker, a SQLite file in a temporary
instance folder and the in-process queue. Every process is started in its own session and
its whole process group is ended on the way out, whatever went wrong.
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography.fernet import Fernet
from ingest_procs import BenchError, Processes

ROOT = Path(__file__).resolve().parents[1]
_VENV_BIN = ROOT / ".venv" / "bin"
BIN = _VENV_BIN if (_VENV_BIN / "python").exists() else Path(sys.executable).parent
PYTHON = str(BIN / "python")
PAGE_ID = "104000000000777"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'  # the Procfile's

# Used only when `haven` itself does not import (the CLI is mid-change): the same calls the
# CLI commands make, so the processes under test are the same either way.
_FALLBACK = {
    "serve": "from bot.config import load_settings; from bot.cli.server import HavenServer; "
    "HavenServer(load_settings()).run()",
    "worker": "from rq import Worker; from bot.config import load_settings; "
    "from bot.context import build_context, install; "
    "q = install(build_context(load_settings())).enqueuer.queue; "
    "Worker([q], connection=q.connection, serializer=q.serializer).work(with_scheduler=True)",
    "init-db": "from bot.config import load_settings; from bot.db import make_engine, upgrade; "
    "upgrade(make_engine(load_settings().database_url))",
}


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(_pg_dsn("postgres"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "skip", with the reason shown
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable ({type(exc).__name__})"


def services_problem(redis_db: int) -> str | None:
    """Why the production stack cannot run here (with what to do), or None."""
    problem = postgres_problem() or redis_problem(redis_db)
    return f"{problem} (run `bash scripts/ensure-services`)" if problem else None


def services_ready(redis_db: int) -> bool:
    """True when PostgreSQL and the Redis db answer; otherwise say why the bench is skipped."""
    problem = services_problem(redis_db)
    if problem:
        print(f"SKIP: {problem}")
    return problem is None


def bench_main(
    argv: list[str] | None,
    parse_args: Callable[[list[str] | None], argparse.Namespace],
    measure: Callable[[argparse.Namespace, datetime.datetime, int], int],
) -> int:
    """What every stack bench's `main` does first: read its arguments, skip with the reason when
    PostgreSQL or Redis is missing, note when it started, and pick a nonce that keeps this run's
    ids apart from earlier runs' in the same databases; then `measure`."""
    args = parse_args(argv)
    if not services_ready(args.redis_db):
        return 0
    return measure(args, datetime.datetime.now(datetime.UTC), int(time.time()) % 1000)


def add_redis_db_argument(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--redis-db", type=int, default=default, help="dedicated Redis db, flushed")


def check_redis_db(parser: argparse.ArgumentParser, db: int) -> None:
    if db == 15 or not 0 <= db <= 15:
        parser.error("--redis-db must be 0..14 (the tests use 15)")


def redis_problem(db: int) -> str | None:
    try:
        from redis import Redis

        Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=3).ping()
        return None
    except Exception as exc:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} is not reachable ({type(exc).__name__})"


def _pg_dsn(database: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={database}"


def cli_works() -> bool:
    """True when `haven` imports; others edit bot/ while this runs, so check, do not assume."""
    probe = subprocess.run(
        [PYTHON, "-c", "import bot.cli"], cwd=ROOT, capture_output=True, timeout=60
    )
    return probe.returncode == 0


def haven(command: str, use_cli: bool) -> list[str]:
    return [str(BIN / "haven"), command] if use_cli else [PYTHON, "-c", _FALLBACK[command]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running stack: where to send, the secret it checks, how to read its database."""

    name: str
    port: int
    secret: str
    description: str
    workdir: Path
    database_url: str
    sqlite_path: Path | None = None
    logs: list[Path] = field(default_factory=list)
    processes: Processes | None = None
    env: dict[str, str] = field(default_factory=dict)  # what its processes were started with
    pg_database: str | None = None  # production: the database its PostgreSQL backends serve

    def _query(self, sql: str) -> list[tuple]:
        if self.sqlite_path is not None:
            with closing(sqlite3.connect(self.sqlite_path, timeout=30)) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            return conn.execute(sql).fetchall()

    def stored_ids(self) -> Counter[str]:
        """How many items each external id has (every bench delivery carries one item)."""
        rows = self._query("SELECT external_id, count(*) FROM items GROUP BY external_id")
        return Counter({row[0]: int(row[1]) for row in rows})

    def statuses(self) -> dict[str, int]:
        rows = self._query("SELECT status, count(*) FROM items GROUP BY status")
        return {row[0]: int(row[1]) for row in rows}

    def progress(self) -> tuple[int, int]:
        """(items the worker has not finished with yet, items it has)."""
        statuses = self.statuses()
        waiting = sum(n for s, n in statuses.items() if s in ("received", "processing"))
        return waiting, sum(statuses.values()) - waiting

    def events(self) -> int:
        return int(self._query("SELECT count(*) FROM inbound_events")[0][0])


def _environment(workdir: Path, port: int, secret: str, **extra: str) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")) or {}
    config.setdefault("meta", {})["accounts"] = [
        {"id": PAGE_ID, "name": "Bench page", "platform": "facebook", "token_env": "BENCH_TOKEN"}
    ]
    config.setdefault("dashboard", {})["secure_cookies"] = False
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {
        **{k: os.environ[k] for k in keep if k in os.environ},
        "HAVEN_CONFIG": str(config_path),
        "HAVEN_INSTANCE_PATH": str(workdir / "instance"),
        "SECRET_KEY": secrets.token_hex(32),
        "META_APP_SECRET": secret,
        "META_VERIFY_TOKEN": secrets.token_hex(8),
        # Texts are encrypted at rest: a fresh key per stack, shared by its web and workers.
        "HAVEN_DATA_KEYS": Fernet.generate_key().decode("ascii"),
        "BENCH_TOKEN": "bench-token-not-real",
        # dry_run stays on (copied config); this makes doubly sure nothing can reach Meta.
        "META_GRAPH_URL": "http://127.0.0.1:9",
        "PORT": str(port),
        **extra,
    }


def _wait_ready(port: int, procs: Processes, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"no answer on 127.0.0.1:{port}/healthz after {timeout:.0f} s")


@contextmanager
def production_stack(
    workdir: Path,
    *,
    web_workers: int,
    rq_workers: int,
    redis_db: int,
    use_cli: bool,
    threads: int = 8,
    keep_alive: int | None = None,
) -> Iterator[Stack]:
    import psycopg
    from redis import Redis

    redis = Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db, socket_timeout=5)
    foreign = [k for k in redis.scan_iter(count=1000) if not k.startswith(b"rq:")][:3]
    if foreign:
        raise BenchError(f"Redis db {redis_db} holds non-rq keys {foreign}; pick --redis-db")
    database = f"haven_bench_{os.getpid()}_{secrets.token_hex(3)}"
    port, secret, procs = free_port(), secrets.token_hex(16), Processes()
    url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
    created = False
    try:
        redis.flushdb()
        with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        created = True
        env = _environment(
            workdir, port, secret, DATABASE_URL=url, REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
        )  # fmt: skip
        migrate = subprocess.run(
            haven("init-db", use_cli), cwd=ROOT, env=env, capture_output=True, timeout=120
        )
        if migrate.returncode != 0:
            raise BenchError(f"init-db failed:\n{migrate.stderr.decode(errors='replace')[-2000:]}")
        web = [
            str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers),
            "--worker-class", "gthread", "--threads", str(threads),
            "--access-logformat", ACCESS_LOG_FORMAT,
            *(["--keep-alive", str(keep_alive)] if keep_alive is not None else []),
            "bot.app:create_app()",
        ]  # fmt: skip
        procs.start("web: gunicorn", web, env, workdir / "web.log")
        for n in range(rq_workers):
            procs.start(
                f"worker: haven worker {n}",
                haven("worker", use_cli),
                env,
                workdir / f"worker{n}.log",
            )
        _wait_ready(port, procs)
        yield Stack(
            name="production",
            port=port,
            secret=secret,
            description=(
                f"gunicorn {web_workers} worker(s) x {threads} gthreads"
                + (f", keep-alive {keep_alive} s" if keep_alive is not None else "")
                + " on bot.app:create_app(), "
                f"PostgreSQL db {database}, Redis db {redis_db}, {rq_workers} `haven worker`"
            ),
            workdir=workdir,
            database_url=url,
            logs=[workdir / "web.log"] + [workdir / f"worker{n}.log" for n in range(rq_workers)],
            processes=procs,
            env=env,
            pg_database=database,
        )
    finally:
        procs.stop_all()
        try:
            redis.flushdb()
        except Exception as exc:
            print(f"warning: could not flush Redis db {redis_db}: {exc}", file=sys.stderr)
        if created:
            with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def embedded_stack(workdir: Path, *, use_cli: bool) -> Iterator[Stack]:
    port, secret, procs = free_port(), secrets.token_hex(16), Processes()
    env = _environment(workdir, port, secret)
    sqlite_path = workdir / "instance" / "haven.sqlite"
    try:
        procs.start("web: haven serve", haven("serve", use_cli), env, workdir / "serve.log")
        _wait_ready(port, procs)
        yield Stack(
            name="embedded",
            port=port,
            secret=secret,
            description="`haven serve`: gunicorn 1 worker x 8 gthreads, SQLite, in-process queue",
            workdir=workdir,
            database_url=f"sqlite:///{sqlite_path}",
            sqlite_path=sqlite_path,
            logs=[workdir / "serve.log"],
            processes=procs,
            env=env,
        )
    finally:
        procs.stop_all()
