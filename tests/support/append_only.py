"""The database's own guard on its history tables (audit log, case events), checked one way."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError


def assert_refused_as_append_only(engine: Engine, *statements: str) -> None:
    """Each statement, in a transaction of its own, is refused by an append-only trigger."""
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
