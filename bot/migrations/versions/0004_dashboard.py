"""dashboard: case workflow, people, sign-in protection

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_DATETIME = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME(), nullable=False),
        sa.Column("username", STRING(length=80), nullable=False),
        sa.Column("ip", STRING(length=64), nullable=False),
        sa.Column("stage", STRING(length=10), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_at"), ["at"], unique=False)
        batch_op.create_index("ix_login_attempts_ip_at", ["ip", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)

    op.create_table(
        "person_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", STRING(length=20), nullable=False),
        sa.Column("author_id", STRING(length=64), nullable=False),
        sa.Column("removed_at", UTC_DATETIME(), nullable=False),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.Column("reason", STRING(length=500), nullable=False),
        sa.Column("lifted_at", UTC_DATETIME(), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lifted_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["removed_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "author_id", name="uq_person_marks_platform_author"),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("from_status", STRING(length=30), nullable=True),
        sa.Column("to_status", STRING(length=30), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("outcome", STRING(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        # Existing cases predate consent tracking: "not asked" is what is known about them.
        batch_op.add_column(
            sa.Column("consent", STRING(length=20), server_default="not_asked", nullable=False)
        )
        batch_op.add_column(sa.Column("consent_at", UTC_DATETIME(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_case_type"), ["case_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", UTC_DATETIME(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_action_at", UTC_DATETIME(), nullable=True))
        batch_op.create_index(batch_op.f("ix_items_reviewed_at"), ["reviewed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_received_at"), ["received_at"], unique=False)
        batch_op.create_foreign_key("fk_items_reviewed_by_users", "users", ["reviewed_by"], ["id"])

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", STRING(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_confirmed_at", UTC_DATETIME(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    # Not in batch mode: on SQLite a batch could rebuild audit_log and drop its triggers.
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_type", "subject_id"])
    _make_case_events_append_only()


def _make_case_events_append_only() -> None:
    # Decisions with their reasons are evidence, like the audit log: the database itself
    # refuses to change or delete them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION haven_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'case_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION haven_case_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_events_no_{verb.lower()} BEFORE {verb} ON case_events "
                "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_events_append_only ON case_events")
        op.execute("DROP FUNCTION IF EXISTS haven_case_events_append_only()")

    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_confirmed_at")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_items_reviewed_by_users", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_items_received_at"))
        batch_op.drop_index(batch_op.f("ix_items_reviewed_at"))
        batch_op.drop_column("first_action_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_updated_at"))
        batch_op.drop_index(batch_op.f("ix_cases_case_type"))
        batch_op.drop_index(batch_op.f("ix_cases_assignee_id"))
        batch_op.drop_column("consent_at")
        batch_op.drop_column("consent")

    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))
    op.drop_table("case_events")
    op.drop_table("person_marks")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_username_at")
        batch_op.drop_index("ix_login_attempts_ip_at")
        batch_op.drop_index(batch_op.f("ix_login_attempts_at"))
    op.drop_table("login_attempts")
