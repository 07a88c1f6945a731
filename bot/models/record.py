"""Tables for the safeguarding record: its entries, its sign-off, and the partner agencies to tell.

Kept the way UK safeguarding logs keep a concern (CPOMS, MyConcern): the concern first, then
actions, decisions with their reasons, the outcome and the lead's sign-off, each entry saying
whether it is a fact or an opinion, who and when. Entries are append-only in the database (like
the audit log); after the sign-off, more can only be added as addenda. Everything staff write
here is encrypted at rest (bot/crypto.py), as message text is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import EncryptedText, utcnow

RECORD_ENTRY_KINDS = ("action", "decision", "outcome", "sign_off")
RECORD_BASES = ("fact", "opinion")
PARTNER_TASK_STATUSES = ("open", "told", "not_told")


class SafeguardingRecord(SQLModel, table=True):
    """One per case, made with its first entry: the sign-off, and the support panel's state."""

    __tablename__ = "safeguarding_records"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    opened_at: datetime = Field(default_factory=utcnow)
    signed_off_at: datetime | None = None
    signed_off_by: int | None = Field(default=None, foreign_key="users.id")
    # Support and introductions stay closed on a safeguarding case until the lead opens them.
    support_opened_at: datetime | None = None
    support_opened_by: int | None = Field(default=None, foreign_key="users.id")


class RecordEntry(SQLModel, table=True):
    """One entry of a case's safeguarding record. Append-only (migration 0011's trigger)."""

    __tablename__ = "safeguarding_record_entries"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=20)  # one of RECORD_ENTRY_KINDS
    basis: str | None = Field(default=None, max_length=10)  # fact | opinion (not on a sign-off)
    # Written after the record was signed off.
    addendum: bool = False
    # When it happened (the person recording says) and when it was written down (Haven says).
    happened_at: datetime
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: int | None = Field(default=None, foreign_key="users.id")
    # Free text from staff, encrypted at rest: who did it, who was told, what, and why.
    by_whom: str | None = Field(default=None, sa_column=Column(EncryptedText))
    told_whom: str | None = Field(default=None, sa_column=Column(EncryptedText))
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(EncryptedText))
    # Decisions: refer | no_referral | other (bot/cases/record.py says what each means).
    decision: str | None = Field(default=None, max_length=20)
    # Telling a partner agency (policy 004): which, how, and the written confirmation.
    partner: str | None = Field(default=None, max_length=100)
    how: str | None = Field(default=None, max_length=30)
    confirmed_in_writing: bool | None = None
    confirmed_at: datetime | None = None


class PartnerTask(SQLModel, table=True):
    """A partner agency the lead must tell, the same day, about one of their people (policy 004).

    Not part of the record itself (it changes as the task is done); what was done is a record
    entry (`entry_id`).
    """

    __tablename__ = "partner_tasks"
    __table_args__ = (UniqueConstraint("case_id", "partner", name="uq_partner_tasks_case_partner"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    partner: str = Field(max_length=100)
    category: str = Field(max_length=60)
    opened_at: datetime = Field(default_factory=utcnow)
    # The lead's alert about it, acknowledged when the task is done.
    alert_id: int | None = Field(default=None, foreign_key="alerts.id")
    # True when config.yaml has Haven send the partner a content-free notice itself too.
    sent_automatically: bool = False
    status: str = Field(default="open", max_length=20, index=True)
    done_at: datetime | None = None
    done_by: int | None = Field(default=None, foreign_key="users.id")
    entry_id: int | None = Field(default=None, foreign_key="safeguarding_record_entries.id")
    confirmed_at: datetime | None = None
