"""Fixtures: settings, app, client, runner, and the real services (PostgreSQL, Redis).

A service that cannot be reached skips its tests on a developer's machine with the reason, and
fails them under CI (CI=true), where .ci/run has made sure the services are up.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine
from bot.tasks import LocalEnqueuer
from tests.helpers import DATA_KEY, REDIS_TEST_URL, make_settings, service_unavailable
from tests.support import databases
from tests.support.databases import build_sqlite_template
from tests.support.engines import shared_compiled_statements
from tests.support.meta_standin import MetaStandIn
from tests.support.servers import SMTPServer
from tests.web.dashboard.support import ROLES, add_user, sign_in

# The cheap hashing method of the tests (one PBKDF2 round instead of scrypt).
FAST_PASSWORD_METHOD = "pbkdf2:sha256:1"


@pytest.fixture(autouse=True, scope="session")
def test_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What every test shares: the test data key (also for code that writes message text
    without building an app first), cheap password hashing (bot/web/auth/login.py honours it under
    pytest only; tests/web/dashboard/test_passwords.py keeps scrypt's own tests), the
    session's migrated SQLite template, and statements compiled once per kind of database
    (tests/support/engines.py)."""
    from bot.crypto import install_keys
    from bot.web.auth.login import TEST_PASSWORD_METHOD_ENV

    install_keys([DATA_KEY])
    build_sqlite_template(tmp_path_factory.mktemp("templates"))
    with pytest.MonkeyPatch.context() as patch, shared_compiled_statements():
        patch.setenv(TEST_PASSWORD_METHOD_ENV, FAST_PASSWORD_METHOD)
        yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def staff(app: Flask) -> dict[str, str | None]:
    """One user per role: role name -> TOTP key (None for the moderator, who needs none)."""
    return {role: add_user(app, role, role) for role in ROLES}


@pytest.fixture
def as_role(app: Flask, staff: dict[str, str | None]) -> Callable[[str], FlaskClient]:
    """A fresh client signed in as the user of that role."""

    def signed_in(role: str) -> FlaskClient:
        client = app.test_client()
        sign_in(client, app, role, staff[role])
        return client

    return signed_in


@pytest.fixture
def enqueuer() -> Iterator[LocalEnqueuer]:
    queue = LocalEnqueuer([0, 0, 0])
    yield queue
    queue.stop()


@pytest.fixture
def app(settings: Settings, enqueuer: LocalEnqueuer) -> Flask:
    flask_app = create_app(settings, enqueuer=enqueuer)
    flask_app.config["WTF_CSRF_ENABLED"] = False
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """This session's PostgreSQL database migrated to head, which tests copy; dropped at the end."""
    with databases.postgres_template() as name:
        yield name


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards (for the tests of
    the migrations themselves; most tests want `migrated_postgres_url`)."""
    with databases.postgres_database() as url:
        yield url


@pytest.fixture
def migrated_postgres_url(postgres_template: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, at head: a copy of the session's template."""
    with databases.postgres_database(template=postgres_template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to head, on each of the two engines Haven supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{databases.copy_sqlite_template(tmp_path / 'migrated.sqlite')}"
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def meta() -> Iterator[MetaStandIn]:
    """The local stand-in for Meta's Graph API, for tests whose Haven runs in other processes."""
    stand_in = MetaStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A real SMTP server on a free local port, keeping every mail it receives."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own (15), emptied before and after each test."""
    import redis

    connection = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        connection.flushdb()
    except redis.ConnectionError:
        service_unavailable("Redis at 127.0.0.1:6379")
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()


# The longest tests first (the drills, then real processes, then the browser). `make test`
# (--dist worksteal) gives each process a run of the list and lets a process whose run is
# done take what another has not started; long tests at the end of a run would keep one
# process busy while the others have nothing left to take. Run side by side they cost more
# (383 CPU-seconds for the suite against 313, docs/benchmarks.md), so they all start in the
# first process's run.
_LONGEST_FIRST = ("drill", "stack", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        marked = [i for i, m in enumerate(_LONGEST_FIRST) if item.get_closest_marker(m)]
        return marked[0] if marked else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: each group keeps the files' order


def pytest_collection_finish(session: pytest.Session) -> None:
    """Set the test process's garbage collector for a long run of short tests.

    A test process holds a large heap that lives as long as it does (the collected tests,
    SQLAlchemy and pydantic schemas, compiled rules, the model), and every test leaves apps
    and engines behind. With Python's default first-generation threshold (700) a full
    collection walked all of it again and again: a quarter of a test process's CPU time.
    What was collected is frozen out of the collector's sight, and young garbage is
    collected every 10,000 allocations instead of every 700; cycles are still collected,
    so a resource left in one still warns (warnings are errors), a little later."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
