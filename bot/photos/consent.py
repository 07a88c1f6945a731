"""The photo-consent register (policy 001: photographs only with the consent of all pictured).

When the people in a photo agree to it being posted, staff record who agreed and for whom
(initials only), how, from when and until when. Haven keeps the photo's perceptual hash, not
the photo; when the page later posts it, the fetched picture is matched by hash, so a photo
re-encoded or resized on the way to Facebook still finds its consent.
"""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, col, select

from bot.audit import record
from bot.models import utcnow
from bot.models.photos import CONSENT_METHODS, PhotoConsent
from bot.photos.analysis import distance

# "J.W.", "JW", "J. W.", "A-M.S.": initials, never a name.
_INITIALS = re.compile(r"^[A-Z](?:[.\- ]{0,2}[A-Z]){0,3}\.?$")
SELF = "self"


class ConsentRefused(ValueError):
    """What staff typed cannot be recorded; the message says what to change."""


def record_consent(
    session: Session,
    actor: str,
    user_id: int,
    *,
    phash: str,
    description: str,
    consented_by: str,
    consented_for: str,
    method: str,
    given_on: date,
    until: date | None,
) -> PhotoConsent:
    """Add a consent to the register, or refuse it with words for the form."""
    description = " ".join(description.split())
    if not description or len(description) > 120:
        raise ConsentRefused("Describe the photo in a few words (at most 120 characters).")
    by = _initials(consented_by, "Who agreed")
    pictured = _pictured(consented_for)
    if method not in CONSENT_METHODS:
        raise ConsentRefused(f"How was consent given? One of: {', '.join(CONSENT_METHODS)}.")
    if until is not None and until < given_on:
        raise ConsentRefused("The consent cannot end before it was given.")
    if given_on > utcnow().date():
        raise ConsentRefused("Consent is recorded once it has been given, not before.")
    distance(phash, phash)  # a well-formed hash, or ValueError (the caller made it: a bug)
    consent = PhotoConsent(
        phash=phash,
        description=description,
        consented_by=by,
        consented_for=pictured,
        method=method,
        given_on=given_on,
        until=until,
        recorded_by=user_id,
    )
    session.add(consent)
    session.flush()
    # Ids only: initials stay in the register, out of the audit log.
    record(session, actor, "photo_consent.recorded", "photo_consent", consent.id)
    return consent


def withdraw_consent(
    session: Session, actor: str, user_id: int, consent_id: int
) -> PhotoConsent | None:
    """Mark a consent withdrawn (kept, as the record that it was once given); None if unknown."""
    consent = session.get(PhotoConsent, consent_id)
    if consent is None:
        return None
    if consent.withdrawn_at is None:
        consent.withdrawn_at, consent.withdrawn_by = utcnow(), user_id
        session.add(consent)
        record(session, actor, "photo_consent.withdrawn", "photo_consent", consent.id)
    return consent


def register(session: Session) -> list[PhotoConsent]:
    """Every consent, newest first."""
    return list(session.exec(select(PhotoConsent).order_by(col(PhotoConsent.id).desc())).all())


def consent_for(session: Session, phash: str, day: date, max_distance: int) -> PhotoConsent | None:
    """The closest consent on record for this photo that holds on `day`, if any."""
    candidates = session.exec(
        select(PhotoConsent).where(col(PhotoConsent.withdrawn_at).is_(None))
    ).all()
    # A charity's register holds hundreds of photos at most: comparing every hash is cheap.
    valid = [c for c in candidates if c.valid_on(day)]
    scored = sorted((distance(phash, c.phash), c.id or 0, c) for c in valid)
    if scored and scored[0][0] <= max_distance:
        return scored[0][2]
    return None


def _initials(value: str, what: str) -> str:
    value = value.strip().upper()
    if not _INITIALS.match(value):
        raise ConsentRefused(f"{what}: initials only, like J.W. (never a name).")
    return value


def _pictured(value: str) -> str:
    """'self', or initials separated by commas: those the person agreed for."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise ConsentRefused("For whom: 'self', or the initials of those pictured.")
    cleaned = [SELF if p.lower() == SELF else _initials(p, "For whom") for p in parts]
    joined = ", ".join(cleaned)
    if len(joined) > 60:
        raise ConsentRefused("For whom: at most a few sets of initials.")
    return joined
