"""Each page's voice: its settings from config.yaml's `voices:`, else the organisation's.

`voice_for(config, account_id)` is the one place that answers "what does this page say, and
who answers for it" (the section itself: bot/config/voice_settings.py). `Voice.config` is the
whole config with the page's settings in their usual places (`organisation.page_name`,
`working_hours`, `alerts.rota`, `data_protection.retention_days`), so code that reads those
needs no second path; resolving an already resolved config gives the same config again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import HavenConfig
from bot.config.privacy import DataProtection
from bot.config.voice_settings import Retention
from rules import RuleSet
from rules.model import channel_kind


@dataclass(frozen=True)
class Voice:
    """A page's effective settings: its voice's, else the organisation's."""

    key: str | None  # None: the organisation's own voice
    templates: Mapping[str, Mapping[str, str]]
    referral: str | None
    referral_in: tuple[str, ...]
    family_posts: bool
    retention: Retention
    config: HavenConfig = field(repr=False)  # the organisation's, with this page's values in

    @property
    def page_name(self) -> str:
        return self.config.organisation.page_name

    @property
    def retention_days(self) -> int:
        return self.config.data_protection.retention_days

    @property
    def no_family_posts(self) -> bool:
        return not self.family_posts

    def overrides(self, ruleset: RuleSet) -> dict[str, dict[str, str]]:
        """The page's templates for `RuleSet.render`; a kind it leaves out is the packs'."""
        return {
            name: {**ruleset.templates.get(name, {}), **variants}
            for name, variants in self.templates.items()
        }

    def render(
        self, ruleset: RuleSet, template: str, channel: str, context: Mapping[str, str]
    ) -> str:
        """A reply in this page's words: its own template if it has one, and its referral."""
        text = ruleset.render(template, channel, context, overrides=self.overrides(ruleset))
        private = channel_kind(channel) == "private"
        if self.referral and private and template in self.referral_in:
            if " ".join(self.referral.split()) not in " ".join(text.split()):
                text = f"{text.rstrip()} {self.referral.strip()}"
        return text


def voice_for(config: HavenConfig, account_id: str | None) -> Voice:
    """What the page `account_id` says and who answers for it; the organisation's for none."""
    key, settings = next(
        ((k, v) for k, v in config.voices.items() if account_id in v.accounts), (None, None)
    )
    org = config.organisation
    if settings is None:
        return Voice(None, {}, None, (), org.family_posts, "standard", config)
    rota = settings.own_rota()
    alerts = config.alerts if rota is None else config.alerts.model_copy(update={"rota": rota})
    retention = settings.retention or "standard"
    page_name = settings.name or org.page_name
    effective = config.model_copy(
        update={
            "organisation": org.model_copy(update={"page_name": page_name}),
            "working_hours": settings.working_hours or config.working_hours,
            "alerts": alerts,
            "data_protection": _kept(config, retention),
        }
    )
    templates = {
        name: {k: v for k, v in (("public", doc.public), ("private", doc.private)) if v}
        for name, doc in settings.templates.items()
    }
    family_posts = org.family_posts if settings.family_posts is None else settings.family_posts
    return Voice(key, templates, settings.referral, settings.referral_in, family_posts, retention,
                 effective)  # fmt: skip


def _kept(config: HavenConfig, retention: Retention) -> DataProtection:
    privacy = config.data_protection
    if retention == "standard":
        return privacy
    days = min(privacy.minimum_days, privacy.retention_days)
    return privacy.model_copy(update={"retention_days": days})


def page_config(config: HavenConfig, account_id: str | None) -> HavenConfig:
    """The whole config as the page `account_id` sees it (its hours, rota, name, retention)."""
    return voice_for(config, account_id).config


def retention_by_account(config: HavenConfig) -> dict[str, int]:
    """Accounts whose texts are kept for other than data_protection.retention_days."""
    default = config.data_protection.retention_days
    found = {}
    for voice in config.voices.values():
        for account in voice.accounts:
            days = voice_for(config, account).retention_days
            if days != default:
                found[account] = days
    return found


def describe_pages(config: HavenConfig) -> list[str]:
    """What `haven check-config` shows: a block per page of its effective settings."""
    accounts = config.meta.accounts
    if not accounts:
        return ["page: none connected; replies sign as " + repr(config.organisation.page_name)]
    lines = []
    for account in accounts:
        voice = voice_for(config, account.id)
        speaks = f"voices.{voice.key}" if voice.key else "the organisation's voice"
        lines.append(f"page {account.name} ({account.platform} {account.id}), {speaks}:")
        lines += [f"  {line}" for line in _settings_of(config, voice)]
    return lines


def _settings_of(base: HavenConfig, voice: Voice) -> list[str]:
    config, own = voice.config, sorted(voice.templates)
    hours = config.working_hours
    rota = config.alerts.rota
    if not rota.shifts:
        duty = "every safeguarding lead and deputy (no rota)"
    elif rota == base.alerts.rota:
        duty = f"the organisation's rota (alerts.rota, {len(rota.shifts)} shift(s))"
    elif len(rota.shifts) == 1 and not rota.cover and rota.shifts[0].starts == rota.shifts[0].ends:
        shift = rota.shifts[0]
        duty = f"lead {shift.lead or 'every lead'}, deputy {shift.deputy or 'every deputy'}"
    else:
        duty = f"the page's own rota ({len(rota.shifts)} shift(s))"
    kept = config.data_protection.retention_days
    return [
        f"name in replies: {voice.page_name}",
        "templates: "
        + (f"its own {', '.join(own)}; the rest" if own else "all")
        + " from the rule packs",
        "referral: "
        + (
            f"{voice.referral!r} in the private {', '.join(voice.referral_in)} replies"
            if voice.referral
            else "none added"
        ),  # fmt: skip
        f"hours: {', '.join(hours.days)} {hours.opens:%H:%M}-{hours.closes:%H:%M}"
        + (f", {len(hours.bank_holidays)} bank holiday(s)" if hours.bank_holidays else ""),
        f"lead and deputy: {duty}",
        f"retention: texts kept {kept} day{'s' if kept != 1 else ''}"
        + (" (this page saves no chats)" if voice.retention == "not_saved" else ""),
        "family posts: "
        + ("allowed (checked for names and photos)" if voice.family_posts else "never"),
    ]


def voice_warnings(config: HavenConfig, ruleset: RuleSet) -> list[str]:
    """Templates a voice words or refers in that no rule ever drafts (a typo, most likely),
    and a page's lead or deputy Haven cannot reach beyond the dashboard."""
    found = []
    alerts = config.alerts
    for key, settings in config.voices.items():
        for name in (*settings.templates, *(settings.referral_in if settings.referral else ())):
            if name not in ruleset.templates:
                found.append(f"voices.{key}: no reply template called {name!r} in the rule packs")
        rota = settings.own_rota()
        named = {n for s in rota.shifts for n in (s.lead, s.deputy) if n} if rota else set()
        named |= {c.by for c in rota.cover if c.by} if rota else set()
        for name in sorted(named):
            if not alerts.reachable(alerts.people.get(name)):
                found.append(
                    f"voices.{key}: {name} has no contacts in alerts.people; "
                    "their pages go to alerts.roles"
                )
    return found
