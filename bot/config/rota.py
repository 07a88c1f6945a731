"""`alerts.rota`: who is the safeguarding lead and deputy on duty, by day and time, with cover.

People are named by their dashboard username (the case is assigned to the lead on duty) and
reached by their `alerts.people` contacts. Times are in `organisation.timezone`. Where the rota
names nobody for a slot (a gap, or someone away with nobody covering), escalation pages every
lead (or deputy) on the role's own contacts instead: nobody is ever paged by no one.
"""

from __future__ import annotations

from datetime import date, time

from pydantic import ConfigDict, Field, model_validator

from bot.config.hours import Weekday
from bot.config.section import Section

Username = str
# The rota's two slots, by the role each is filled from.
SLOTS = {"safeguarding_lead": "lead", "safeguarding_deputy": "deputy"}
NAME = Field(default=None, min_length=1, max_length=80)


class Shift(Section):
    """On these days, from `from` to `to`: this lead and this deputy.

    A shift whose `to` is before its `from` runs past midnight into the next day; one whose
    `to` is its `from` lasts 24 hours. Either person may be left out, to keep the
    leads' and deputies' rotas apart; for each, the first shift that names someone counts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: tuple[Weekday, ...] = Field(min_length=1)
    starts: time = Field(alias="from")
    ends: time = Field(alias="to")
    lead: Username | None = NAME
    deputy: Username | None = NAME

    @model_validator(mode="after")
    def _names_someone(self) -> Shift:
        if self.lead is None and self.deputy is None:
            raise ValueError("a shift names a lead, a deputy or both")
        return self


class Cover(Section):
    """`away` is away from `from` to `until` (whole days, both included); `by` stands in.

    With no `by`, nobody stands in: the slot falls back to every lead (or deputy).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    away: Username = Field(min_length=1, max_length=80)
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="until")
    by: Username | None = NAME

    @model_validator(mode="after")
    def _sensible(self) -> Cover:
        if self.last_day < self.first_day:
            raise ValueError("until must be on or after from")
        if self.by == self.away:
            raise ValueError("someone away cannot cover for themselves")
        return self


class Rota(Section):
    shifts: tuple[Shift, ...] = ()
    cover: tuple[Cover, ...] = ()

    def names_for(self, role: str) -> set[str]:
        """Everyone the rota may put in the role's slot, on shift or covering."""
        slot = SLOTS.get(role)
        named = {getattr(s, slot) for s in self.shifts} if slot else set()
        covering = {c.by for c in self.cover if c.away in named}
        return {n for n in named | covering if n}
