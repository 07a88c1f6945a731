"""The moderation pipeline's tables: deliveries, items, findings, cases, drafts, staff, audit.

The database is the source of truth; the queue only carries ids of these rows.

Every side effect has a unique key here (delivery key, (item, rule), (item, reply kind), one open
case per person and thread), so Meta's at-least-once deliveries and retried jobs do nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.models.base import EncryptedText, utcnow


class InboundEvent(SQLModel, table=True):
    """One webhook delivery exactly as it arrived: Meta cannot be asked for it again later."""

    __tablename__ = "inbound_events"

    id: int | None = Field(default=None, primary_key=True)
    body_sha256: str = Field(max_length=64, unique=True)
    object: str | None = Field(default=None, max_length=40)
    # What people wrote, and their names, are encrypted at rest (bot/crypto.py).
    body: str = Field(sa_column=Column(EncryptedText, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    item_count: int = 0
    unknown_count: int = 0


class Item(SQLModel, table=True):
    """One normalised update (a comment, post or message, or an edit or removal of one)."""

    __tablename__ = "items"
    __table_args__ = (
        # The queue's "reviewed" set, small beside all items (migration 0010): the unreviewed
        # view anti-joins findings against it and the reviewed view pages down it, both from
        # the index alone, so neither looks up the item of every finding ever made.
        Index(
            "ix_items_reviewed",
            "reviewed_at",
            "id",
            postgresql_where=text("reviewed_at IS NOT NULL"),
            sqlite_where=text("reviewed_at IS NOT NULL"),
        ),
        # The unreviewed view sorts every waiting flagged item by age (and its case's
        # alerts): these columns in the index spare a row fetch for each (migration 0010).
        Index(
            "ix_items_unreviewed",
            "id",
            "created_at",
            "case_id",
            postgresql_where=text("reviewed_at IS NULL"),
            sqlite_where=text("reviewed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="inbound_events.id", index=True)
    delivery_key: str = Field(max_length=200, unique=True)
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    verb: str = Field(max_length=20)
    account_id: str = Field(max_length=64, index=True)
    external_id: str = Field(max_length=200, index=True)
    post_id: str | None = Field(default=None, max_length=200)
    parent_id: str | None = Field(default=None, max_length=200)
    # Indexed: a conversation's last message from the person opens Meta's 24-hour window,
    # which the queue and case pages show (a full scan per page at a million items).
    thread_id: str | None = Field(default=None, max_length=200, index=True)
    author_id: str | None = Field(default=None, max_length=64, index=True)
    # Encrypted at rest, so never searched in SQL; the webhook still cuts names to 200.
    author_name: str | None = Field(default=None, sa_column=Column(EncryptedText))
    author_username: str | None = Field(default=None, sa_column=Column(EncryptedText))
    text: str | None = Field(default=None, sa_column=Column(EncryptedText))
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime
    # Indexed for the dashboard: the queue's age order and the response-time periods.
    received_at: datetime = Field(default_factory=utcnow, index=True)
    is_echo: bool = False
    from_page: bool = False
    standby: bool = False
    known_account: bool = True
    # Echoes: which app sent it (263902037430900 is a person in the Page inbox) and the
    # metadata our own sends attach, so Haven can tell its own replies from staff's.
    app_id: str | None = Field(default=None, max_length=64)
    send_metadata: str | None = Field(default=None, max_length=1000)
    # A tap on a quick reply or postback button: the payload Haven put on it (rules/consent.py).
    button_payload: str | None = Field(default=None, max_length=1000)
    # Instagram FEED, REELS, STORY, AD, LIVE: Live comments take no public reply.
    media_product_type: str | None = Field(default=None, max_length=20)
    # Meta allows one private reply per comment: set once it is spent, by us or by a person.
    private_reply_used_at: datetime | None = None
    # Set on every version when Meta says the comment, post or message was removed or hidden.
    # Nothing is deleted: a removed cry for help still reaches the safeguarding lead.
    removed_at: datetime | None = None
    hidden: bool = False
    status: str = Field(default="received", max_length=20, index=True)
    status_changed_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    # Dashboard: a person looked at it and took it off the queue ("every flagged item stays
    # until a human closes it"), and when anyone first acted on it (response times).
    reviewed_at: datetime | None = Field(default=None, index=True)
    reviewed_by: int | None = Field(default=None, foreign_key="users.id")
    first_action_at: datetime | None = None


class Finding(SQLModel, table=True):
    """What a rule found in an item; the span is for highlighting to staff, never for replies."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("item_id", "rule", name="uq_findings_item_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    rule: str = Field(max_length=100)
    category: str = Field(max_length=60, index=True)
    severity: str = Field(max_length=20)
    score: float = 0.0
    span_start: int | None = None
    span_end: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Set when an edit of the item replaced the text this finding was about; kept as history.
    superseded_at: datetime | None = None
    # Why the learned stage judged a finding as it did (reason, nearest corpus examples, words).
    explanation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Case(SQLModel, table=True):
    """A person's need or concern, gathered across their messages in one thread."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=30, index=True)
    status: str = Field(default="new", max_length=30, index=True)
    priority: str = Field(default="normal", max_length=20)
    severity: str = Field(default="low", max_length=20)
    platform: str = Field(max_length=20)
    account_id: str = Field(max_length=64)
    author_id: str | None = Field(default=None, max_length=64, index=True)
    # Set while the case is open and cleared on close: the database itself then refuses a
    # second open case for the same person and thread, however many workers race.
    open_key: str | None = Field(default=None, max_length=400, unique=True)
    opened_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=200)
    assignee_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    # One of CONSENT_STATES; capturing it from the conversation is the consent flow's job.
    consent: str = Field(
        default="not_asked", max_length=20, sa_column_kwargs={"server_default": "not_asked"}
    )
    consent_at: datetime | None = None


class ReplyDraft(SQLModel, table=True):
    """A reply Haven suggests; nothing is sent until a person approves it."""

    __tablename__ = "reply_drafts"
    __table_args__ = (UniqueConstraint("item_id", "kind", name="uq_reply_drafts_item_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    kind: str = Field(max_length=20)  # public | private | dm
    template: str = Field(max_length=100)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    status: str = Field(default="draft", max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None
    sent_at: datetime | None = None
    sent_external_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=500)
    deadline_warned_at: datetime | None = None


class User(SQLModel, table=True):
    """A member of staff or a volunteer who signs in to the dashboard."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=30)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # TOTP second factor (base32 secret). Set but unconfirmed while enrolling; the last
    # accepted time step stops a code being used twice.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = None
    totp_last_step: int | None = None
    # After `haven users reset-totp`: the hash of the one-time enrolment code it printed, without
    # which nobody (not even someone with the password) may set up the new second factor.
    totp_enrol_code_hash: str | None = Field(default=None, max_length=64)
    totp_enrol_code_expires_at: datetime | None = None
    # Every session carries the number it began under; bumping it ends them all (sign-out, a new
    # password, role or second factor). See bot/web/auth/sessions.py.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AuditEntry(SQLModel, table=True):
    """Append-only record of every action, human or automatic. Never message text."""

    __tablename__ = "audit_log"
    # A case's chronology and the audit page look entries up by what they are about.
    __table_args__ = (
        Index("ix_audit_log_subject", "subject_type", "subject_id"),
        # Two entries can never follow the same one: the chain cannot fork (bot/audit/chain.py).
        Index("ix_audit_log_prev_hash", "prev_hash", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=80)  # "system", "user:<id>" or "cli"
    action: str = Field(max_length=60)
    subject_type: str = Field(max_length=40)
    subject_id: str | None = Field(default=None, max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # The hash chain; empty only on a row written outside Haven, which `haven audit verify`
    # then reports.
    prev_hash: str | None = Field(default=None, max_length=64)
    entry_hash: str | None = Field(default=None, max_length=64)


class OutboundAction(SQLModel, table=True):
    """Something Haven does on Meta, recorded before it is attempted.

    The row exists before the call is made, so a worker killed mid-call leaves a 'sending'
    record behind, and the next attempt checks with Meta before it sends again.
    """

    __tablename__ = "outbound_actions"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=20)
    item_id: int = Field(foreign_key="items.id", index=True)
    draft_id: int | None = Field(default=None, foreign_key="reply_drafts.id", index=True)
    account_id: str = Field(max_length=64, index=True)
    status: str = Field(default="pending", max_length=20, index=True)
    requested_by: str = Field(max_length=80)
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    done_at: datetime | None = None
    dry_run: bool = False
    external_id: str | None = Field(default=None, max_length=200)
    error_kind: str | None = Field(default=None, max_length=40)
    error_code: int | None = None
    error: str | None = Field(default=None, max_length=500)


class AccountState(SQLModel, table=True):
    """Sending paused for a page or account, e.g. after Meta rejected its token."""

    __tablename__ = "account_states"

    account_id: str = Field(primary_key=True, max_length=64)
    paused_at: datetime | None = None
    paused_reason: str | None = Field(default=None, max_length=200)
