"""What Haven saw in photos, and the register of photos whose people agreed to be posted.

No picture is ever stored: an observation keeps counts, reasons and a perceptual hash (64 bits
that say "this photo", robust to re-encoding and resizing, from which the photo cannot be
drawn back), and a consent keeps initials, never names.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import utcnow

# checked: looked at; refused: not fetched or not a picture (note says why); unavailable: the
# `photos` extra is not installed, so the photo was judged by its words only.
OBSERVATION_STATUSES = ("checked", "refused", "unavailable")
# How consent was given (policy 001 asks that it was; the register says how).
CONSENT_METHODS = ("written form", "email", "message", "in person")


class PhotoObservation(SQLModel, table=True):
    """One picture on one item: what was seen in it, or why it could not be looked at."""

    __tablename__ = "photo_observations"
    # A retried job looks at the same attachment again and records nothing new.
    __table_args__ = (
        UniqueConstraint("item_id", "position", name="uq_photo_observations_item_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    position: int  # which of the item's attachments
    # sha256 of the URL without Meta's signed query string: the same CDN file, not the link.
    url_digest: str = Field(max_length=64)
    status: str = Field(max_length=20)
    phash: str | None = Field(default=None, max_length=16, index=True)
    people: int = 0
    faces: int = 0
    is_screenshot: bool = False
    is_document: bool = False
    has_location: bool = False  # the file carried GPS (the position itself is not kept)
    # Words for a volunteer ("3 people, faces visible"), never what the OCR read.
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    note: str | None = Field(default=None, max_length=300)
    # The page's own photo matched a consent in the register (policy 001).
    consent_id: int | None = Field(default=None, foreign_key="photo_consents.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PhotoConsent(SQLModel, table=True):
    """Someone agreed that a photo of them (or of those they speak for) may be posted."""

    __tablename__ = "photo_consents"

    id: int | None = Field(default=None, primary_key=True)
    phash: str = Field(max_length=16, index=True)
    # What the photo is, in a few words staff recognise it by ("summer fair, face painting").
    description: str = Field(max_length=120)
    # Initials only (data minimisation): who agreed, and for whom ("self" or a child's).
    consented_by: str = Field(max_length=20)
    consented_for: str = Field(max_length=60)
    method: str = Field(max_length=20)
    given_on: date
    until: date | None = None  # None: until withdrawn
    recorded_by: int = Field(foreign_key="users.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None
    withdrawn_by: int | None = Field(default=None, foreign_key="users.id")

    def valid_on(self, day: date) -> bool:
        """Consent holds on that day: given, not expired, not withdrawn."""
        return (
            self.withdrawn_at is None
            and self.given_on <= day
            and (self.until is None or day <= self.until)
        )
