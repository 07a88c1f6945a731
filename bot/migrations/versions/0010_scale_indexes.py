"""indexes for a million items and ten thousand open cases

Revision ID: 0010
Revises: 0009

Found by bench/size.py (docs/benchmarks.md). Plain CREATE INDEX: on a million items each
takes about a second, during which webhook inserts wait; no item is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REVIEWED = sa.text("reviewed_at IS NOT NULL")
WAITING = sa.text("reviewed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        # The 24-hour messaging window on the queue and case pages looks up each shown
        # conversation's last inbound message by thread: a full scan of items without this.
        batch_op.create_index(batch_op.f("ix_items_thread_id"), ["thread_id"], unique=False)
        # The reviewed items alone (a few percent of all items): the queue excludes them from
        # the findings, and its reviewed view pages down them, from this index only.
        batch_op.create_index(
            "ix_items_reviewed",
            ["reviewed_at", "id"],
            unique=False,
            postgresql_where=REVIEWED,
            sqlite_where=REVIEWED,
        )
        # The queue sorts all waiting flagged items by age: from the index, not the rows.
        batch_op.create_index(
            "ix_items_unreviewed",
            ["id", "created_at", "case_id"],
            unique=False,
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        )


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_unreviewed")
        batch_op.drop_index("ix_items_reviewed")
        batch_op.drop_index(batch_op.f("ix_items_thread_id"))
