"""Migration 0012 gives the holds placed before it a review date, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.db import make_engine, upgrade

CASES = sa.table(
    "cases",
    *(sa.column(name) for name in ("case_type", "status", "priority", "severity", "platform")),
    *(sa.column(name) for name in ("account_id", "consent")),
    sa.column("id", sa.Integer()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
HOLDS = sa.table(
    "privacy_holds",
    *(sa.column(name) for name in ("case_id", "reason", "placed_by")),
    sa.column("placed_at", UTCDateTime()),
)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_holds_placed_before_reviews_existed_are_due_a_year_after_placing(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        upgrade(engine, "0011")  # the revision before 0012
        placed = {1: datetime(2024, 2, 29, 12, tzinfo=UTC), 2: datetime(2025, 6, 1, 9, tzinfo=UTC)}
        with engine.begin() as connection:
            for case_id, at in placed.items():
                connection.execute(CASES.insert().values(
                    id=case_id, case_type="safeguarding", status="escalated", priority="urgent",
                    severity="critical", platform="facebook", account_id="1", consent="not_asked",
                    opened_at=at, updated_at=at,
                ))  # fmt: skip
                connection.execute(
                    HOLDS.insert().values(
                        case_id=case_id, reason="safeguarding", placed_by="system", placed_at=at
                    )
                )
        upgrade(engine)
        with engine.connect() as connection:
            reviewed = sa.table(
                "privacy_holds",
                sa.column("case_id", sa.Integer()),
                sa.column("review_on", sa.Date()),
                sa.column("review_reminded_at", UTCDateTime()),
            )
            rows = connection.execute(sa.select(*reviewed.c)).all()
    finally:
        engine.dispose()
    reviews = {case_id: (review_on, reminded) for case_id, review_on, reminded in rows}
    assert reviews == {1: (date(2025, 2, 28), None), 2: (date(2026, 6, 1), None)}
