"""Tables for alerts and escalations.

An alert is written in the same transaction as the thing it is about, so it can never be lost
between a finding and a message; each way of telling someone is a delivery row of its own, sent
by its own job. Nothing here holds message text, names or handles: alerts carry a category, a
severity, a time and the case they point at, and nothing else about the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import utcnow

ALERT_KINDS = (
    "finding",  # a rule asked for someone to be told (personal details, abuse, complaints...)
    "escalation",  # one step of a safeguarding escalation (level 0, then each re-escalation)
    "partner",  # a partner agency's key contact, about one of their people
    "partner_summary",  # the same-day written summary for a partner agency
    "partner_task",  # the lead is to tell a partner agency today (bot/cases/partners.py)
    "account_paused",  # Meta refused a page's token: sending on it is paused
    "reply_deadline",  # a private reply's 7-day window closes within a day
    "digest",  # the weekly digest for the person responsible for content
    "follow_up",  # a case's follow-up is due: check in with the person (workers/follow_up.py)
    "hold_review",  # safeguarding holds are due for the lead's review (bot/privacy/hold_reviews.py)
)
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
ESCALATION_STATUSES = ("open", "acknowledged", "stopped")


class Escalation(SQLModel, table=True):
    """The safeguarding override for one case: paging until someone acknowledges."""

    __tablename__ = "escalations"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="items.id")
    # "case:<id>" while open, cleared when it ends: the database refuses a second open
    # escalation for a case, however many workers race on the same person's messages.
    open_key: str | None = Field(default=None, max_length=40, unique=True)
    status: str = Field(default="open", max_length=20, index=True)
    category: str = Field(max_length=60)
    severity: str = Field(max_length=20)
    level: int = 0
    out_of_hours: bool = False
    opened_at: datetime = Field(default_factory=utcnow)
    next_step_at: datetime | None = Field(default=None, index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    ended_at: datetime | None = None


class Alert(SQLModel, table=True):
    """Something a person must be told; shown in the dashboard's inbox to the roles it names."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    # The same finding, step or deadline never raises a second alert (retries, racing workers).
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=30, index=True)
    category: str | None = Field(default=None, max_length=60)
    severity: str = Field(default="medium", max_length=20)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="items.id", index=True)
    escalation_id: int | None = Field(default=None, foreign_key="escalations.id", index=True)
    level: int = 0
    partner: str | None = Field(default=None, max_length=100)
    account_id: str | None = Field(default=None, max_length=64)
    # Counts and references for digests and summaries, worked out when the alert is raised so
    # every retry sends the same thing. Numbers, categories and case numbers only.
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    out_of_hours: bool = False
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # Set once its deliveries exist (routing needs config.yaml, raising the alert does not).
    routed_at: datetime | None = Field(default=None, index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    # Partner alerts: the written summary that confirmed them.
    summary_alert_id: int | None = Field(default=None, foreign_key="alerts.id")


class AlertDelivery(SQLModel, table=True):
    """One alert to one recipient on one channel, retried with back-off until sent or failed."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "recipient", name="uq_alert_deliveries_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alerts.id", index=True)
    channel: str = Field(max_length=40)
    recipient: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=40)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    started_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AckLink(SQLModel, table=True):
    """An acknowledge link sent in one escalation message; only its SHA-256 is kept.

    The link alone does nothing: opening it needs a signed-in lead or deputy, who then confirms.
    """

    __tablename__ = "alert_ack_links"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    escalation_id: int = Field(foreign_key="escalations.id", index=True)
    delivery_id: int | None = Field(default=None, foreign_key="alert_deliveries.id")
    issued_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="users.id")
