"""photos: what was seen in each photo (never the photo), and the photo-consent register

Revision ID: 0015
Revises: 0014

Issue 19. `photo_observations` keeps counts, reasons and a perceptual hash for each picture
on an item; `photo_consents` keeps, for a photo's hash, who agreed (initials), for whom, how,
when and until when (policy 001).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "photo_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phash", STRING(length=16), nullable=False),
        sa.Column("description", STRING(length=120), nullable=False),
        sa.Column("consented_by", STRING(length=20), nullable=False),
        sa.Column("consented_for", STRING(length=60), nullable=False),
        sa.Column("method", STRING(length=20), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME(), nullable=False),
        sa.Column("withdrawn_at", UTC_DATETIME(), nullable=True),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("photo_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_consents_phash"), ["phash"], unique=False)
    op.create_table(
        "photo_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url_digest", STRING(length=64), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("phash", STRING(length=16), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("is_screenshot", sa.Boolean(), nullable=False),
        sa.Column("is_document", sa.Boolean(), nullable=False),
        sa.Column("has_location", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("note", STRING(length=300), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(["consent_id"], ["photo_consents.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "position", name="uq_photo_observations_item_position"),
    )
    with op.batch_alter_table("photo_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_photo_observations_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_photo_observations_phash"), ["phash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_photo_observations_consent_id"), ["consent_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("photo_observations")
    op.drop_table("photo_consents")
