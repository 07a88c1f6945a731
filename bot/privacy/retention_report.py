"""The retention report: what was purged, what is held and why, and what is due next.

Numbers, dates, case ids and reasons only: the report itself holds nothing about anyone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.config.privacy import DataProtection
from bot.models import AuditEntry, Case, Item, utcnow
from bot.models.privacy import DataDeletionRequest, PrivacyHold, PrivacyRemoval
from bot.privacy.retention import (
    PURGED_ACTION,
    RETENTION,
    expired_items,
    item_has_content,
    not_held,
)

KINDS = ("items", "inbound_events", "reply_drafts")


@dataclass
class HeldCase:
    case_id: int
    case_type: str
    status: str
    reason: str
    placed_at: datetime
    items_kept_past_retention: int
    review_on: date | None = None  # when the safeguarding lead extends or releases it


@dataclass
class RetentionReport:
    retention_days: int
    cutoff: datetime
    purged: dict[str, int]
    purge_runs: int
    last_purge_at: datetime | None
    erasures: int
    deletion_requests: int
    held: list[HeldCase]
    overdue_items: int
    due_next: dict[date, int] = field(default_factory=dict)
    days_ahead: int = 7

    def as_dict(self) -> dict[str, Any]:
        return {
            "retention_days": self.retention_days,
            "cutoff": self.cutoff.isoformat(),
            "purged": self.purged,
            "purge_runs": self.purge_runs,
            "last_purge_at": self.last_purge_at.isoformat() if self.last_purge_at else None,
            "erasures": self.erasures,
            "deletion_requests": self.deletion_requests,
            "held": [
                {
                    **vars(h),
                    "placed_at": h.placed_at.isoformat(),
                    "review_on": h.review_on.isoformat() if h.review_on else None,
                }
                for h in self.held
            ],
            "overdue_items": self.overdue_items,
            "due_next": {day.isoformat(): n for day, n in sorted(self.due_next.items())},
            "days_ahead": self.days_ahead,
        }

    def lines(self) -> list[str]:
        """The report as plain text, for the CLI."""
        out = [
            f"Retention period: {self.retention_days} days "
            f"(texts received before {self.cutoff:%Y-%m-%d %H:%M} UTC are removed).",
            "Purged so far: "
            + ", ".join(f"{self.purged[k]} {k.replace('_', ' ')}" for k in KINDS)
            + f" in {self.purge_runs} runs"
            + (f"; last {self.last_purge_at:%Y-%m-%d %H:%M} UTC." if self.last_purge_at else "."),
            f"Subject erasures: {self.erasures}; Meta deletion requests: {self.deletion_requests}.",
            f"Held ({len(self.held)} cases):",
        ]
        out += [
            f"  case {h.case_id} ({h.case_type}, {h.status}): {h.items_kept_past_retention} "
            f"items kept past retention; since {h.placed_at:%Y-%m-%d}; review "
            f"{h.review_on.isoformat() if h.review_on else 'due now'}; {h.reason}"
            for h in self.held
        ] or ["  none"]
        out.append(f"Overdue (removed at the next tick): {self.overdue_items} items.")
        out.append(f"Due in the next {self.days_ahead} days:")
        out += [f"  {day.isoformat()}: {n} items" for day, n in sorted(self.due_next.items())] or [
            "  none"
        ]
        return out


def build_report(
    session: Session, config: DataProtection, *, now: datetime | None = None
) -> RetentionReport:
    now = now or utcnow()
    cutoff = now - timedelta(days=config.retention_days)
    runs = session.exec(select(AuditEntry.at).where(AuditEntry.action == PURGED_ACTION)).all()
    purged = dict(
        session.exec(
            select(PrivacyRemoval.table_name, func.count())
            .where(PrivacyRemoval.reason == RETENTION)
            .group_by(PrivacyRemoval.table_name)
        ).all()
    )
    erasures = session.exec(select(func.count()).where(AuditEntry.action == "subject.erased")).one()
    requests = session.exec(select(func.count()).select_from(DataDeletionRequest)).one()
    return RetentionReport(
        retention_days=config.retention_days,
        cutoff=cutoff,
        purged={k: purged.get(k, 0) for k in KINDS},
        purge_runs=len(runs),
        last_purge_at=max(runs, default=None),
        erasures=erasures,
        deletion_requests=requests,
        held=_held(session, cutoff),
        overdue_items=session.exec(
            select(func.count()).select_from(expired_items(cutoff).subquery())
        ).one(),
        due_next=_due_next(
            session, cutoff, timedelta(days=config.retention_days), config.report_days_ahead
        ),
        days_ahead=config.report_days_ahead,
    )


def _held(session: Session, cutoff: datetime) -> list[HeldCase]:
    rows = session.exec(
        select(PrivacyHold, Case)
        .join(Case, Case.id == PrivacyHold.case_id)
        .where(PrivacyHold.released_at.is_(None))
        .order_by(PrivacyHold.case_id)
    ).all()
    kept = dict(
        session.exec(
            select(Item.case_id, func.count())
            .where(
                col(Item.case_id).in_([hold.case_id for hold, _ in rows]),
                Item.received_at < cutoff,
                item_has_content(),
            )
            .group_by(Item.case_id)
        ).all()
    )
    return [
        HeldCase(
            case_id=hold.case_id,
            case_type=case.case_type,
            status=case.status,
            reason=hold.reason,
            placed_at=hold.placed_at,
            items_kept_past_retention=kept.get(hold.case_id, 0),
            review_on=hold.review_on,
        )
        for hold, case in rows
    ]


def _due_next(session: Session, cutoff: datetime, period: timedelta, days: int) -> dict[date, int]:
    """How many items' texts will be removed on each of the next `days` days (UTC)."""
    received = session.exec(
        select(Item.received_at).where(
            Item.received_at >= cutoff,
            Item.received_at < cutoff + timedelta(days=days),
            item_has_content(),
            not_held(Item.case_id),
        )
    ).all()
    # An item's text goes one period after it arrived.
    return dict(Counter((at + period).date() for at in received))
