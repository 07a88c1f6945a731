"""Response times: from an item's arrival to the first thing a person did about it.

Counted in working hours (config `working_hours`, bank holidays skipped), against the targets
in config (`dashboard.response_target_hours`, tighter ones by category). A "first action" is:
approve or reject a reply, hide or unhide, mark reviewed, open a case, or a status change,
note or assignment on the item's case.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlmodel import Session, select

from bot.cases.access import cases_seen_by
from bot.cases.wording import TOP_PHRASES, phrase
from bot.config.hours import WorkingHours
from bot.config.voices import page_config
from bot.models import Case, Finding, Item, utcnow
from bot.web.dashboard.base import CHANNEL_LABELS, engine, haven, role
from bot.web.dashboard.worktime import working_hours_between
from bot.web.inputs import query_int

bp = Blueprint("times", __name__)

PERIODS = (7, 30, 90, 365)
LATE_LIST_LIMIT = 100
# The families of concern in words (bot/cases/wording.py), as the rows of the table.
TOP_LABELS = TOP_PHRASES


@dataclass
class Measured:
    """One flagged item: how long it waited, in working hours, and against which target."""

    item_id: int
    channel: str
    tops: set[str]
    categories: set[str]
    received_at: datetime
    answered: bool
    hours: float
    target: float
    case_id: int | None
    restricted: bool
    platform: str
    author_id: str | None

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def late(self) -> bool:
        return self.hours > self.target


@dataclass
class Row:
    label: str
    measured: list[Measured] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.measured)

    @property
    def answered(self) -> int:
        return sum(m.answered for m in self.measured)

    @property
    def median_hours(self) -> float | None:
        done = [m.hours for m in self.measured if m.answered]
        return statistics.median(done) if done else None

    @property
    def within_target(self) -> int:
        return sum(m.answered and not m.late for m in self.measured)

    @property
    def answered_late(self) -> int:
        return sum(m.answered and m.late for m in self.measured)

    @property
    def waiting_late(self) -> int:
        return sum(not m.answered and m.late for m in self.measured)


def measure(db: Session, since: datetime, now: datetime) -> list[Measured]:
    """Every item flagged since `since`, with its wait in working hours."""
    config = haven().settings.config
    zone = ZoneInfo(config.organisation.timezone)
    rows = db.exec(
        select(Item, Finding.category)
        .join(Finding, Finding.item_id == Item.id)
        .where(Finding.superseded_at.is_(None), Item.received_at >= since)
        .order_by(Item.received_at)
    ).all()
    by_item: dict[int, tuple[Item, set[str]]] = {}
    for item, category in rows:
        by_item.setdefault(item.id, (item, set()))[1].add(category)  # type: ignore[index]
    case_ids = {item.case_id for item, _ in by_item.values() if item.case_id}
    walled = set(db.exec(select(Case.id).where(Case.id.in_(case_ids), ~cases_seen_by(role()))))
    measured = []
    # Each page's own working hours (its voice), looked up once per page.
    hours_of: dict[str, WorkingHours] = {}
    for item, categories in by_item.values():
        tops = {c.split(".", 1)[0] for c in categories}
        end = item.first_action_at or now
        if item.account_id not in hours_of:
            hours_of[item.account_id] = page_config(config, item.account_id).working_hours
        measured.append(
            Measured(
                item_id=item.id,  # type: ignore[arg-type]
                channel=item.channel,
                tops=tops,
                categories=categories,
                received_at=item.received_at,
                answered=item.first_action_at is not None,
                hours=working_hours_between(item.received_at, end, zone, hours_of[item.account_id]),
                target=min(config.dashboard.target_hours(t) for t in tops),
                case_id=item.case_id,
                restricted=item.case_id in walled,
                platform=item.platform,
                author_id=item.author_id,
            )
        )
    return measured


def group(measured: list[Measured]) -> tuple[list[Row], list[Row]]:
    """Rows by top-level category (an item counts once in each of its), and by channel."""
    tops: dict[str, Row] = {}
    channels: dict[str, Row] = {}
    for m in measured:
        for top in sorted(m.tops):
            tops.setdefault(top, Row(TOP_LABELS.get(top, phrase(top)))).measured.append(m)
        channels.setdefault(m.channel, Row(m.channel_label)).measured.append(m)
    return sorted(tops.values(), key=lambda r: r.label), sorted(
        channels.values(), key=lambda r: r.label
    )


@bp.get("/response-times")
@login_required
def response_times() -> ResponseReturnValue:
    days = query_int("days", 30)
    days = days if days in PERIODS else 30
    now = utcnow()
    with Session(engine()) as db:
        measured = measure(db, now - timedelta(days=days), now)
    by_top, by_channel = group(measured)
    waiting = sorted((m for m in measured if not m.answered and m.late), key=lambda m: -m.hours)
    totals = Row("All flagged items", measured)
    config = haven().settings.config.dashboard
    per_top_targets = {
        TOP_LABELS.get(top, phrase(top)): hours
        for top, hours in config.response_target_hours_by_category.items()
    }
    return render_template(
        "dashboard/response_times.html",
        days=days,
        periods=PERIODS,
        totals=totals,
        by_top=by_top,
        by_channel=by_channel,
        waiting=waiting[:LATE_LIST_LIMIT],
        waiting_total=len(waiting),
        target=config.response_target_hours,
        per_top_targets=per_top_targets,
        working=haven().settings.config.working_hours,
        zone=haven().settings.config.organisation.timezone,
    )
