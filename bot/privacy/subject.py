"""Subject access and erasure for one platform user, over every table that holds their data.

Both are used by the CLI, the dashboard and Meta's data-deletion callback. Each is one
transaction (the caller's session), and each leaves an audit entry that says what kind of
request it was and how many rows it touched, never who the person is or what they wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.audit import record
from bot.models import utcnow
from bot.models.privacy import PrivacyHold
from bot.privacy.core_data import active_mark_kept, subject_case_ids
from bot.privacy.erased import record_erasure
from bot.privacy.holds import held_case_ids, place_safeguarding_holds, safeguarding_cases
from bot.privacy.subject_data import SUBJECT_DATA

PLATFORMS = ("facebook", "instagram")
# Meta's ids are digits; a little more is allowed, but nothing that could break out of a
# header or a file name.
USER_ID = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
WITHHELD = "withheld: safeguarding case (the safeguarding lead can provide it)"
MARK_KEPT_REASON = (
    "an active removal from the community is kept (platform, id and dates; the reason was "
    "erased) so the person cannot rejoin unnoticed"
)


@dataclass
class Kept:
    """Something erasure did not remove, and why."""

    what: str
    reason: str
    case_id: int | None = None


@dataclass
class ErasureResult:
    changed: dict[str, int] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.changed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "total_changed": self.total,
            "kept": [vars(k) for k in self.kept],
        }


def check_subject(platform: str, author_id: str) -> None:
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}")
    if not USER_ID.match(author_id or ""):
        raise ValueError("a platform user id is 1 to 64 letters, digits, '_', '.' or '-'")


def export_subject(
    session: Session,
    platform: str,
    author_id: str,
    *,
    actor: str,
    source: str,
    withhold_safeguarding: bool = False,
) -> dict[str, Any]:
    """Everything held about the person, table by table, as JSON-able data; audited.

    `withhold_safeguarding` is for dashboard users who may not see what a safeguarding case is
    about (admins): those rows are replaced by a note, and the lead can provide them.
    """
    check_subject(platform, author_id)
    hidden: set[int] = set()
    if withhold_safeguarding:
        cases = subject_case_ids(session, platform, author_id)
        hidden = set(session.exec(safeguarding_cases(cases)).all())  # type: ignore[call-overload]
    data = {
        entry.name: [
            _withheld(row, entry.name, hidden) for row in entry.export(session, platform, author_id)
        ]
        for entry in SUBJECT_DATA
    }
    counts = {name: len(rows) for name, rows in data.items()}
    record(
        session, actor, "subject.exported", "subject", None, source=source, platform=platform,
        counts=counts, withheld_cases=sorted(hidden),
    )  # fmt: skip
    return {
        "platform": platform,
        "user_id": author_id,
        "exported_at": utcnow(),
        "holds": _holds(
            session, held_case_ids(session, subject_case_ids(session, platform, author_id))
        ),
        "data": data,
    }


def _withheld(row: dict[str, Any], table: str, hidden: set[int]) -> dict[str, Any]:
    case_id = row.get("id") if table == "cases" else row.get("case_id")
    if hidden and case_id in hidden:
        return {"id": row.get("id"), "case_id": case_id, "withheld": WITHHELD}
    return row


def _holds(session: Session, case_ids: set[int]) -> list[dict[str, Any]]:
    holds = session.exec(
        select(PrivacyHold).where(col(PrivacyHold.case_id).in_(case_ids)).order_by(PrivacyHold.id)
    ).all()
    return [{"case_id": h.case_id, "reason": h.reason, "placed_at": h.placed_at} for h in holds]


def erase_subject(
    session: Session, platform: str, author_id: str, *, actor: str, source: str
) -> ErasureResult:
    """Remove or blank everything about the person except what a hold keeps; audited.

    Idempotent: a second erasure finds nothing left to change and says so.
    """
    check_subject(platform, author_id)
    cases = subject_case_ids(session, platform, author_id)
    place_safeguarding_holds(session, actor, cases)
    held = held_case_ids(session, cases)
    result = ErasureResult()
    for hold in _holds(session, held):
        result.kept.append(
            Kept(
                what=f"case {hold['case_id']}: its messages, drafts, notes and raw deliveries",
                reason=hold["reason"],
                case_id=hold["case_id"],
            )
        )
    if active_mark_kept(session, platform, author_id):
        result.kept.append(Kept(what="community removal mark", reason=MARK_KEPT_REASON))
    for entry in SUBJECT_DATA:
        result.changed[entry.name] = entry.erase(session, platform, author_id, set(held))
    record_erasure(session, platform, author_id)
    session.flush()
    record(
        session, actor, "subject.erased", "subject", None, source=source, platform=platform,
        changed=result.changed, held_cases=sorted(held),
    )  # fmt: skip
    return result


def to_json(data: Any) -> str:
    """The export as text: dates as ISO 8601, everything else as JSON has it."""
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2, sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return sorted(value)
    raise TypeError(f"cannot export a {type(value).__name__}")
