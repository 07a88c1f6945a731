"""Tables for data protection: holds, Meta's deletion requests, removals, erased subjects.

None holds message text, names or a platform user's id: a hold names a case and a reason, and
a deletion request and an erased subject keep only a keyed digest of who it was, so a repeated
request from Meta gets the same confirmation code, and a redelivery of what was erased is
recognised, without Haven keeping the id it has just erased.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.crypto import keyed_digests
from bot.models.base import utcnow

DELETION_STATUSES = ("received", "completed", "completed_with_hold")
# A raw delivery whose body was removed: still JSON, so anything that reads bodies copes.
REMOVED_BODY = '{"haven_removed": "data protection"}'


class PrivacyHold(SQLModel, table=True):
    """A case whose messages retention and erasure must keep, and why (e.g. safeguarding)."""

    __tablename__ = "privacy_holds"

    id: int | None = Field(default=None, primary_key=True)
    # One hold per case: placing it again (every retention run, every erasure) changes nothing.
    case_id: int = Field(foreign_key="cases.id", unique=True)
    reason: str = Field(max_length=300)
    placed_at: datetime = Field(default_factory=utcnow)
    placed_by: str = Field(max_length=80)  # "system", "user:<id>" or "cli"
    released_at: datetime | None = None
    released_by: str | None = Field(default=None, max_length=80)
    # Policy 004 keeps texts three months "unless there is a valid reason": a hold is that
    # reason, so the safeguarding lead looks again on this date and extends it (with a new
    # date and a reason) or releases it. The reasons are case notes, encrypted at rest.
    review_on: date | None = None
    # The lead was reminded of this review date then; an extension clears it.
    review_reminded_at: datetime | None = None


class DataDeletionRequest(SQLModel, table=True):
    """One data-deletion request from Meta (a person removed our app), and its outcome."""

    __tablename__ = "data_deletion_requests"

    id: int | None = Field(default=None, primary_key=True)
    # Shown to the person by Meta and looked up on the public status page.
    confirmation_code: str = Field(max_length=40, unique=True)
    # HMAC-SHA256 of "platform:user_id" under the app secret: recognises a repeat request
    # without keeping the id itself.
    subject_digest: str = Field(max_length=64, unique=True)
    status: str = Field(default="received", max_length=30)
    received_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    # Counts per kind of data and the held case ids: numbers only, no personal data.
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class PrivacyRemoval(SQLModel, table=True):
    """A row whose personal content retention or erasure removed, and when.

    Texts are encrypted at rest, so "already removed" cannot be seen in SQL from the text
    itself; this record is what makes both idempotent, and what the retention report counts.
    """

    __tablename__ = "privacy_removals"
    __table_args__ = (UniqueConstraint("table_name", "row_id", name="uq_privacy_removals_row"),)

    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=40)
    row_id: int
    reason: str = Field(max_length=20)  # "retention" | "erasure"
    removed_at: datetime = Field(default_factory=utcnow, index=True)


class ErasedSubject(SQLModel, table=True):
    """A platform user whose data was erased, and when: what stops a redelivery of what they
    wrote before that from being stored again (webhooks/store.py)."""

    __tablename__ = "erased_subjects"

    id: int | None = Field(default=None, primary_key=True)
    # keyed_digests("<platform>:<user id>")[0] (bot/crypto.py): under a data key, never the id.
    subject_digest: str = Field(max_length=64, unique=True)
    # The latest erasure: updates written up to then are erased content.
    erased_at: datetime = Field(default_factory=utcnow)


def subject_digests(platform: str, user_id: str) -> list[str]:
    """The digests an erased subject may be recorded under, the one to write first."""
    return keyed_digests(f"{platform}:{user_id}")
