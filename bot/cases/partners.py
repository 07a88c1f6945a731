"""Telling a partner agency about one of their people, as policy 004 asks: a person does it.

"The partner agency's key contact or Service Manager will also be notified to follow up
locally, the same day and PACT will also then confirm this in writing." When a concern is
about someone connected with a partner, the case gets a task for the safeguarding lead, with a
content-minimal draft to send. Done is recorded on the safeguarding record: told by whom,
when, how, and whether (and when) it was confirmed in writing; or the decision not to tell
them, with its reason. Haven sends the partner a notice by itself only where config.yaml turns
it on for that partner (`alerts.partners[].send_automatically`), and the task is there even then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from bot.audit import record
from bot.cases.record import (
    Keeper,
    NewEntry,
    NotNow,
    Refused,
    add_entry,
    concern_label,
)
from bot.db import add_unless_taken
from bot.models.alerts import Alert
from bot.models.record import PartnerTask, RecordEntry

HOW_LABELS = {
    "phone": "by phone",
    "secure_email": "by secure email",
    "email": "by email",
    "in_person": "in person",
    "meeting": "at a meeting",
    "letter": "by letter",
}


def open_partner_task(
    session: Session, case_id: int, partner: str, category: str, now: datetime, *, automatic: bool
) -> PartnerTask | None:
    """The lead's task to tell this partner about this case; None if it was there already."""
    task = PartnerTask(
        case_id=case_id,
        partner=partner,
        category=category,
        opened_at=now,
        sent_automatically=automatic,
    )
    # Opened already, here or by a worker racing us: the unique key answers, no look first.
    if not add_unless_taken(session, task):
        return None
    record(session, "system", "partner.task_opened", "case", case_id, partner=partner,
           task_id=task.id, automatic=automatic)  # fmt: skip
    return task


def tasks_of(session: Session, case_id: int) -> list[PartnerTask]:
    return list(
        session.exec(
            select(PartnerTask).where(PartnerTask.case_id == case_id).order_by(PartnerTask.id)
        ).all()
    )


def draft_notice(task: PartnerTask, *, organisation: str, when: str) -> str:
    """What the lead sends the key contact: enough to follow up, and nothing that names or
    quotes the person (the lead gives those details on the phone, or by secure email)."""
    return "\n".join(
        [
            f"Subject: Safeguarding concern, {organisation} reference case {task.case_id}",
            "",
            "Dear colleague,",
            "",
            f"This is to let you know that on {when} {organisation} had a safeguarding concern "
            f"({concern_label(task.category)}) about someone who is connected with "
            f"{task.partner}. Our reference is {organisation} case {task.case_id}.",
            "",
            "We are telling you the same day, as our safeguarding procedure asks, so that you "
            "can follow up locally under your own safeguarding policy. Please contact me for "
            "the details; they are deliberately not in this message.",
            "",
            "This also confirms in writing what we discussed today.",
            "",
            f"[your name], safeguarding lead, {organisation}",
            "[your phone number]",
        ]
    )


@dataclass(frozen=True)
class Told:
    """How the partner was told, as the lead records it."""

    by_whom: str
    told_whom: str
    at: datetime
    how: str
    confirmed_in_writing: bool
    confirmed_at: datetime | None = None


def _task(session: Session, case_id: int, task_id: int, keeper: Keeper) -> PartnerTask:
    keeper.check()
    task = session.get(PartnerTask, task_id)
    if task is None or task.case_id != case_id:
        raise Refused("There is no such partner agency task on this case.")
    return task


def _open_task(session: Session, case_id: int, task_id: int, keeper: Keeper) -> PartnerTask:
    task = _task(session, case_id, task_id, keeper)
    if task.status != "open":
        raise NotNow(f"{task.partner} is already recorded as done on this case.")
    return task


