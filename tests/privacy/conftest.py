"""A migrated database for the data-protection tests, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.db import make_engine, upgrade
from tests.dashboard.conftest import as_role, staff  # noqa: F401  (signed-in staff by role)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'privacy.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
