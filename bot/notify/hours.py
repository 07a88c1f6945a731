"""Office hours: is anyone in, when are they back, and what a risk reply says out of hours.

Times are aware datetimes; the office's own clock is `organisation.timezone`, so "9 to 5" means
9 to 5 in London whether it is GMT or BST. When staff are in is the one `working_hours:` section;
what the reply says is `alerts.office_hours`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.alerts import OfficeHours
from bot.config.hours import WEEKDAYS, WorkingHours
from rules import RuleSet

DM_CHANNEL = {"facebook": "fb_dm", "instagram": "ig_dm"}


def local(when: datetime, timezone: str) -> datetime:
    return when.astimezone(ZoneInfo(timezone))


def working_day(hours: WorkingHours, day: date) -> bool:
    """A day staff come in: one of the working days, and not a bank holiday."""
    return WEEKDAYS[day.weekday()] in hours.days and day not in hours.bank_holidays


def is_open(hours: WorkingHours, timezone: str, when: datetime) -> bool:
    """True when staff are in at `when`."""
    here = local(when, timezone)
    return working_day(hours, here.date()) and hours.opens <= here.time() < hours.closes


def next_opening(hours: WorkingHours, timezone: str, when: datetime) -> datetime:
    """The next moment the office opens after `when` (or `when` itself if it is open then)."""
    if is_open(hours, timezone, when):
        return when
    zone = ZoneInfo(timezone)
    here = local(when, timezone)
    day = here.replace(hour=0, minute=0, second=0, microsecond=0)
    # A year is enough for any sensible calendar; a config with no working days is refused
    # by falling back to "as soon as we can", never by looping for ever.
    for _ in range(370):
        opening = datetime.combine(day.date(), hours.opens, tzinfo=zone)
        if working_day(hours, day.date()) and opening > here:
            return opening.astimezone(when.tzinfo)
        day += timedelta(days=1)
    raise ValueError("working_hours has no working day in the coming year")


def describe_back(hours: WorkingHours, timezone: str, when: datetime) -> str:
    """'today at 9am', 'tomorrow at 9am', 'on Monday at 9am' or 'on Tuesday 2 January at 9am'."""
    opening = local(next_opening(hours, timezone, when), timezone)
    here = local(when, timezone)
    clock = _clock(opening)
    days = (opening.date() - here.date()).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"on {opening:%A} at {clock}"
    return f"on {opening:%A} {opening.day} {opening:%B} at {clock}"


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def out_of_hours_reply(
    ruleset: RuleSet,
    hours: OfficeHours,
    timezone: str,
    *,
    platform: str,
    first_name: str,
    page_name: str,
    when: datetime,
    working: WorkingHours,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The private reply for risk out of hours: when staff are back, and the crisis lines.

    Built on the rule packs' `risk_out_of_hours` template (so an admin's wording is kept);
    every configured crisis line the template does not already give is added, because a person
    writing at night must always leave with a number they can ring now.
    """
    channel = DM_CHANNEL.get(platform, "fb_dm")
    context = {"first_name": first_name, "page_name": page_name}
    text = ruleset.render(hours.out_of_hours_template, channel, context, overrides=overrides)
    parts = [
        text.rstrip(),
        hours.back_sentence.replace("{back}", describe_back(working, timezone, when)),
    ]
    compact = " ".join(text.split())
    for line in hours.crisis_lines:
        if " ".join(line.contact.split()) not in compact:
            parts.append(f"{line.name} {line.contact}.")
    return " ".join(parts)
