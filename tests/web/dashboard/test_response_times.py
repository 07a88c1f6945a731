"""Response times in working hours, by category and channel, and what is waiting too long."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session

from bot.config.hours import WorkingHours
from bot.db import session_scope
from bot.models import Item
from bot.web.dashboard.worktime import working_hours_between
from tests.web.dashboard.support import HELP, PII, comment, message

LONDON = ZoneInfo("Europe/London")
OFFICE = WorkingHours()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_working_hours_skip_evenings_and_weekends() -> None:
    # Friday 17:30 to Monday 09:30: half an hour of working time.
    assert (
        working_hours_between(_at("2026-11-20T17:30"), _at("2026-11-23T09:30"), LONDON, OFFICE)
        == 0.5
    )
    # Within one day, and across a whole working week.
    assert (
        working_hours_between(_at("2026-11-23T10:00"), _at("2026-11-23T12:15"), LONDON, OFFICE)
        == 2.25
    )
    assert (
        working_hours_between(_at("2026-11-23T00:00"), _at("2026-11-30T00:00"), LONDON, OFFICE)
        == 40
    )
    assert (
        working_hours_between(_at("2026-11-23T12:00"), _at("2026-11-23T11:00"), LONDON, OFFICE) == 0
    )


def test_working_hours_follow_the_clocks_changing() -> None:
    # The clocks went forward on Sunday 29 March 2026: Monday 09:00-17:00 is still 8 hours.
    monday = working_hours_between(_at("2026-03-30T00:00"), _at("2026-03-31T00:00"), LONDON, OFFICE)
    assert monday == 8
    utc_nine = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 in London (BST)
    assert working_hours_between(utc_nine, utc_nine + timedelta(hours=1), LONDON, OFFICE) == 1
    weekend = WorkingHours(days=("sat", "sun"), opens=time(10), closes=time(12))
    assert (
        working_hours_between(_at("2026-11-20T00:00"), _at("2026-11-23T00:00"), LONDON, weekend)
        == 4
    )


def _arrived(app: Flask, item: Item, at: datetime, acted: datetime | None = None) -> None:
    with session_scope(app.extensions["haven"].engine) as db:
        db.execute(
            update(Item).where(Item.id == item.id).values(received_at=at, first_action_at=acted)
        )


def test_the_page_reports_by_category_and_channel_and_lists_late_items(
    app: Flask, as_role: Callable[[str], FlaskClient]
) -> None:
    feeder = app.test_client()
    quick = comment(app, feeder, HELP, author="901")
    slow = comment(app, feeder, PII, author="902")
    waiting = message(app, feeder, HELP, sender="903")
    monday = _at("2026-11-16T10:00")  # safely in the past, in working hours
    _arrived(app, quick, monday, monday + timedelta(hours=1))
    _arrived(app, slow, monday, monday + timedelta(days=1))  # 8 working hours later
    # Flagged a week ago (say) and not touched since: far past the 4-hour target.
    with Session(app.extensions["haven"].engine) as db:
        arrived = db.get(Item, waiting.id).received_at  # type: ignore[union-attr]
    _arrived(app, waiting, arrived - timedelta(days=7))
    page = as_role("moderator").get("/response-times?days=365").get_data(as_text=True)
    assert "Target: 4 working hours; A safeguarding concern: 1 h." in page
    totals = '<td>3</td><td>2</td><td>4.5 h</td><td>1</td><td>1</td><td class="late">1</td>'
    assert f'<th scope="row">All flagged items</th>{totals}' in page
    assert '<th scope="row">Messenger</th><td>1</td><td>0</td><td>—</td>' in page
    assert '<th scope="row">Asking for help</th>' in page
    assert '<th scope="row">Personal details in public</th>' in page
    assert "Waiting past the target now (1)" in page
    assert re.search(r'late">40.0 h</span> \(target 4 h\) ·\s+Messenger ·\s+Asking for', page)
    assert as_role("moderator").get("/response-times?days=5000").status_code == 200
