"""Databases for the tests: migrated once per session, copied for each test.

Running Alembic for every test cost 0.1-0.3 s on SQLite and most of a second on PostgreSQL.
Instead the session migrates one template of each (SQLite: a file; PostgreSQL: a database
named uniquely for this session, so suites running side by side never share one), and each
test starts from a copy: a file copy, or `CREATE DATABASE ... TEMPLATE`. The tests of the
migrations themselves still migrate empty databases (`postgres_url`, their own SQLite file).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bot.db import make_engine, upgrade
from tests.helpers import POSTGRES_ADMIN_URL, service_unavailable

_sqlite_template: Path | None = None


def build_sqlite_template(directory: Path) -> Path:
    """Migrate a SQLite file to head, fold its write-ahead log in, and keep it as the template."""
    global _sqlite_template
    path = directory / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    _sqlite_template = path
    return path


def copy_sqlite_template(target: Path) -> Path:
    """A migrated database at `target`, unless one is already there (a second app on the
    same instance must find the first one's data)."""
    if _sqlite_template is None:
        raise RuntimeError("the session's SQLite template is not built yet (tests/conftest.py)")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template, target)
    return target


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _admin():  # type: ignore[no-untyped-def]
    import psycopg

    try:
        return psycopg.connect(_plain(POSTGRES_ADMIN_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        service_unavailable("PostgreSQL at 127.0.0.1:5432")


def database_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


class _Copies:
    """Copies of one template made ahead of the tests that take them, and dropped after them,
    on threads of their own.

    `CREATE DATABASE ... TEMPLATE` takes 30-500 ms here, most of it PostgreSQL writing and
    syncing files while the test waited; the tests that take copies often come one after
    another and finish in less. So copies are made a few tests ahead, two at a time, and
    dropped on a thread of their own so that a drop never holds up the next copy. A copy is
    never handed out twice, and every copy made is dropped: a failed drop is raised when the
    session's template goes, not lost on the thread.
    """

    AHEAD = 4

    def __init__(self, template: str) -> None:
        self.template = template
        self._makers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="db-copies")
        self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-drops")
        self._made: deque[Future[str]] = deque()
        self._drops: list[Future[None]] = []

    def take(self) -> str:
        while len(self._made) < self.AHEAD + 1:
            self._made.append(self._makers.submit(self._create))
        return self._made.popleft().result()

    def give_back(self, name: str) -> None:
        # Keep only the drops still running or failed: the rest have nothing more to say.
        self._drops = [d for d in self._drops if not d.done() or d.exception() is not None]
        self._drops.append(self._dropper.submit(_drop, name))

    def close(self) -> None:
        """Drop every copy made (one that failed to be made has nothing to drop), then raise
        the first drop that failed."""
        for made in self._made:
            if made.cancel():
                continue
            try:
                name = made.result()
            except BaseException:  # noqa: BLE001 - never made, so nothing to drop
                continue
            self._drops.append(self._dropper.submit(_drop, name))
        self._made.clear()
        self._makers.shutdown(wait=True)
        self._dropper.shutdown(wait=True)
        for drop in self._drops:
            if drop.exception() is not None:
                raise drop.exception()  # type: ignore[misc]

    def _create(self) -> str:
        name = f"haven_test_{secrets.token_hex(4)}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name


_copies: dict[str, _Copies] = {}


def _drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A database of its own for one test (a copy of `template` if given), dropped after."""
    if template is not None:
        copies = _copies.setdefault(template, _Copies(template))
        name = copies.take()
        try:
            yield database_url(name)
        finally:
            copies.give_back(name)
        return
    name = f"haven_test_{secrets.token_hex(4)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        _drop(name)


@contextmanager
def postgres_template() -> Iterator[str]:
    """A database migrated to head, named for this session and process, dropped at the end."""
    name = f"haven_template_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        engine = make_engine(database_url(name))
        upgrade(engine)
        engine.dispose()
        yield name
    finally:
        copies = _copies.pop(name, None)
        try:
            if copies is not None:
                copies.close()
        finally:
            _drop(name)
