"""erased subjects: a keyed digest of each erased person, so a redelivery is not stored again

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "erased_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_digest", STRING(length=64), nullable=False),
        sa.Column("erased_at", UTC_DATETIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_digest"),
    )


def downgrade() -> None:
    op.drop_table("erased_subjects")
