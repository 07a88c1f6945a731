"""Consent on a case: asked, given, declined, withdrawn; its history; the safeguarding override.

Shared by the workers (the person's written reply) and the dashboard (consent recorded by
staff, e.g. given by phone). The words themselves are never stored here: a state, a time,
the message id and, for staff, their reason.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import tuple_
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.follow_up import end_follow_up, schedule_follow_up
from bot.db import add_unless_taken
from bot.models import Case, Item
from bot.models.consent import CaseContact, ConsentRecord
from bot.models.dashboard import CaseEvent

# States a person's answer (or staff) can set on the case.
SETTABLE = ("given", "declined", "withdrawn")
# The help-request reply asks what support they want and for consent (rules/packs/templates.yaml).
CONSENT_TEMPLATES = frozenset({"help_request"})
OVERRIDE_REASON = "safeguarding override: escalated without consent"
BOUNDARY_NOTE = "boundary reply: pointed to professional services"
BOUNDARY_TEMPLATES = frozenset({"boundary"})


def consent_given(session: Session, case_id: int) -> bool:
    """True only while the person's consent is recorded as given (matching checks this)."""
    case = session.get(Case, case_id)
    return case is not None and case.consent == "given"


def shown_status(status: str, consent: str) -> str:
    """The status a page states, read with consent so the two never contradict each other.

    "awaiting_consent" also means "waiting" after an answer (a snoozed follow-up puts a case
    back there), but once the person has answered, saying "awaiting consent" beside "consent
    given" tells a volunteer the opposite of the record.
    """
    if status == "awaiting_consent" and consent in SETTABLE:
        return f"consent_{consent}"
    return status


def history(session: Session, case_id: int) -> list[ConsentRecord]:
    return list(
        session.exec(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case_id)
            .order_by(ConsentRecord.at, ConsentRecord.id)
        ).all()
    )


def _add_record(session: Session, row: ConsentRecord) -> ConsentRecord | None:
    """Add a history row; None when this message was already recorded (a retried job)."""
    return row if add_unless_taken(session, row) else None


def mark_asked(
    session: Session,
    case: Case,
    *,
    item: Item,
    action_id: int | None,
    message_id: str | None,
    recipient_id: str | None,
    dry_run: bool,
    now: datetime,
) -> None:
    """The reply asking for consent has gone: wait for their answer and remember who got it."""
    link_contact(
        session,
        case,
        item=item,
        action_id=action_id,
        recipient_id=recipient_id,
        dry_run=dry_run,
        now=now,
    )
    previous = case.consent
    if previous == "not_asked":
        # Only a first ask changes the state: an answer already given stands.
        case.consent, case.consent_at = "asked", now
    source = "dm" if item.channel in ("fb_dm", "ig_dm") else "private_reply"
    _add_record(
        session,
        ConsentRecord(
            case_id=case.id,
            at=now,
            state="asked",
            previous=previous,
            source=source,
            message_id=message_id,
        ),
    )
    if case.status == "new":
        _system_status(session, case, "awaiting_consent", "Asked for consent in private.", now)
    case.updated_at = now
    session.add(case)
    record(
        session,
        "system",
        "consent.asked",
        "case",
        case.id,
        action_id=action_id,
        linked=bool(recipient_id),
        dry_run=dry_run,
    )


def link_contact(
    session: Session,
    case: Case,
    *,
    item: Item,
    action_id: int | None,
    recipient_id: str | None,
    dry_run: bool,
    now: datetime,
) -> None:
    """Remember the messaging id a private reply reached, so their answers join this case."""
    if not recipient_id:
        return
    exists = session.exec(
        select(CaseContact.id).where(
            CaseContact.case_id == case.id, CaseContact.messaging_id == recipient_id
        )
    ).first()
    if exists is None:
        session.add(
            CaseContact(
                case_id=case.id,
                platform=item.platform,
                account_id=item.account_id,
                messaging_id=recipient_id[:64],
                item_id=item.id,
                action_id=action_id,
                dry_run=dry_run,
                created_at=now,
            )
        )