def _close(
    session: Session, task: PartnerTask, status: str, entry: RecordEntry, keeper: Keeper
) -> None:
    """Compare-and-set: a second click or a racing request records nothing twice."""
    done = session.exec(
        update(PartnerTask)
        .where(PartnerTask.id == task.id, PartnerTask.status == "open")
        .values(
            status=status,
            done_at=keeper.now,
            done_by=keeper.user_id,
            entry_id=entry.id,
            confirmed_at=entry.confirmed_at,
        )  # fmt: skip
    )
    if done.rowcount != 1:
        raise NotNow(f"{task.partner} is already recorded as done on this case.")
    if task.alert_id is not None:
        # The lead's alert about the task has been dealt with.
        session.exec(
            update(Alert)
            .where(Alert.id == task.alert_id, Alert.acknowledged_at.is_(None))
            .values(acknowledged_at=keeper.now, acknowledged_by=keeper.user_id)
        )


def _audit(
    session: Session, keeper: Keeper, action: str, task: PartnerTask, entry: RecordEntry
) -> None:
    record(session, keeper.actor, action, "case", task.case_id, partner=task.partner,
           task_id=task.id, entry_id=entry.id, how=entry.how,
           confirmed_in_writing=entry.confirmed_in_writing)  # fmt: skip


def record_told(
    session: Session, case_id: int, task_id: int, told: Told, keeper: Keeper
) -> RecordEntry:
    """The partner was told: an action on the record (a fact), and the task done."""
    task = _open_task(session, case_id, task_id, keeper)
    if told.how not in HOW_LABELS:
        raise Refused("Choose how they were told.")
    if not told.by_whom.strip() or not told.told_whom.strip():
        raise Refused("Please say who told them, and who at the partner agency was told.")
    if told.confirmed_in_writing and told.confirmed_at is None:
        raise Refused("Say when it was confirmed in writing, or that it has not been yet.")
    entry = add_entry(
        session,
        case_id,
        NewEntry(
            kind="action",
            basis="fact",
            happened_at=told.at,
            text=f"Told {task.partner} {HOW_LABELS[told.how]}, so they can follow up locally.",
            by_whom=told.by_whom,
            told_whom=told.told_whom,
            partner=task.partner,
            how=told.how,
            confirmed_in_writing=told.confirmed_in_writing,
            confirmed_at=told.confirmed_at if told.confirmed_in_writing else None,
        ),
        keeper,
    )
    _close(session, task, "told", entry, keeper)
    _audit(session, keeper, "partner.told", task, entry)
    return entry


def record_confirmed(
    session: Session, case_id: int, task_id: int, by_whom: str, at: datetime, keeper: Keeper
) -> RecordEntry:
    """The written confirmation, sent after the partner was told: another action on the record."""
    task = _task(session, case_id, task_id, keeper)
    if task.status != "told" or task.confirmed_at is not None:
        raise NotNow(f"There is no telling of {task.partner} waiting for its written confirmation.")
    entry = add_entry(
        session,
        case_id,
        NewEntry(kind="action", basis="fact", happened_at=at,
                 text=f"Confirmed in writing to {task.partner}.", by_whom=by_whom,
                 partner=task.partner, confirmed_in_writing=True, confirmed_at=at),
        keeper,
    )  # fmt: skip
    done = session.exec(
        update(PartnerTask)
        .where(PartnerTask.id == task.id, PartnerTask.confirmed_at.is_(None))
        .values(confirmed_at=at)
    )
    if done.rowcount != 1:
        raise NotNow(f"The written confirmation to {task.partner} is already recorded.")
    _audit(session, keeper, "partner.confirmed_in_writing", task, entry)
    return entry


def record_not_told(
    session: Session, case_id: int, task_id: int, reason: str, keeper: Keeper
) -> RecordEntry:
    """The lead decides the partner is not to be told: a decision with its reason."""
    task = _open_task(session, case_id, task_id, keeper)
    entry = add_entry(
        session,
        case_id,
        NewEntry(
            kind="decision",
            basis="opinion",
            happened_at=keeper.now,
            text=f"Not to tell {task.partner}.",
            reason=reason,
            # Not telling a partner is not the decision on referring on, which is still to make.
            decision="other",
            partner=task.partner,
        ),
        keeper,
    )
    _close(session, task, "not_told", entry, keeper)
    _audit(session, keeper, "partner.not_told", task, entry)
    return entry
