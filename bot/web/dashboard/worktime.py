"""Working time: how much of an interval fell within staff's working hours.

The CATCH procedure promises action "within a few hours of posting during work hours or the
next working day", so a comment left at 17:30 on a Friday and answered at 09:30 on Monday
took half an hour, not sixty-four; one left on Christmas Eve and answered on the 29th took
what the working days between them held. The hours are the one `working_hours:` section, the
same the alerts use to say "out of hours".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.hours import WorkingHours
from bot.notify.hours import working_day

# Intervals longer than this are clipped: the answer is "far past any target" either way.
LONGEST = timedelta(days=400)


def working_seconds(start: datetime, end: datetime, zone: ZoneInfo, hours: WorkingHours) -> float:
    """Seconds of [start, end) inside working hours, in the organisation's timezone."""
    if end <= start:
        return 0.0
    start = max(start, end - LONGEST)
    total = 0.0
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if working_day(hours, day):
            # Compare in UTC: aware datetimes sharing a tzinfo subtract as wall-clock times.
            opens = datetime.combine(day, hours.opens, zone).astimezone(UTC)
            closes = datetime.combine(day, hours.closes, zone).astimezone(UTC)
            low, high = max(opens, start), min(closes, end)
            if high > low:
                total += (high - low).total_seconds()
        day += timedelta(days=1)
    return total


def working_hours_between(
    start: datetime, end: datetime, zone: ZoneInfo, hours: WorkingHours
) -> float:
    return working_seconds(start, end, zone, hours) / 3600
