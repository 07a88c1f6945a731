"""What every table module shares: `utcnow`, the shared enums, and the encrypted column type.

Table modules import this module only, never each other or any service, so `bot.models`
has no import cycle and no table registers anything by being imported.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Re-exported (the `as` form says so) so that table modules import `base` only.
from bot.crypto import EncryptedText as EncryptedText


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime stores it the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC)


ROLES = ("admin", "moderator", "safeguarding_lead", "safeguarding_deputy")
SAFEGUARDING_ROLES = frozenset({"safeguarding_lead", "safeguarding_deputy"})
# "superseded": a newer version of the same comment or message was already here (Meta
# delivers out of order), so this older one is kept as history and not judged on its own.
ITEM_STATUSES = ("received", "processing", "processed", "superseded", "failed", "skipped")
CASE_STATUSES = ("new", "awaiting_consent", "matched", "follow_up_due", "escalated", "closed")
DRAFT_STATUSES = (
    "draft",
    "approved",
    "sent",
    "rejected",
    "failed",
    "superseded",
    # Meta's limits, not errors: the person must be answered from the Meta inbox instead.
    "answer_in_inbox",
)
ACTION_KINDS = ("public_reply", "private_reply", "dm", "hide", "unhide", "delete")
ACTION_STATUSES = ("pending", "sending", "done", "failed", "answer_in_inbox")
# What the person has said about referrals and introductions (policy: asked before any).
CONSENT_STATES = ("not_asked", "asked", "given", "declined", "withdrawn")
