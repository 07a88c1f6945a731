"""Fixtures for the security tests: a migrated database on SQLite and PostgreSQL, and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.crypto import install_keys
from tests.helpers import DATA_KEY


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def use_keys() -> Iterator[Callable[..., None]]:
    """Install other keys for one test; the suite's test key comes back afterwards."""
    yield lambda *keys: install_keys(list(keys))
    install_keys([DATA_KEY])
