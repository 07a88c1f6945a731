"""Tables for the support directory, the topics staff give a case, and introductions.

The directory lists who the charity can introduce people to: peer supporters, groups and
external services. Supporters are not on the platform; staff reach them by the contact route,
which is for staff only and never goes into anything sent to the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import utcnow

RESOURCE_KINDS = ("peer_supporter", "group", "service")
INTRODUCTION_STATUSES = (
    "proposed",
    "person_agreed",
    "supporter_agreed",
    "introduced",
    "closed",
    "declined",
    "cancelled",
)
# Waiting for someone's agreement: what withdrawn consent or a closed case cancels.
PENDING_STATUSES = ("proposed", "person_agreed", "supporter_agreed")
# Still "live" for the (case, resource) pair: one at a time, so proposing twice does nothing.
LIVE_STATUSES = (*PENDING_STATUSES, "introduced")


class SupportResource(SQLModel, table=True):
    """A peer supporter, group or external service the charity introduces people to."""

    __tablename__ = "support_resources"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # one of RESOURCE_KINDS
    # How staff know them: "Peer supporter K. (kinship carer)", never a full name.
    name: str = Field(max_length=120)
    description: str | None = Field(default=None, max_length=500)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Where they support people, in general terms ("East Suffolk", "online").
    area: str | None = Field(default=None, max_length=80)
    # Most introductions they take at once; None for a service with no set limit.
    capacity: int | None = None
    load: int = 0
    contact_route: str = Field(max_length=300)
    availability: str | None = Field(default=None, max_length=200)
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    updated_by: int | None = Field(default=None, foreign_key="users.id")


class CaseTopic(SQLModel, table=True):
    """A topic staff gave a case (kinship care, bereavement...), used to find matches."""

    __tablename__ = "case_topics"
    __table_args__ = (UniqueConstraint("case_id", "topic", name="uq_case_topics_case_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    topic: str = Field(max_length=40)
    set_at: datetime = Field(default_factory=utcnow)
    set_by: int | None = Field(default=None, foreign_key="users.id")


class Introduction(SQLModel, table=True):
    """An introduction of a case's person to a directory entry, agreed by both sides.

    Each step keeps who took it and when. `live_key` is set while the introduction is pending
    or made and cleared when it ends, so the database refuses a second live introduction of the
    same person to the same supporter however many clicks race.
    """

    __tablename__ = "introductions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    resource_id: int = Field(foreign_key="support_resources.id", index=True)
    status: str = Field(default="proposed", max_length=20, index=True)
    live_key: str | None = Field(default=None, max_length=40, unique=True)
    # Why Haven proposed it ("topic: kinship care; 2 places left"), as staff saw it then.
    explanation: str | None = Field(default=None, max_length=300)
    proposed_at: datetime = Field(default_factory=utcnow)
    proposed_by: int | None = Field(default=None, foreign_key="users.id")
    person_agreed_at: datetime | None = None
    person_agreed_by: int | None = Field(default=None, foreign_key="users.id")
    # What the person agreed may be shared: detail key -> the words to pass on.
    person_shares: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    supporter_agreed_at: datetime | None = None
    supporter_agreed_by: int | None = Field(default=None, foreign_key="users.id")
    # Which of the person's details the supporter agreed to receive.
    supporter_accepts: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    introduced_at: datetime | None = None
    introduced_by: int | None = Field(default=None, foreign_key="users.id")
    # Exactly what was passed on, kept as the record of what was shared.
    shared_text: str | None = Field(default=None, sa_column=Column(Text))
    ended_at: datetime | None = None
    ended_by: int | None = Field(default=None, foreign_key="users.id")
    end_reason: str | None = Field(default=None, max_length=300)
    updated_at: datetime = Field(default_factory=utcnow)
