"""sign-in throttles, session generations, enrolment codes after a second-factor reset

Revision ID: 0014
Revises: 0013

Issue 17. `login_attempts` (one row an attempt, counted after the check) gives way to
`login_throttles` (one row a count, charged before the check with a conditional update); the
attempts it held were at most a day old and only ever limited sign-ins, so they are not carried
over. Users get the number their sessions carry, and the hash of the one-time code that a
second-factor reset hands out.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString
ATTEMPT_INDEXES = {
    "ix_login_attempts_at": ["at"],
    "ix_login_attempts_ip_at": ["ip", "at"],
    "ix_login_attempts_username_at": ["username", "at"],
}


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", STRING(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", UTC_DATETIME(), nullable=False),
        sa.Column("succeeded_at", UTC_DATETIME(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_at"), ["last_at"], unique=False)
    _drop_login_attempts()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_enrol_code_hash", STRING(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enrol_code_expires_at", UTC_DATETIME(), nullable=True))
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
        batch_op.drop_column("totp_enrol_code_expires_at")
        batch_op.drop_column("totp_enrol_code_hash")
    # login_attempts as 0004 made it (empty: what it counted is gone with login_throttles).
    required = [
        ("at", UTC_DATETIME()),
        ("username", STRING(length=80)),
        ("ip", STRING(length=64)),
        ("stage", STRING(length=10)),
        ("succeeded", sa.Boolean()),
    ]
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in required),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, columns in ATTEMPT_INDEXES.items():
        op.create_index(name, "login_attempts", columns, unique=False)
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_at"))
    op.drop_table("login_throttles")


def _drop_login_attempts() -> None:
    for name in ATTEMPT_INDEXES:
        op.drop_index(name, table_name="login_attempts")
    op.drop_table("login_attempts")
