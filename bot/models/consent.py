"""Tables for consent, the private conversation's link to a case, follow-ups and case notes.

Kept small on purpose (data protection by default): consent history holds states, times and
message ids, never the words; notes are initials, a date and a type of support unless the
organisation turns free text on.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import utcnow

# What a consent record says happened; "asked", "unclear" and "safeguarding_override" leave
# the case's consent as it was, the others set it.
CONSENT_RECORD_STATES = (
    "asked",
    "given",
    "declined",
    "withdrawn",
    "unclear",
    "safeguarding_override",
)
# "button": a quick reply or postback carrying one of rules/consent.py's payloads.
CONSENT_SOURCES = ("private_reply", "dm", "text", "button", "staff", "system")


class ConsentRecord(SQLModel, table=True):
    """One step in a case's consent history: who said what (as a state), when, in which message."""

    __tablename__ = "consent_records"
    # The same message read twice (a retried job) records nothing new.
    __table_args__ = (UniqueConstraint("case_id", "item_id", name="uq_consent_records_case_item"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    state: str = Field(max_length=30)
    previous: str | None = Field(default=None, max_length=20)
    source: str = Field(max_length=20)
    item_id: int | None = Field(default=None, foreign_key="items.id")
    # Meta's id of the person's message (mid) or of the reply that asked.
    message_id: str | None = Field(default=None, max_length=200)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    # Staff's reason for a manual record ("consent given by phone"), or Haven's own reason.
    reason: str | None = Field(default=None, max_length=500)


class CaseContact(SQLModel, table=True):
    """The messaging id (PSID / IGSID) a private reply reached, so their answers find the case.

    Meta identifies a commenter and the same person in Messenger by different ids; the Send
    API's recipient_id for the private reply is the only link between the two.
    """

    __tablename__ = "case_contacts"
    __table_args__ = (
        UniqueConstraint("case_id", "messaging_id", name="uq_case_contacts_case_messaging"),
        Index("ix_case_contacts_account_messaging", "account_id", "messaging_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    platform: str = Field(max_length=20)
    account_id: str = Field(max_length=64)
    messaging_id: str = Field(max_length=64)
    item_id: int | None = Field(default=None, foreign_key="items.id")
    action_id: int | None = Field(default=None, foreign_key="outbound_actions.id")
    # In a dry run nothing reached Meta: the id is the commenter's own (docs/guide-staff.md).
    dry_run: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class CaseFollowUp(SQLModel, table=True):
    """When to check in with the person; the tick reminds once per due time."""

    __tablename__ = "case_follow_ups"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    due_at: datetime | None = Field(default=None, index=True)
    reminded_at: datetime | None = None
    set_at: datetime = Field(default_factory=utcnow)
    set_by: str = Field(max_length=80)  # "system" or "user:<id>"
    reason: str | None = Field(default=None, max_length=200)
    # Set when the case closes or consent is withdrawn: no reminder after that.
    ended_at: datetime | None = None


class CaseNote(SQLModel, table=True):
    """The brief, secure note the procedure asks for: initials, date, type of support."""

    __tablename__ = "case_notes"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    initials: str = Field(max_length=8)
    noted_on: date
    support_type: str = Field(max_length=80)
    # Only when config.yaml `cases.free_text_notes` is on.
    text: str | None = Field(default=None, sa_column=Column(Text))
