"""Introductions: proposed -> person agreed -> supporter agreed -> introduced, with both consents.

The matching procedure's Step 5: share only basic, non-identifying information with the
supporter, and only after both parties consent. The person agrees first (asking a supporter
already tells them something about the person); the supporter's agreement is recorded by
staff, since supporters are not on the platform. Each step checks the case's consent again:
withdrawn or declined consent cancels every pending introduction (`settle_case`).

Steps are compare-and-set updates on the status, and the supporter's load changes only with
the step that introduces or ends an introduction, so a repeated click or a retried request
changes nothing twice. Every step is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.audit import record
from bot.db import add_unless_taken
from bot.directory.settle import (
    STOPPED_CONSENT,
    actor_name,
    end_one,
    set_status,
    settle_all,
    settle_case,
    settle_introductions,
)
from bot.directory.shares import SHARE_LABELS, introduction_text, shared_details, validate_shares
from bot.models import Case, utcnow
from bot.models.dashboard import CaseEvent
from bot.models.directory import Introduction, SupportResource
from rules import RuleSet

# settle_case and settle_introductions are used from here by the consent flow and the tick.
__all__ = [
    "Refused",
    "end",
    "introduce",
    "person_agreed",
    "propose",
    "settle_all",
    "settle_case",
    "settle_introductions",
    "supporter_agreed",
]

# Moving a case to "matched" would undo these; the introduction is still recorded.
KEEP_STATUS = ("escalated", "closed", "matched")


class Refused(Exception):
    """A step that cannot be taken now; the message says why, for staff."""


def _actor(user_id: int | None) -> str:
    return actor_name(user_id)


def _load(session: Session, intro_id: int) -> tuple[Introduction, Case]:
    intro = session.get(Introduction, intro_id)
    case = session.get(Case, intro.case_id) if intro else None
    if intro is None or case is None:
        raise Refused("There is no such introduction.")
    return intro, case


def _require_consent(case: Case) -> None:
    """Consent is checked at every step, not only the first."""
    if case.status == "closed":
        raise Refused("The case is closed.")
    if case.consent != "given":
        raise Refused(
            "The person's consent is not recorded as given on this case "
            f"(it is {case.consent.replace('_', ' ')}): nothing can go ahead."
        )


def propose(
    session: Session,
    case_id: int,
    resource_id: int,
    *,
    actor_id: int | None,
    explanation: str | None = None,
    now: datetime | None = None,
) -> Introduction:
    """Record a proposed match; proposing the same one again returns the first."""
    now = now or utcnow()
    case = session.get(Case, case_id)
    resource = session.get(SupportResource, resource_id)
    if case is None or resource is None:
        raise Refused("There is no such case or directory entry.")
    if case.status == "closed" or case.consent in STOPPED_CONSENT:
        raise Refused("The case is closed or the person's consent has stopped.")
    key = f"{case_id}:{resource_id}"
    existing = session.exec(select(Introduction).where(Introduction.live_key == key)).first()
    if existing is not None:
        return existing
    if not resource.active:
        raise Refused("That directory entry is not active.")
    if resource.capacity is not None and resource.load >= resource.capacity:
        raise Refused("That directory entry is full: it is not offered until a place frees up.")
    intro = Introduction(
        case_id=case_id,
        resource_id=resource_id,
        live_key=key,
        explanation=(explanation or "")[:300] or None,
        proposed_at=now,
        proposed_by=actor_id,
        updated_at=now,
    )
    if not add_unless_taken(session, intro):  # a second click won the race: that one stands
        return session.exec(select(Introduction).where(Introduction.live_key == key)).one()
    record(
        session,
        _actor(actor_id),
        "introduction.proposed",
        "introduction",
        intro.id,
        case_id=case_id,
        resource_id=resource_id,
    )
    return intro


def person_agreed(
    session: Session,
    intro_id: int,
    shares: dict[str, str],
    *,
    actor_id: int | None,
    ruleset: RuleSet | None = None,
    now: datetime | None = None,
) -> Introduction:
    """Staff confirm the person agreed to this introduction, and to sharing these details."""
    now = now or utcnow()
    intro, case = _load(session, intro_id)
    _require_consent(case)
    clean = {k: v.strip() for k, v in shares.items()}
    if intro.status != "proposed":
        if intro.status in ("person_agreed", "supporter_agreed", "introduced"):
            return intro  # already recorded: a repeated request changes nothing
        raise Refused(f"This introduction is {intro.status.replace('_', ' ')}.")
    errors = validate_shares(clean, ruleset)
    if errors:
        raise Refused(" ".join(errors))
    if not set_status(
        session,
        intro,
        ("proposed",),
        "person_agreed",
        now,
        person_agreed_at=now,
        person_agreed_by=actor_id,
        person_shares=clean,
    ):
        raise Refused("Someone else changed this introduction just now; look again.")
    record(
        session,
        _actor(actor_id),
        "introduction.person_agreed",
        "introduction",
        intro.id,
        case_id=case.id,
        details=sorted(clean),
    )
    return intro


def supporter_agreed(
    session: Session,
    intro_id: int,
    accepts: Iterable[str],
    *,
    actor_id: int | None,
    now: datetime | None = None,
) -> Introduction:
    """Staff record the supporter's agreement, and which of the person's details they take."""
    now = now or utcnow()
    intro, case = _load(session, intro_id)
    _require_consent(case)
    if intro.status in ("supporter_agreed", "introduced"):
        return intro
    if intro.status != "person_agreed":
        raise Refused("The person agrees first: record their agreement before the supporter's.")
    chosen = [k for k in SHARE_LABELS if k in set(accepts)]
    if not chosen or not set(chosen) <= set(intro.person_shares or {}):
        raise Refused("Tick the details the supporter agreed to, from those the person agreed to.")
    if not set_status(
        session,
        intro,
        ("person_agreed",),
        "supporter_agreed",
        now,
        supporter_agreed_at=now,
        supporter_agreed_by=actor_id,
        supporter_accepts=chosen,
    ):
        raise Refused("Someone else changed this introduction just now; look again.")
    record(
        session,
        _actor(actor_id),
        "introduction.supporter_agreed",
        "introduction",
        intro.id,
        case_id=case.id,
        details=chosen,
    )
    return intro


def introduce(
    session: Session, intro_id: int, *, actor_id: int | None, now: datetime | None = None
) -> Introduction:
    """Make the introduction: only once both sides agreed, consent stands and a place is free.

    The caller must roll back on Refused (session_scope does), so a refused step leaves the
    load and the status as they were.
    """
    now = now or utcnow()
    intro, case = _load(session, intro_id)
    if intro.status == "introduced":
        return intro
    _require_consent(case)
    if intro.status != "supporter_agreed":
        raise Refused("Both sides must agree before the introduction is made.")
    took_place = session.execute(
        update(SupportResource)
        .where(
            col(SupportResource.id) == intro.resource_id,
            col(SupportResource.active).is_(True),
            col(SupportResource.capacity).is_(None)
            | (col(SupportResource.load) < col(SupportResource.capacity)),
        )
        .values(load=SupportResource.load + 1, updated_at=now)
    )
    if took_place.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("That directory entry is full or no longer active: no place was taken.")
    text = introduction_text(shared_details(intro))
    if not set_status(
        session,
        intro,
        ("supporter_agreed",),
        "introduced",
        now,
        introduced_at=now,
        introduced_by=actor_id,
        shared_text=text,
    ):
        raise Refused("Someone else changed this introduction just now; look again.")
    record(
        session,
        _actor(actor_id),
        "introduction.introduced",
        "introduction",
        intro.id,
        case_id=case.id,
        resource_id=intro.resource_id,
        details=sorted(shared_details(intro)),
    )
    _case_matched(session, case, intro, actor_id, now)
    return intro


def _case_matched(
    session: Session, case: Case, intro: Introduction, actor_id: int | None, now: datetime
) -> None:
    """The case moves to "matched"; the follow-up timer takes it from there."""
    case.updated_at = now
    session.add(case)
    if case.status in KEEP_STATUS:
        return
    previous, case.status = case.status, "matched"
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor_id=actor_id,
        kind="status",  # type: ignore[arg-type]
        from_status=previous,
        to_status="matched",
        text=f"Introduction #{intro.id} made.",
    )
    session.add(event)
    session.flush()
    record(
        session,
        _actor(actor_id),
        "case.status_changed",
        "case",
        case.id,
        **{"from": previous, "to": "matched", "event_id": event.id, "introduction_id": intro.id},
    )


def end(
    session: Session,
    intro_id: int,
    status: str,
    reason: str,
    *,
    actor_id: int | None,
    now: datetime | None = None,
) -> Introduction:
    """Decline (either side said no), cancel, or close (the support finished) an introduction."""
    if status not in ("closed", "declined", "cancelled"):
        raise Refused("Unknown way to end an introduction.")
    if not reason.strip():
        raise Refused("Say briefly why.")
    intro, _case = _load(session, intro_id)
    if intro.status == status:
        return intro
    if not end_one(session, intro, status, reason.strip(), actor_id, now or utcnow()):
        raise Refused(f"A {intro.status.replace('_', ' ')} introduction cannot be {status}.")
    return intro
