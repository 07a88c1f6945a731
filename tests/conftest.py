"""Fixtures: settings, app, client, runner, and the real services (PostgreSQL, Redis).

A service that cannot be reached skips its tests on a developer's machine with the reason, and
fails them under CI (CI=true), where .ci/run has made sure the services are up.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, upgrade
from bot.tasks import LocalEnqueuer
from tests.helpers import (
    DATA_KEY,
    POSTGRES_ADMIN_URL,
    REDIS_TEST_URL,
    make_settings,
    service_unavailable,
)


@pytest.fixture(autouse=True, scope="session")
def data_key() -> None:
    """The test key, also for code that writes message text without building an app first."""
    from bot.crypto import install_keys

    install_keys([DATA_KEY])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    import psycopg

    plain = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"haven_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        service_unavailable("PostgreSQL at 127.0.0.1:5432")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to head, on each of the two engines Haven supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


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
