"""The `working_hours:` section of config.yaml: when staff are in, for everything that asks.

One setting, read by the alerts (is a risk out of hours?), the out-of-hours reply (when is the
team back?) and response times (how many working hours did a person wait?). Before, alerts had
`alerts.office_hours` (with bank holidays) and response times had `dashboard.working_hours`
(without), so a comment left on Christmas Eve was "late" on a day nobody was in.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal

from pydantic import model_validator

from bot.config.section import Section

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingHours(Section):
    """When staff are in, in `organisation.timezone`; bank holidays are days nobody is."""

    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    bank_holidays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _a_real_day(self) -> WorkingHours:
        if not self.days:
            raise ValueError("days needs at least one day")
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


# Where the keys used to be: (section, its old name, {old key: new key}).
OLD_PLACES = (
    ("alerts", "office_hours", {"days": "days", "opens": "opens", "closes": "closes",
                                "bank_holidays": "bank_holidays"}),
    ("dashboard", "working_hours", {"days": "days", "start": "opens", "end": "closes"}),
)  # fmt: skip


def move_old_keys(data: Any) -> tuple[Any, list[str]]:
    """Read the old places of the working hours into `working_hours`, saying so.

    Old config files keep working; each old key found gives a notice naming where it goes.
    Given both the old and the new place, the new one is used and the old one is only named.
    Where the two old places disagree, `alerts.office_hours` wins: it decides what a person at
    risk is told out of hours, and it is the one that knew the bank holidays.
    """
    if not isinstance(data, dict):
        return data, []
    data = dict(data)
    explicit = "working_hours" in data
    merged: dict[str, Any] = {}
    notices: list[str] = []
    for section, old, keys in OLD_PLACES:
        block = data.get(section)
        inner = block.get(old) if isinstance(block, dict) else None
        if not isinstance(inner, dict):
            continue
        found = {k: v for k, v in inner.items() if k in keys}
        if not found:
            continue
        block = dict(block)
        block[old] = {k: v for k, v in inner.items() if k not in keys}
        if section == "dashboard" and not block[old]:
            del block[old]  # nothing else ever lived there
        data[section] = block
        moved = ", ".join(f"{section}.{old}.{k} -> working_hours.{keys[k]}" for k in found)
        notices.append(
            f"deprecated: {moved}. One working_hours section now serves alerts, the "
            "out-of-hours reply and response times; move these keys there"
            + (" (working_hours is set, so these are ignored)." if explicit else ".")
        )
        for key, value in found.items():
            if merged.setdefault(keys[key], value) != value and not explicit:
                used = merged[keys[key]]
                notices.append(
                    f"{section}.{old}.{key} ({value}) differs from alerts.office_hours."
                    f"{keys[key]} ({used}): {used} is used."
                )
    if merged and not explicit:
        data["working_hours"] = merged
    return data, notices
