"""Tables for the dashboard's case workflow, people and sign-in protection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import EncryptedText, utcnow

CASE_EVENT_KINDS = ("status", "note", "assign")


class CaseEvent(SQLModel, table=True):
    """A person's step in a case: a status change with its reason, a note, an assignment.

    Append-only in the database (like the audit log): these are the decisions a safeguarding
    review may read years later. Staff write the text; the forms ask them to keep it minimal.
    """

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=20)  # one of CASE_EVENT_KINDS
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    assignee_id: int | None = Field(default=None, foreign_key="users.id")
    outcome: str | None = Field(default=None, max_length=200)
    # Encrypted at rest (bot/crypto.py); `haven keys rotate` may re-seal it, nothing else.
    text: str | None = Field(default=None, sa_column=Column(EncryptedText))


class PersonMark(SQLModel, table=True):
    """A "removed from the community" mark: their future items are flagged in the queue.

    The CATCH procedure notes a removal "so that they cannot request access again"
    unnoticed. One row per person (platform and Meta's id for them); lifting keeps the row.
    """

    __tablename__ = "person_marks"
    __table_args__ = (
        UniqueConstraint("platform", "author_id", name="uq_person_marks_platform_author"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    author_id: str = Field(max_length=64)
    removed_at: datetime = Field(default_factory=utcnow)
    removed_by: int | None = Field(default=None, foreign_key="users.id")
    reason: str = Field(sa_column=Column(EncryptedText, nullable=False))  # encrypted at rest
    lifted_at: datetime | None = None
    lifted_by: int | None = Field(default=None, foreign_key="users.id")


class LoginThrottle(SQLModel, table=True):
    """A count of failed sign-ins (bot/web/auth/limits.py), kept so limits hold across processes.

    `key` says what is counted: `pair:<username>|<address>` (a username from an address it has
    signed in from), `user:<username>` (that username from every other address) or
    `ip:<address>` (an address over the usernames it has never signed in as).
    """

    __tablename__ = "login_throttles"

    key: str = Field(primary_key=True, max_length=160)
    failures: int = 0
    last_at: datetime = Field(default_factory=utcnow, index=True)
    # On a `pair:` count: when that user last completed a sign-in from that address.
    succeeded_at: datetime | None = None
