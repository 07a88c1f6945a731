"""A case's safeguarding record, kept as UK safeguarding logs keep it (CPOMS, MyConcern).

The concern comes first: the words that raised it, when it happened and when it was recorded,
and who raised it (Haven, or a named member of staff). Then what was done about it: actions
(who did what, who was told, when), decisions with their reasons (the reason for not referring
on included), the outcome, and the safeguarding lead's sign-off. Each entry says whether it is
a fact or an opinion.

Only the safeguarding lead and deputy keep the record; only the lead signs it off. Entries are
append-only (the database refuses changes); after the sign-off, more can only be added as
addenda. Every step is audited, never with what was written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.access import sees_safeguarding
from bot.db import add_unless_taken
from bot.models import Case, Finding, Item, User
from bot.models.dashboard import CaseEvent
from bot.models.record import PartnerTask, RecordEntry, SafeguardingRecord
from rules.model import SAFEGUARDING_TOPS, top_of

LEAD = "safeguarding_lead"
MAX_TEXT = 4000
MAX_NAME = 200
# A clock a little ahead of the server's is not a reason to refuse an entry.
CLOCK_SKEW = timedelta(minutes=5)
KIND_LABELS = {"action": "Action", "decision": "Decision", "outcome": "Outcome",
               "sign_off": "Sign-off"}  # fmt: skip
BASIS_LABELS = {"fact": "fact", "opinion": "opinion"}
DECISION_LABELS = {
    "refer": "Refer on (children's social care, the police or another agency)",
    "no_referral": "Not refer on",
    "other": "Another decision",
}
# A sign-off needs one of these: whether the concern went further, and why.
REFERRAL_DECISIONS = ("refer", "no_referral")
# The categories of a concern in a safeguarding lead's words.
CONCERN_LABELS = {
    "risk": "a risk to someone's safety",
    "risk.suicide": "risk of suicide",
    "risk.self_harm": "self-harm",
    "risk.abuse": "abuse",
    "risk.child_at_risk": "a child at risk",
    "risk.domestic_violence": "domestic abuse",
    "risk.harm_to_others": "risk of harm to others",
}


class Refused(Exception):
    """The record cannot take this: bad input (400). The message says why, for the lead."""

    status = 400


class NotNow(Refused):
    """Not in the record's present state (409): already signed off, something still to do."""

    status = 409


@dataclass(frozen=True)
class Keeper:
    """Who is writing to the record, and when: every step takes one."""

    user_id: int
    role: str
    now: datetime

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"

    def check(self) -> None:
        if not may_keep_record(self.role):
            raise Refused("Only the safeguarding lead and deputy keep the safeguarding record.")


def concern_label(category: str | None) -> str:
    if not category:
        return "a safeguarding concern"
    return CONCERN_LABELS.get(category) or category.replace("_", " ").replace(".", ": ")


def may_keep_record(role: str | None) -> bool:
    """The safeguarding lead and deputy read and write the record; nobody else sees it."""
    return sees_safeguarding(role)


def may_sign_off(role: str | None) -> bool:
    return role == LEAD


@dataclass(frozen=True)
class Concern:
    """What raised the concern, as the record opens with it."""

    words: str | None
    item_id: int | None
    channel: str | None
    happened_at: datetime
    recorded_at: datetime
    raised_by: str  # "Haven" or the member of staff's name
    by_staff: bool
    found: str  # in the lead's words: "risk of suicide"
    staff_reason: str | None = None


