"""A case as a story: what arrived, what Haven found and suggested, what people decided and
why, and what was sent, each with who and when.

Built from the rows themselves and the audit log, in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from bot.audit.sentences import sentence
from bot.models import AuditEntry, Case, OutboundAction, ReplyDraft, User
from bot.models.consent import CaseContact
from bot.models.dashboard import CaseEvent
from bot.untrusted import ascii_int
from bot.web.dashboard.base import local_time, status_label
from bot.web.dashboard.entries import Entry

DRAFT_LABELS = {"public": "a public reply", "private": "a private reply", "dm": "a message",
                "ack": "an out-of-hours acknowledgement"}  # fmt: skip
ACTION_LABELS = {
    "public_reply": "Public reply",
    "private_reply": "Private reply",
    "dm": "Message",
    "hide": "Hide",
    "unhide": "Unhide",
    "delete": "Delete",
}
# Audit actions told better by their own rows (case events, outbound actions) or too
# routine to tell (every item is processed); views are listed apart.
UNTOLD = {"case.status_changed", "case.note_added", "case.assigned", "case.viewed",
          "case.view_refused", "draft.created", "item.processed", "item.superseded",
          "case.out_of_hours_reply"}  # fmt: skip
AUDIT_LABELS = {
    "case.opened": "Opened the case",
    "case.escalated": "Escalated to the safeguarding lead",
    "draft.approved": "Approved a suggested reply",
    "draft.rejected": "Rejected a suggested reply",
    "draft.sent_automatically": "Sent a reply without waiting for approval (out of hours)",
    "draft.deadline_warning": "Warned: a private reply's 7-day window closes within a day",
    "record.entry_added": "Added to the safeguarding record",
    "record.signed_off": "Signed off the safeguarding record",
    "record.exported": "Prepared a printable copy of the safeguarding record",
    "record.refused": "Was refused the safeguarding record",
    "record.support_opened": "Opened support and introductions",
    "partner.task_opened": "A partner agency is to be told today",
    "partner.told": "Recorded that the partner agency was told",
    "partner.confirmed_in_writing": "Recorded the written confirmation to the partner agency",
    "partner.not_told": "Decided not to tell the partner agency",
}


Who = Callable[[str | int | None], str]


@dataclass
class Event:
    at: datetime
    who: str
    what: str
    kind: str  # arrival | finding | draft | decision | sent | status | note | assign | system
    body: str | None = None
    entry: Entry | None = None


@dataclass
class View:
    at: datetime
    who: str
    refused: bool
    via: str


def build(db: Session, case: Case, entries: Sequence[Entry]) -> tuple[list[Event], list[View]]:
    """The case's events, oldest first, and who looked at it."""
    item_ids = [e.item.id for e in entries]
    drafts = [d for e in entries for d in e.drafts]
    actions = db.exec(
        select(OutboundAction)
        .where(OutboundAction.item_id.in_(item_ids))
        .order_by(OutboundAction.id)
    ).all()
    case_events = db.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    audit = _audit(db, case, item_ids, [d.id for d in drafts], [a.id for a in actions])
    names = {u.id: u.username for u in db.exec(select(User)).all()}

    def who(actor: str | int | None) -> str:
        if isinstance(actor, int):
            return names.get(actor, f"user {actor}")
        user_id = ascii_int(actor[5:]) if actor and actor.startswith("user:") else None
        if user_id is not None:
            return names.get(user_id, actor)
        return "Haven" if actor in (None, "system") else str(actor)

    authors = _authors(db, case, entries)
    events: list[Event] = []
    for entry in entries:
        events.append(Event(entry.item.created_at, authors(entry), "wrote", "arrival", entry=entry))
        if entry.findings:
            found = "; ".join(c.phrase for c in entry.concerns).lower()
            first = min(f.created_at for f in entry.findings)
            events.append(Event(first, "Haven", f"Found {found}", "finding"))
        for draft in entry.drafts:
            events.append(
                Event(
                    draft.created_at,
                    "Haven",
                    f"Suggested {DRAFT_LABELS.get(draft.kind, draft.kind)}",
                    "draft",
                )
            )
    drafts_by_id = {d.id: d for d in drafts}
    for action in actions:
        events.extend(_action_events(action, drafts_by_id.get(action.draft_id), who))
    for ev in case_events:
        events.append(_case_event(ev, who, names))
    views = []
    for row in audit:
        if row.action in ("case.viewed", "case.view_refused"):
            via = str((row.detail or {}).get("via", "case page"))
            views.append(View(row.at, who(row.actor), row.action == "case.view_refused", via))
        elif row.action not in UNTOLD and not row.action.startswith("action."):
            label = AUDIT_LABELS.get(row.action) or _capitalised(
                sentence(row.action, row.detail, _day)
            )
            if row.action == "draft.approved" and (row.detail or {}).get("edited"):
                label += " (edited first)"
            kind = "decision" if row.action.startswith("draft.") else "system"
            events.append(Event(row.at, who(row.actor), label, kind))
    events.sort(key=lambda e: e.at)
    return events, views


