"""The `voices:` section of config.yaml: what each page says and who answers for it.

Read through `bot.config.voices.voice_for`, which fills in the organisation's defaults.

One Haven may look after several pages (`meta.accounts`) run for different people: a Twins
Trust page for families of children in care refers to Twinline and gives no advice over social
media, a Families Together page signs and refers its own way. A voice names the accounts it
speaks for and whatever of theirs differs from the organisation: the name used in replies, reply
templates and a referral line, whether staff may post about families, working hours, the lead
and deputy, and how long texts are kept. Whatever a voice leaves out is the organisation's
(`organisation`, `working_hours`, `alerts.rota`, `data_protection`, the rule packs' templates).

`voice_for(config, account_id)` is the one place that answers "what does this page say, and
who answers for it"; `Voice.config` is the whole config with the page's settings in their usual
places, so code that reads `config.working_hours` or `config.alerts.rota` needs no second path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config.hours import WEEKDAYS, WorkingHours
from bot.config.rota import Rota, Shift
from bot.config.section import Section
from rules.schema import TemplateDoc

VOICE_KEY = r"^[a-z][a-z0-9_-]{0,39}$"
# "standard": texts are kept for data_protection.retention_days (policy 004: three months).
# "not_saved": the page promised not to save chats (policy 003), so texts are kept only for
# data_protection.minimum_days, long enough for staff to answer them.
Retention = Literal["standard", "not_saved"]
# Replies that point someone to other help, where a page's referral line belongs.
REFERRING_TEMPLATES = ("help_request", "boundary")
USERNAME = Field(default=None, min_length=1, max_length=80)


class VoiceSettings(Section):
    """One voice in config.yaml; every key but `accounts` falls back to the organisation."""

    accounts: tuple[str, ...] = Field(min_length=1)
    # The page's name as replies say it ({page_name}); default organisation.page_name.
    name: str | None = Field(default=None, min_length=1, max_length=80)
    # Reply templates this page words its own way (same shape as rules.templates).
    templates: dict[str, TemplateDoc] = {}
    # One line added to the private help and boundary replies, e.g. a helpline to refer to.
    referral: str | None = Field(default=None, min_length=1, max_length=300)
    referral_in: tuple[str, ...] = REFERRING_TEMPLATES
    # False: staff must not post about supported families at all (names, photos, stories),
    # not even with their permission; the page's own posts are checked with that in mind.
    family_posts: bool | None = None
    working_hours: WorkingHours | None = None
    # The lead and deputy for this page, always; or a rota of its own (alerts.rota's shape).
    lead: str | None = USERNAME
    deputy: str | None = USERNAME
    rota: Rota | None = None
    retention: Retention | None = None

    @field_validator("accounts", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        # YAML reads a bare page id as an int; Meta ids are opaque strings.
        if isinstance(value, list | tuple):
            return tuple(str(v) if isinstance(v, int) else v for v in value)
        return value

    @model_validator(mode="after")
    def _one_way_to_name_the_lead(self) -> VoiceSettings:
        if self.rota is not None and (self.lead or self.deputy):
            raise ValueError("give lead and deputy, or a rota, not both")
        return self

    def own_rota(self) -> Rota | None:
        """The page's rota: its own, or its lead and deputy on duty all week."""
        if self.rota is not None:
            return self.rota
        if not (self.lead or self.deputy):
            return None
        always = Shift(days=WEEKDAYS, starts=time(0), ends=time(0), lead=self.lead,
                       deputy=self.deputy)  # fmt: skip
        return Rota(shifts=(always,))


def check_voices(voices: Mapping[str, VoiceSettings], account_ids: set[str]) -> None:
    """Every account a voice names is in meta.accounts, and no account has two voices."""
    seen: dict[str, str] = {}
    for key, voice in voices.items():
        for account in voice.accounts:
            if account not in account_ids:
                raise ValueError(f"voices.{key}: account {account} is not in meta.accounts")
            if account in seen:
                raise ValueError(
                    f"voices.{key}: account {account} already speaks with voices.{seen[account]}"
                )
            seen[account] = key