def concern_of(session: Session, case: Case) -> Concern | None:
    """The first safeguarding finding on the case's items, or else a member of staff's
    escalation (with the last thing the person wrote before it)."""
    items = session.exec(
        select(Item).where(Item.case_id == case.id).order_by(Item.created_at, Item.id)
    ).all()
    by_id = {i.id: i for i in items}
    if by_id:
        findings = session.exec(
            select(Finding).where(Finding.item_id.in_(list(by_id))).order_by(Finding.created_at)
        ).all()
        for finding in findings:
            if top_of(finding.category) in SAFEGUARDING_TOPS:
                item = by_id[finding.item_id]
                return Concern(
                    words=item.text,
                    item_id=item.id,
                    channel=item.channel,
                    happened_at=item.created_at,
                    recorded_at=item.received_at,
                    raised_by="Haven",
                    by_staff=False,
                    found=concern_label(finding.category),
                )
    escalated = session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.to_status == "escalated")
        .order_by(CaseEvent.at, CaseEvent.id)
    ).first()
    if escalated is None:
        return None
    before = [i for i in items if i.received_at <= escalated.at] or list(items)
    item = before[-1] if before else None
    staff = session.get(User, escalated.actor_id) if escalated.actor_id else None
    return Concern(
        words=item.text if item else None,
        item_id=item.id if item else None,
        channel=item.channel if item else None,
        happened_at=item.created_at if item else escalated.at,
        recorded_at=escalated.at,
        raised_by=staff.username if staff else "a member of staff",
        by_staff=True,
        found="escalated by a member of staff",
        staff_reason=escalated.text,
    )


def record_of(session: Session, case_id: int) -> SafeguardingRecord | None:
    return session.exec(
        select(SafeguardingRecord).where(SafeguardingRecord.case_id == case_id)
    ).first()


def ensure_record(session: Session, case_id: int, now: datetime) -> SafeguardingRecord:
    """The case's record row, made on first use; racing requests make one."""
    found = record_of(session, case_id)
    if found is not None:
        return found
    add_unless_taken(session, SafeguardingRecord(case_id=case_id, opened_at=now))
    made = record_of(session, case_id)
    assert made is not None
    return made


