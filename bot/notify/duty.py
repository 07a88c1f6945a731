"""Who is on duty: the safeguarding lead and deputy the rota names at a given moment.

Read from `alerts.rota` in the organisation's clock. A slot the rota leaves empty (a gap, or
someone away with nobody covering) is None: escalation then pages every lead (or deputy) on
the role's own contacts, and `haven check-config` names the gaps so they are a choice, not a
surprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config.alerts import Alerts
from bot.config.hours import WEEKDAYS
from bot.config.rota import SLOTS, Rota, Shift
from bot.notify.hours import local

DAY = 24 * 60
WEEK = 7 * DAY
ROLE_LABELS = {"safeguarding_lead": "safeguarding lead", "safeguarding_deputy": "deputy"}


@dataclass(frozen=True)
class OnDuty:
    """Dashboard usernames by role; a role missing is a gap."""

    by_role: dict[str, str]

    def name(self, role: str) -> str | None:
        return self.by_role.get(role)

    @property
    def lead(self) -> str | None:
        return self.name("safeguarding_lead")

    def describe(self) -> str:
        """'sam (safeguarding lead), alex (deputy)'; a gap says who is paged instead."""
        parts = []
        for role, label in ROLE_LABELS.items():
            name = self.name(role)
            parts.append(f"{name} ({label})" if name else f"nobody named as {label}: all are paged")
        return ", ".join(parts)


def _minute_of_week(moment: datetime) -> int:
    return moment.weekday() * DAY + moment.hour * 60 + moment.minute


def _spans(shift: Shift) -> list[tuple[int, int]]:
    """(start, length) in minutes of the week; `to` at or before `from` runs past midnight."""
    start = shift.starts.hour * 60 + shift.starts.minute
    end = shift.ends.hour * 60 + shift.ends.minute
    length = (end - start) % DAY or DAY
    return [(WEEKDAYS.index(day) * DAY + start, length) for day in shift.days]


def _covers(shift: Shift, minute: int) -> bool:
    return any((minute - start) % WEEK < length for start, length in _spans(shift))


def on_duty(rota: Rota, timezone: str, when: datetime) -> OnDuty:
    """Who the rota names at `when`, after cover for people away that day."""
    here = local(when, timezone)
    minute = _minute_of_week(here)
    found: dict[str, str] = {}
    for role, slot in SLOTS.items():
        name = next(
            (getattr(s, slot) for s in rota.shifts if getattr(s, slot) and _covers(s, minute)),
            None,
        )
        seen: set[str] = set()
        # Cover may itself be covered (the stand-in is away too), but never round in a circle.
        while name is not None and name not in seen:
            seen.add(name)
            away = next(
                (
                    c
                    for c in rota.cover
                    if c.away == name and c.first_day <= here.date() <= c.last_day
                ),
                None,
            )
            if away is None:
                break
            name = away.by
        if name is not None:
            found[role] = name
    return OnDuty(found)


def gaps(rota: Rota) -> list[str]:
    """The times of the week the rota names nobody for a slot, for `haven check-config`."""
    if not rota.shifts:
        return []
    found = []
    for role, slot in SLOTS.items():
        named = [s for s in rota.shifts if getattr(s, slot)]
        free = [m for m in range(WEEK) if not any(_covers(s, m) for s in named)]
        label = ROLE_LABELS[role]
        if len(free) == WEEK:
            found.append(f"no {label} on the rota at any time")
            continue
        for start, end in _runs(free):
            found.append(f"no {label} from {_when(start)} to {_when(end)}")
    return found


def _runs(minutes: list[int]) -> list[tuple[int, int]]:
    """Consecutive minutes as (first, one past the last), joined across the week's end."""
    runs: list[list[int]] = []
    for minute in minutes:
        if runs and runs[-1][1] == minute:
            runs[-1][1] = minute + 1
        else:
            runs.append([minute, minute + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == WEEK:
        runs[0][0] = runs.pop()[0]
    return [(a, b) for a, b in runs]


def _when(minute: int) -> str:
    minute %= WEEK
    return f"{WEEKDAYS[minute // DAY]} {minute % DAY // 60:02d}:{minute % 60:02d}"


def rota_notes(alerts: Alerts) -> list[str]:
    """What `haven check-config` says about the rota: gaps, and people it cannot reach."""
    rota = alerts.rota
    if not rota.shifts:
        return ["rota: none in config.yaml; every escalation pages every lead and deputy"]
    notes = [f"rota: {gap}; every one in that role is paged then" for gap in gaps(rota)]
    on_shift = {n for s in rota.shifts for n in (s.lead, s.deputy) if n}
    named = sorted(on_shift | {c.by for c in rota.cover if c.by})
    notes += [
        f"rota: {name} has no contacts in alerts.people; their pages go to alerts.roles"
        for name in named
        if not alerts.reachable(alerts.people.get(name))
    ]
    notes += [
        f"rota: cover for {c.away}, who is on no shift"
        for c in rota.cover
        if c.away not in on_shift
    ]
    return notes
