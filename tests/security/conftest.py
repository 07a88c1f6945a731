"""Fixtures for the security tests: a migrated database on SQLite and PostgreSQL, and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.crypto import install_keys
from bot.db import make_engine, upgrade
from tests.helpers import DATA_KEY


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to head, on each of the two engines Haven supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'security.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def use_keys() -> Iterator[Callable[..., None]]:
    """Install other keys for one test; the suite's test key comes back afterwards."""
    yield lambda *keys: install_keys(list(keys))
    install_keys([DATA_KEY])