def _locked_record(session: Session, case_id: int, now: datetime) -> SafeguardingRecord:
    """The record row, locked until commit: an entry and the sign-off never cross."""
    ensure_record(session, case_id, now)
    return session.exec(
        select(SafeguardingRecord)
        .where(SafeguardingRecord.case_id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def entries_of(session: Session, case_id: int) -> list[RecordEntry]:
    return list(
        session.exec(
            select(RecordEntry)
            .where(RecordEntry.case_id == case_id)
            .order_by(RecordEntry.recorded_at, RecordEntry.id)
        ).all()
    )


@dataclass(frozen=True)
class NewEntry:
    """What the lead or deputy writes; `add_entry` checks it."""

    kind: str
    basis: str
    happened_at: datetime
    text: str
    by_whom: str | None = None
    told_whom: str | None = None
    reason: str | None = None
    decision: str | None = None
    partner: str | None = None
    how: str | None = None
    confirmed_in_writing: bool | None = None
    confirmed_at: datetime | None = None


def _clean(value: str | None, limit: int, what: str, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise Refused(f"Please write {what}.")
    if len(value) > limit:
        raise Refused(f"Please keep {what} under {limit} characters.")
    return value or None


def _checked(entry: NewEntry, now: datetime) -> NewEntry:
    if entry.kind not in ("action", "decision", "outcome"):
        raise Refused("An entry is an action, a decision or the outcome.")
    if entry.basis not in BASIS_LABELS:
        raise Refused("Say whether the entry is a fact or an opinion.")
    if entry.happened_at > now + CLOCK_SKEW:
        raise Refused("When it happened cannot be in the future.")
    if entry.confirmed_at is not None and entry.confirmed_at > now + CLOCK_SKEW:
        raise Refused("When it was confirmed in writing cannot be in the future.")
    decision = entry.decision if entry.kind == "decision" else None
    if entry.kind == "decision" and decision not in DECISION_LABELS:
        raise Refused("Choose the decision: refer on, not refer on, or another decision.")
    reason = _clean(entry.reason, MAX_TEXT, "the reason for the decision",
                    required=entry.kind == "decision")  # fmt: skip
    return NewEntry(
        kind=entry.kind,
        basis=entry.basis,
        happened_at=entry.happened_at,
        text=_clean(entry.text, MAX_TEXT, "what happened", required=True),  # type: ignore[arg-type]
        by_whom=_clean(entry.by_whom, MAX_NAME, "who did it"),
        told_whom=_clean(entry.told_whom, MAX_NAME, "who was told"),
        reason=reason,
        decision=decision,
        partner=entry.partner,
        how=entry.how,
        confirmed_in_writing=entry.confirmed_in_writing,
        confirmed_at=entry.confirmed_at,
    )


def add_entry(session: Session, case_id: int, entry: NewEntry, keeper: Keeper) -> RecordEntry:
    """Append an action, decision or outcome; after the sign-off it is an addendum."""
    keeper.check()
    checked = _checked(entry, keeper.now)
    kept = _locked_record(session, case_id, keeper.now)
    row = RecordEntry(
        case_id=case_id,
        addendum=kept.signed_off_at is not None,
        recorded_at=keeper.now,
        recorded_by=keeper.user_id,
        **asdict(checked),
    )
    session.add(row)
    session.flush()
    record(session, keeper.actor, "record.entry_added", "case", case_id,
           entry_id=row.id, kind=row.kind, basis=row.basis, addendum=row.addendum)  # fmt: skip
    return row


def missing_for_sign_off(session: Session, case_id: int) -> list[str]:
    """What the record still needs before the lead can sign it off, in the lead's words."""
    entries = entries_of(session, case_id)
    missing = []
    if not any(e.kind == "decision" and e.decision in REFERRAL_DECISIONS for e in entries):
        missing.append("a decision on referring on, with its reason")
    if not any(e.kind == "outcome" for e in entries):
        missing.append("the outcome")
    waiting = session.exec(
        select(PartnerTask.partner).where(
            PartnerTask.case_id == case_id, PartnerTask.status == "open"
        )
    ).all()
    missing += [f"to tell {partner}, or a decision not to" for partner in waiting]
    return missing


def sign_off(session: Session, case_id: int, summary: str | None, keeper: Keeper) -> RecordEntry:
    """The lead signs the record off; from then on entries are addenda."""
    if not may_sign_off(keeper.role):
        raise Refused("Only the safeguarding lead signs off the record.")
    summary = _clean(summary, MAX_TEXT, "the summary")
    now, user_id = keeper.now, keeper.user_id
    kept = _locked_record(session, case_id, now)
    if kept.signed_off_at is not None:
        raise NotNow("The record is already signed off; add an addendum instead.")
    missing = missing_for_sign_off(session, case_id)
    if missing:
        raise NotNow("Before signing off, the record needs " + "; ".join(missing) + ".")
    entry = RecordEntry(
        case_id=case_id,
        kind="sign_off",
        happened_at=now,
        recorded_at=now,
        recorded_by=user_id,
        text=summary or "Signed off: the record is complete.",
    )
    session.add(entry)
    done = session.exec(
        update(SafeguardingRecord)
        .where(SafeguardingRecord.id == kept.id, SafeguardingRecord.signed_off_at.is_(None))
        .values(signed_off_at=now, signed_off_by=user_id)
    )
    if done.rowcount != 1:
        raise NotNow("The record is already signed off; add an addendum instead.")
    session.flush()
    record(session, keeper.actor, "record.signed_off", "case", case_id, entry_id=entry.id)
    return entry


def support_open(session: Session, case: Case) -> bool:
    """Support and introductions stay closed on a safeguarding case until the lead opens them:
    a suicide-risk case is not the moment to propose a family law line."""
    if case.case_type != "safeguarding":
        return True
    kept = record_of(session, case.id)  # type: ignore[arg-type]
    return kept is not None and kept.support_opened_at is not None


def open_support(session: Session, case_id: int, keeper: Keeper) -> bool:
    """Open the support and introductions panel on a safeguarding case; False if it was open."""
    keeper.check()
    kept = ensure_record(session, case_id, keeper.now)
    done = session.exec(
        update(SafeguardingRecord)
        .where(SafeguardingRecord.id == kept.id, SafeguardingRecord.support_opened_at.is_(None))
        .values(support_opened_at=keeper.now, support_opened_by=keeper.user_id)
    )
    if done.rowcount == 1:
        record(session, keeper.actor, "record.support_opened", "case", case_id)
    return done.rowcount == 1
