"""Who may see and act on what behind the safeguarding wall: decided here, and only here.

A safeguarding case and everything on it (its items, their reply drafts and sends, the alerts
and audit entries about any of them, and a person known only through it) is for the safeguarding
lead and deputy alone. Everyone else may know that such a case exists, so an empty-looking
queue is never mistaken for a quiet one; never what it is about, nor whom.

"On it" means on it now. An item joins a case after the fact (a second message makes the
thread a safeguarding case, staff open a case on a comment that joins the person's open one),
while a draft or an alert keeps the `case_id` it was written with, often none. So the wall is
always worked out from the item's own `case_id`, the case's membership, never from a copy.

Views, jobs and the alert router ask the functions below; the SQL forms filter lists, counts
and pages in the database, so a page, its count and its filters all agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, exists, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from bot.models import (
    SAFEGUARDING_ROLES,
    AuditEntry,
    Case,
    Introduction,
    Item,
    OutboundAction,
    ReplyDraft,
)
from bot.models.alerts import Alert
from rules.model import SAFEGUARDING_TOPS, top_of

SAFEGUARDING = "safeguarding"
# Alerts about risk by their nature, whatever case they point at (or none yet).
SAFEGUARDING_ALERT_KINDS = frozenset({"escalation", "partner", "partner_summary"})


def sees_safeguarding(role: str | None) -> bool:
    """The lead and deputy: the only roles behind the wall."""
    return role in SAFEGUARDING_ROLES


def is_safeguarding(case: Case | None) -> bool:
    return case is not None and case.case_type == SAFEGUARDING


def is_safeguarding_category(category: str | None) -> bool:
    """Risk, whatever its subcategory: only the lead and deputy hear of it."""
    return category is not None and top_of(category) in SAFEGUARDING_TOPS


def may_see_case(role: str | None, case: Case | None) -> bool:
    """What a case is about, and acting on it; that it exists is no secret (see above)."""
    return not is_safeguarding(case) or sees_safeguarding(role)


def case_of_item(db: Session, item: Item | None) -> Case | None:
    """The case the item is on now."""
    return db.get(Case, item.case_id) if item is not None and item.case_id else None


def may_see_item(db: Session, role: str | None, item: Item | None) -> bool:
    return may_see_case(role, case_of_item(db, item))


def case_of_draft(db: Session, draft: ReplyDraft) -> Case | None:
    """The case a reply belongs with: its item's case now, unless the case it was written for
    is a safeguarding one (the wall follows either)."""
    now_on = case_of_item(db, db.get(Item, draft.item_id))
    written_for = db.get(Case, draft.case_id) if draft.case_id else None
    known = [case for case in (now_on, written_for) if case is not None]
    walled = [case for case in known if is_safeguarding(case)]
    return (walled or known or [None])[0]


def may_act_on_draft(db: Session, role: str | None, draft: ReplyDraft) -> bool:
    return may_see_case(role, case_of_draft(db, draft))


def audience(case: Case | None, roles: Iterable[str]) -> list[str]:
    """Who is told about something on this case: these roles, or the lead and deputy alone."""
    return sorted(SAFEGUARDING_ROLES if is_safeguarding(case) else set(roles))


# The same rules as SQL, for lists, counts and pages.


def walled_case(case_id: Any) -> ColumnElement[bool]:
    """True where `case_id` is a safeguarding case."""
    return exists().where(Case.id == case_id, Case.case_type == SAFEGUARDING)


def walled_item(item_id: Any) -> ColumnElement[bool]:
    """True where the item `item_id` is on a safeguarding case now."""
    return exists().where(Item.id == item_id, walled_case(Item.case_id))


def items_seen_by(role: str | None) -> ColumnElement[bool]:
    """Items whose content this role may see."""
    return true() if sees_safeguarding(role) else ~walled_case(Item.case_id)


def cases_seen_by(role: str | None) -> ColumnElement[bool]:
    """Cases whose content this role may see."""
    return true() if sees_safeguarding(role) else Case.case_type != SAFEGUARDING


def person_seen_by(role: str | None, platform: Any, author_id: Any) -> ColumnElement[bool]:
    """A person (a platform and Meta's id for them: values or columns) is someone to this role
    only through an item the role may see: for anyone else, a person known only through a
    safeguarding case is the same as nobody at all."""
    return exists().where(
        Item.platform == platform, Item.author_id == author_id, items_seen_by(role)
    )


def _walled_subject(kind: str, subject_id: Any) -> ColumnElement[bool]:
    """True where an audit subject of this kind is, or is on, a safeguarding case."""

    def as_text(column: Any) -> ColumnElement[bool]:
        # Audit subjects are any kind of id, kept as text; the cast keeps every id comparable.
        return cast(column, String) == subject_id

    if kind == "case":
        return exists().where(as_text(Case.id), Case.case_type == SAFEGUARDING)
    if kind == "item":
        return exists().where(as_text(Item.id), walled_case(Item.case_id))
    if kind == "draft":
        on_wall = or_(walled_item(ReplyDraft.item_id), walled_case(ReplyDraft.case_id))
        return exists().where(as_text(ReplyDraft.id), on_wall)
    if kind == "action":
        return exists().where(as_text(OutboundAction.id), walled_item(OutboundAction.item_id))
    if kind == "alert":
        return exists().where(as_text(Alert.id), alert_on_walled_case())
    if kind == "introduction":
        return exists().where(as_text(Introduction.id), walled_case(Introduction.case_id))
    raise ValueError(f"no safeguarding rule for audit subjects of kind {kind!r}")


# Audit subjects that can be on a case; the others (users, pages, directory entries, removal
# marks, retention runs) never are.
CASE_BOUND_SUBJECTS = ("case", "item", "draft", "action", "alert", "introduction")


def audit_entries_seen_by(role: str | None) -> ColumnElement[bool]:
    """Audit entries this role may read: none about anything on a safeguarding case for
    anyone but the lead and deputy. Left out, not blanked: a blank row found by filtering on
    an action or a draft's number would still say what happened to whom."""
    if sees_safeguarding(role):
        return true()
    walled = or_(
        *(
            and_(AuditEntry.subject_type == kind, _walled_subject(kind, AuditEntry.subject_id))
            for kind in CASE_BOUND_SUBJECTS
        )
    )
    return ~walled


# Alerts.


def alert_on_walled_case() -> ColumnElement[bool]:
    """True where the alert points at a safeguarding case, or at an item on one now."""
    return or_(walled_case(Alert.case_id), walled_item(Alert.item_id))


def _alert_is_safeguarding(
    kind: str, category: str | None, roles: Sequence[str] | None, on_walled_case: bool
) -> bool:
    return (
        on_walled_case
        or kind in SAFEGUARDING_ALERT_KINDS
        or is_safeguarding_category(category)
        or (bool(roles) and set(roles or ()) <= SAFEGUARDING_ROLES)
    )


def _sees_alert(
    role: str | None,
    kind: str,
    category: str | None,
    roles: Sequence[str] | None,
    on_walled_case: Any,
) -> bool:
    """The roles an alert names see it, and admins see every alert, except a safeguarding
    one, which only the lead and deputy may know about."""
    if _alert_is_safeguarding(kind, category, roles, bool(on_walled_case)):
        return sees_safeguarding(role)
    return role in (roles or ()) or role == "admin"


def count_alerts_seen(db: Session, role: str | None, *where: ColumnElement[bool]) -> int:
    """How many of the alerts `where` picks this role may see (a few small columns each)."""
    rows = db.exec(
        select(Alert.kind, Alert.category, Alert.roles, alert_on_walled_case()).where(*where)
    ).all()
    return sum(1 for row in rows if _sees_alert(role, *row))


def alerts_seen(
    db: Session, role: str | None, *where: ColumnElement[bool], limit: int, scan: int
) -> list[Alert]:
    """The newest `limit` alerts this role may see, of the newest `scan` that `where` picks."""
    rows = db.exec(
        select(Alert, alert_on_walled_case())
        .where(*where)
        .order_by(Alert.id.desc())  # type: ignore[union-attr]
        .limit(scan)
    ).all()
    seen = [a for a, walled in rows if _sees_alert(role, a.kind, a.category, a.roles, walled)]
    return seen[:limit]


def alert_ids_seen(db: Session, role: str | None, alert_ids: Iterable[int]) -> set[int]:
    ids = list(alert_ids)
    if not ids:
        return set()
    seen = alerts_seen(db, role, Alert.id.in_(ids), limit=len(ids), scan=len(ids))  # type: ignore[union-attr]
    return {a.id for a in seen if a.id is not None}


def may_see_alert(db: Session, role: str | None, alert: Alert) -> bool:
    return alert.id is not None and alert.id in alert_ids_seen(db, role, [alert.id])


@dataclass(frozen=True)
class Audience:
    """Who an alert may reach now, and whether it is about something behind the wall."""

    roles: tuple[str, ...]
    safeguarding: bool


def alert_audience(db: Session, alert: Alert) -> Audience:
    """The roles an alert is routed to, worked out again whenever it is routed or sent: an
    alert about anything on a safeguarding case goes to the lead and deputy and nobody else,
    whoever it named when it was raised."""
    walled = bool(db.exec(select(alert_on_walled_case()).where(Alert.id == alert.id)).one())
    if not _alert_is_safeguarding(alert.kind, alert.category, alert.roles, walled):
        return Audience(tuple(alert.roles), safeguarding=False)
    named = tuple(r for r in alert.roles if sees_safeguarding(r))
    return Audience(named or tuple(sorted(SAFEGUARDING_ROLES)), safeguarding=True)