def _day(at: datetime) -> str:
    return local_time(at, "%a %-d %b")


def _capitalised(words: str) -> str:
    return words[:1].upper() + words[1:]


def _authors(db: Session, case: Case, entries: Sequence[Entry]) -> Callable[[Entry], str]:
    """Who wrote each entry, naming a person in Messenger by the comment that led there.

    Messenger's webhook carries no name, and Meta gives the commenter and the same person in
    Messenger different ids: the case contact (the private reply's recipient) links the two,
    so an answer to our private reply is the commenter's, not "someone"'s.
    """
    named = {e.item.id: e.author for e in entries if e.item.author_name and not e.restricted}
    by_author = {e.item.author_id: e.author for e in entries if e.item.id in named}
    contacts = db.exec(
        select(CaseContact.messaging_id, CaseContact.item_id).where(CaseContact.case_id == case.id)
    ).all()
    for messaging_id, item_id in contacts:
        if item_id in named:
            by_author.setdefault(messaging_id, named[item_id])

    def author(entry: Entry) -> str:
        if entry.item.author_name or entry.restricted:
            return entry.author
        return by_author.get(entry.item.author_id, entry.author)

    return author


def _audit(
    db: Session, case: Case, item_ids: list[int], draft_ids: list[int], action_ids: list[int]
) -> Sequence[AuditEntry]:
    about = [and_(AuditEntry.subject_type == "case", AuditEntry.subject_id == str(case.id))]
    for kind, ids in (("item", item_ids), ("draft", draft_ids), ("action", action_ids)):
        if ids:
            about.append(
                and_(
                    AuditEntry.subject_type == kind,
                    AuditEntry.subject_id.in_([str(i) for i in ids]),
                )
            )
    return db.exec(select(AuditEntry).where(or_(*about)).order_by(AuditEntry.id)).all()


def _action_events(action: OutboundAction, draft: ReplyDraft | None, who: Who) -> list[Event]:
    label = ACTION_LABELS.get(action.kind, action.kind)
    events = [
        Event(action.created_at, who(action.requested_by), f"{label}: asked Meta", "decision")
    ]
    text = draft.text if draft is not None else None
    at = action.done_at or action.updated_at
    if action.status == "done":
        dry = " (dry run: recorded, nothing sent to Meta)" if action.dry_run else ""
        events.append(Event(at, "Haven", f"{label}: done{dry}", "sent", body=text))
    elif action.status == "failed":
        events.append(
            Event(at, "Haven", f"{label}: failed — {action.error or 'no reason given'}", "sent")
        )
    elif action.status == "answer_in_inbox":
        reason = action.error or "outside Meta's limits"
        events.append(Event(at, "Haven", f"{label}: answer from the Meta inbox ({reason})", "sent"))
    return events


def _case_event(ev: CaseEvent, who: Who, names: dict[int | None, str]) -> Event:
    if ev.kind == "status":
        what = f"Status: {status_label(ev.from_status)} → {status_label(ev.to_status)}"
        if ev.outcome:
            what += f" (outcome: {ev.outcome})"
        return Event(ev.at, who(ev.actor_id), what, "status", body=ev.text)
    if ev.kind == "assign":
        target = names.get(ev.assignee_id, "nobody") if ev.assignee_id else "nobody"
        return Event(ev.at, who(ev.actor_id), f"Assigned to {target}", "assign", body=ev.text)
    return Event(ev.at, who(ev.actor_id), "Note", "note", body=ev.text)
