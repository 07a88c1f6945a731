"""Every table, in one place: importing `bot.models` puts all of them on `metadata`.

`base.py` owns `utcnow`, the shared enums and the encrypted column type; each table module
imports `base` only. Alembic (bot/migrations/env.py) and `create_all` read `metadata`.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from bot.models.alerts import AckLink, Alert, AlertDelivery, Escalation
from bot.models.base import (
    ACTION_KINDS,
    ACTION_STATUSES,
    CASE_STATUSES,
    CONSENT_STATES,
    DRAFT_STATUSES,
    ITEM_STATUSES,
    ROLES,
    SAFEGUARDING_ROLES,
    utcnow,
)
from bot.models.consent import CaseContact, CaseFollowUp, CaseNote, ConsentRecord
from bot.models.dashboard import CaseEvent, LoginThrottle, PersonMark
from bot.models.directory import CaseTopic, Introduction, SupportResource
from bot.models.moderation import (
    AccountState,
    AuditEntry,
    Case,
    Finding,
    InboundEvent,
    Item,
    OutboundAction,
    ReplyDraft,
    User,
)
from bot.models.photos import PhotoConsent, PhotoObservation
from bot.models.privacy import DataDeletionRequest, ErasedSubject, PrivacyHold, PrivacyRemoval
from bot.models.record import PartnerTask, RecordEntry, SafeguardingRecord

# The schema of every table above (SQLModel keeps one registry for all of them).
metadata = SQLModel.metadata

__all__ = [
    "ACTION_KINDS",
    "ACTION_STATUSES",
    "CASE_STATUSES",
    "CONSENT_STATES",
    "DRAFT_STATUSES",
    "ITEM_STATUSES",
    "ROLES",
    "SAFEGUARDING_ROLES",
    "AccountState",
    "AckLink",
    "Alert",
    "AlertDelivery",
    "AuditEntry",
    "Case",
    "CaseContact",
    "CaseEvent",
    "CaseFollowUp",
    "CaseNote",
    "CaseTopic",
    "ConsentRecord",
    "DataDeletionRequest",
    "ErasedSubject",
    "Escalation",
    "Finding",
    "InboundEvent",
    "Introduction",
    "Item",
    "LoginThrottle",
    "OutboundAction",
    "PartnerTask",
    "PersonMark",
    "PhotoConsent",
    "PhotoObservation",
    "PrivacyHold",
    "PrivacyRemoval",
    "RecordEntry",
    "ReplyDraft",
    "SafeguardingRecord",
    "SupportResource",
    "User",
    "metadata",
    "utcnow",
]
