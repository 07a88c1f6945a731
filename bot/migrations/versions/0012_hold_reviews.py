"""safeguarding holds get a review date, and a record of the lead's reminder

Revision ID: 0012
Revises: 0011

Holds placed before this revision are given the default review date, twelve months after they
were placed; those already older than that are due at once, so the lead reviews them first.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("privacy_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("review_reminded_at", UTC_DATETIME(), nullable=True))
    holds = sa.table(
        "privacy_holds",
        sa.column("id", sa.Integer()),
        sa.column("placed_at", UTC_DATETIME()),
        sa.column("review_on", sa.Date()),
    )
    connection = op.get_bind()
    placed = connection.execute(
        sa.select(holds.c.id, holds.c.placed_at).where(holds.c.review_on.is_(None))
    ).all()
    for hold_id, placed_at in placed:
        connection.execute(
            holds.update()
            .where(holds.c.id == hold_id)
            .values(review_on=_a_year_later(placed_at.date()))
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_holds", schema=None) as batch_op:
        batch_op.drop_column("review_reminded_at")
        batch_op.drop_column("review_on")


def _a_year_later(day: date) -> date:
    """The default of data_protection.hold_review_months (12), written out here because a
    migration must not change when the code does."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
