"""One case per person and thread: a new message joins the case already open for them."""

from __future__ import annotations

from collections.abc import Collection, MutableMapping, Sequence

from sqlmodel import Session, select

from bot.audit import record
from bot.cases.escalation import make_safeguarding
from bot.cases.keys import open_key
from bot.db import add_unless_taken
from bot.models import Case, Item, utcnow
from rules import Finding

SEVERITY_ORDER = ("low", "medium", "high", "critical")
PRIORITY_ORDER = ("low", "normal", "high", "urgent")


def attach_to_case(
    session: Session,
    item: Item,
    findings: Sequence[Finding],
    known: MutableMapping[str, Case | None] | None = None,
) -> Case | None:
    """Open or update the case the findings call for, and link the item to it.

    `known`: the open case of each open key as a batch read them at once; kept up to date
    here, so the next message of the same person and thread in the batch finds its case.
    """
    specs = [f.actions.open_case for f in findings if f.actions.open_case is not None]
    escalate = any(f.actions.escalate for f in findings)
    if not specs and not escalate:
        return None
    severity = max((f.severity for f in findings), key=SEVERITY_ORDER.index)
    priority = max((s.priority for s in specs), key=PRIORITY_ORDER.index, default="urgent")
    # The safeguarding override: risk makes the whole case a safeguarding case, whatever
    # else the person wrote about, and it is never downgraded by a later, milder message.
    case_type = "safeguarding" if escalate else specs[0].type
    case, created = _find_or_open(session, item, case_type, priority, severity, known)
    if not created:
        case.severity = max(case.severity, severity, key=SEVERITY_ORDER.index)
        case.priority = max(case.priority, priority, key=PRIORITY_ORDER.index)
    if escalate:
        # Walled off at once, before any reply is drafted; the paging and the assignment
        # follow with the alerts (bot/notify/alerts.py calls escalate_case).
        make_safeguarding(session, case, utcnow(), item_id=item.id)
    if not created:  # a new one's is when it was opened, a moment ago: no second write
        case.updated_at = utcnow()
    session.add(case)
    item.case_id = case.id
    return case


def _find_or_open(
    session: Session,
    item: Item,
    case_type: str,
    priority: str,
    severity: str,
    known: MutableMapping[str, Case | None] | None,
) -> tuple[Case, bool]:
    if item.case_id is not None:
        # Already linked (a reply in the private conversation a private reply started).
        linked = session.get(Case, item.case_id)
        if linked is not None and linked.status != "closed":
            return linked, False
    key = open_key(item)
    known = {} if known is None else known
    looked_now = key not in known
    if looked_now:
        known[key] = session.exec(select(Case).where(Case.open_key == key)).first()
    existing = known[key]
    # What was just looked up needs no second look; what the batch read before may be stale.
    if existing is not None and (looked_now or _still_open(session, existing, key)):
        return existing, False
    case = Case(
        case_type=case_type,
        priority=priority,
        severity=severity,
        platform=item.platform,
        account_id=item.account_id,
        author_id=item.author_id,
        open_key=key,
    )
    # If another worker opened this person's case a moment ago, the unique open_key refuses
    # ours and we join theirs instead of failing the whole item.
    if not add_unless_taken(session, case):
        known[key] = session.exec(select(Case).where(Case.open_key == key)).one()
        return known[key], False  # type: ignore[return-value]
    known[key] = case
    record(session, "system", "case.opened", "case", case.id, item_id=item.id, case_type=case_type)
    return case, True


def _still_open(session: Session, case: Case, key: str) -> bool:
    """Whether `case`, read when the batch began, still holds `key`: staff may have closed it
    since (closing clears the key), and a message must then open a new case, not reopen an
    escalated one behind the lead's back. One small query per item that needs a case."""
    current = session.scalar(select(Case.open_key).where(Case.id == case.id))
    if current == key:
        return True
    session.expire(case)  # what was read is out of date; nothing of this batch changed it
    return False


def open_cases(session: Session, keys: Collection[str]) -> dict[str, Case | None]:
    """The open case of each open key (None: none yet), in one query for a batch."""
    if not keys:
        return {}
    found = session.exec(select(Case).where(Case.open_key.in_(sorted(set(keys))))).all()  # type: ignore[union-attr]
    by_key = {case.open_key: case for case in found}
    return {key: by_key.get(key) for key in keys}