def set_consent(
    session: Session,
    case: Case,
    state: str,
    *,
    source: str,
    now: datetime,
    at: datetime | None = None,
    item: Item | None = None,
    actor: str = "system",
    actor_id: int | None = None,
    reason: str | None = None,
    follow_up_days: int = 3,
) -> ConsentRecord | None:
    """Record the person's answer on the case and in its history; None if already recorded."""
    if state not in SETTABLE:
        raise ValueError(f"consent cannot be set to {state!r}")
    previous = case.consent
    row = _add_record(
        session,
        ConsentRecord(
            case_id=case.id,
            at=at or now,
            state=state,
            previous=previous,
            source=source,
            item_id=item.id if item else None,
            message_id=item.external_id if item else None,
            actor_id=actor_id,
            reason=reason[:500] if reason else None,
        ),
    )
    if row is None:
        return None
    case.consent, case.consent_at, case.updated_at = state, at or now, now
    session.add(case)
    session.flush()
    record(
        session,
        actor,
        f"consent.{state}",
        "case",
        case.id,
        source=source,
        previous=previous,
        record_id=row.id,
        item_id=item.id if item else None,
    )
    if state == "given":
        due = now + timedelta(days=follow_up_days)
        schedule_follow_up(session, case, due_at=due, actor=actor, reason="consent given", now=now)
    else:
        # No introduction goes ahead without consent, and nobody checks in with someone who
        # said no or asked us to stop.
        _settle_introductions(session, case, actor_id, now)
        end_follow_up(session, case.id, f"consent {state}", now)
    return row


def record_unclear(session: Session, case: Case, item: Item, now: datetime) -> None:
    """An answer Haven could not read: on the history, for a person to look at."""
    row = ConsentRecord(
        case_id=case.id,
        at=item.created_at or now,
        state="unclear",
        previous=case.consent,
        source="text",
        item_id=item.id,
        message_id=item.external_id,
    )
    if _add_record(session, row) is not None:
        record(session, "system", "consent.unclear", "case", case.id, item_id=item.id)


def note_safeguarding_override(session: Session, case: Case, now: datetime) -> bool:
    """Risk escalates without consent; say so on the case, once. True when recorded now."""
    if case.case_type != "safeguarding" or case.consent == "given":
        return False
    done = session.exec(
        select(ConsentRecord.id).where(
            ConsentRecord.case_id == case.id, ConsentRecord.state == "safeguarding_override"
        )
    ).first()
    if done is not None:
        return False
    _add_record(
        session,
        ConsentRecord(
            case_id=case.id,
            at=now,
            state="safeguarding_override",
            previous=case.consent,
            source="system",
            reason=OVERRIDE_REASON,
        ),
    )
    session.add(CaseEvent(case_id=case.id, at=now, kind="note", text=OVERRIDE_REASON))
    record(session, "system", "consent.safeguarding_override", "case", case.id)
    return True


def note_boundary_reply(session: Session, case: Case, now: datetime) -> bool:
    """Out of remit: the boundary reply went, pointing to professional services. Once."""
    # Note texts are encrypted at rest (random ciphertext): compared here, not in SQL.
    notes = session.exec(
        select(CaseEvent.text).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")
    ).all()
    if BOUNDARY_NOTE in notes:
        return False
    session.add(CaseEvent(case_id=case.id, at=now, kind="note", text=BOUNDARY_NOTE))
    record(session, "system", "case.boundary_reply", "case", case.id)
    return True


def case_for_message(session: Session, item: Item) -> Case | None:
    """The open case a private reply linked to this sender's messaging id, newest first."""
    if not item.author_id:
        return None
    sender = (item.account_id, item.author_id)
    return cases_for_senders(session, [sender]).get(sender)


def cases_for_senders(
    session: Session, senders: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Case]:
    """`case_for_message` for many (page account, messaging id) at once: a batch asks once."""
    if not senders:
        return {}
    rows = session.exec(
        select(Case, CaseContact.account_id, CaseContact.messaging_id)
        .join(CaseContact, CaseContact.case_id == Case.id)
        .where(
            tuple_(CaseContact.account_id, CaseContact.messaging_id).in_(sorted(set(senders))),
            Case.status != "closed",
        )
        .order_by(Case.opened_at.desc(), Case.id.desc())
    ).all()
    found: dict[tuple[str, str], Case] = {}
    for case, account_id, messaging_id in rows:
        found.setdefault((account_id, messaging_id), case)
    return found


def contacts(session: Session, case_id: int) -> list[CaseContact]:
    return list(session.exec(select(CaseContact).where(CaseContact.case_id == case_id)).all())


def _system_status(session: Session, case: Case, target: str, reason: str, now: datetime) -> None:
    previous, case.status = case.status, target
    event = CaseEvent(
        case_id=case.id, at=now, kind="status", from_status=previous, to_status=target, text=reason
    )
    session.add(event)
    session.flush()
    record(
        session,
        "system",
        "case.status_changed",
        "case",
        case.id,
        **{"from": previous, "to": target, "event_id": event.id},
    )


def _settle_introductions(
    session: Session, case: Case, actor_id: int | None, now: datetime
) -> None:
    # The directory's own rule for cancelling pending introductions
    # (bot/directory/introductions.py); its tick settles them too, this only makes it immediate.
    from bot.directory.introductions import settle_case

    settle_case(session, case.id, actor_id=actor_id, now=now)
