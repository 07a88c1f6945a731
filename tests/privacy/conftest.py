"""A migrated database for the data-protection tests, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def db_engine(migrated_engine: Engine) -> Engine:
    return migrated_engine
