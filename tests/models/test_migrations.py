"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.db import make_engine, upgrade
from bot.models import metadata
from tests.support.append_only import assert_refused_as_append_only


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_upgrade_matches_the_models_and_can_run_twice(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)  # every start runs it; the second time must change nothing
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_the_audit_log_refuses_changes_and_deletions(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, subject_type, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'test', 'item', '{}')"
            )
        )
    assert_refused_as_append_only(
        engine, "UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"
    )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_log")).scalar_one() == "system"
