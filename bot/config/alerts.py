"""The `alerts:` section of config.yaml: who is told what, how, and when.

Nothing here is a secret: the SMTP password, Slack URLs and webhook signing secrets are named
by `*_env` keys and read from the environment only when a message is sent. Every channel is off
until it is configured; the dashboard's alerts inbox is always on, so an alert is never lost
because an address is missing.
"""

from __future__ import annotations

import ipaddress
from datetime import date, time
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config.section import Section
from rules.model import CATEGORIES, TAXONOMY

Role = Literal["admin", "moderator", "safeguarding_lead", "safeguarding_deputy"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ENV_NAME = r"^[A-Z][A-Z0-9_]*$"
CHANNEL_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
# "email" is the SMTP channel; every other channel name is one of `alerts.webhooks`.
EMAIL = "email"


class EmailChannel(Section):
    """One SMTP server for every email Haven sends."""

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    # starttls: upgrade a plain connection (port 587); tls: TLS from the first byte (465).
    # "none" exists for a relay on the same machine; anything else should be encrypted.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    from_address: str = "haven@localhost"
    # A private CA's certificate file, for a relay whose certificate is not publicly trusted.
    ca_file: str | None = None
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @model_validator(mode="after")
    def _encrypted_unless_local(self) -> EmailChannel:
        # Without encryption the SMTP password and every alert cross the network in clear.
        if self.security == "none" and not is_loopback(self.host):
            raise ValueError(
                f"security: none sends the password and alerts in clear to {self.host!r}; "
                "use starttls or tls for a mail server on another machine (none is only for "
                "a relay on this one: localhost, 127.0.0.1 or ::1)"
            )
        return self


def is_loopback(host: str) -> bool:
    """True for this machine: "localhost" or a loopback address (not a name that resolves)."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class WebhookChannel(Section):
    """A Slack-compatible incoming webhook, or a generic webhook signed with HMAC-SHA256."""

    name: str = Field(pattern=CHANNEL_NAME)
    kind: Literal["slack", "signed"]
    url: str | None = None
    # A Slack incoming-webhook URL is itself a credential: name the variable holding it.
    url_env: str | None = Field(default=None, pattern=ENV_NAME)
    secret_env: str | None = Field(default=None, pattern=ENV_NAME)
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @model_validator(mode="after")
    def _complete(self) -> WebhookChannel:
        if self.name == EMAIL:
            raise ValueError("'email' is the SMTP channel; give the webhook another name")
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.kind == "signed" and not self.secret_env:
            raise ValueError("a signed webhook needs secret_env (the signing secret's variable)")
        return self


class RoleContacts(Section):
    """How the people in one role are reached."""

    email: tuple[str, ...] = ()
    channels: tuple[str, ...] = (EMAIL,)
    # Added when an escalation is not acknowledged in time: a second way to reach them.
    second_channels: tuple[str, ...] = ()


class CategoryRoute(Section):
    """Routing for one category (`pii`) or subcategory (`pii.child_name`)."""

    # Told as well as the roles the rule itself names.
    roles: tuple[Role, ...] = ()
    # Used instead of each role's own `channels` for alerts in this category.
    channels: tuple[str, ...] | None = None


class Escalation(Section):
    acknowledge_within_minutes: int = Field(default=15, ge=1, le=24 * 60)
    repeat_every_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Page the deputy at once too (when the deputy has contacts), not only on re-escalation.
    page_deputy_at_once: bool = True
    ack_link_valid_hours: int = Field(default=72, ge=1, le=24 * 30)


class CrisisLine(Section):
    """One line of the out-of-hours reply: "{name} {contact}." unless the reply has it already."""

    name: str = Field(min_length=1, max_length=80)
    contact: str = Field(min_length=1, max_length=80)


DEFAULT_CRISIS_LINES = (
    CrisisLine(name="Call Samaritans free, any time, on", contact="116 123"),
    CrisisLine(name="Shout, text SHOUT to", contact="85258"),
    CrisisLine(name="In an emergency, call", contact="999"),
)


class OfficeHours(Section):
    """When staff are in; the timezone is `organisation.timezone`."""

    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    bank_holidays: tuple[date, ...] = ()
    # The reply template used for risk out of hours, then these are added to it.
    out_of_hours_template: str = "risk_out_of_hours"
    back_sentence: str = "Our team will be back {back}."
    crisis_lines: tuple[CrisisLine, ...] = DEFAULT_CRISIS_LINES

    @model_validator(mode="after")
    def _sensible(self) -> OfficeHours:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        if "{back}" not in self.back_sentence:
            raise ValueError("back_sentence must contain {back}")
        return self


class Partner(Section):
    """A partner agency whose people are told about to their key contact, the same day.

    A person belongs to the partner when their Meta id is in `author_ids` (the partner has
    told us who they are; `haven items --json` shows the ids), or when they wrote to one of
    `account_ids` (a page or account run for the partner's families).
    """

    name: str = Field(min_length=1, max_length=100)
    email: tuple[str, ...] = ()
    channels: tuple[str, ...] = (EMAIL,)
    author_ids: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ("risk",)
    summary_at: time = time(16, 0)

    @field_validator("author_ids", "account_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        # YAML reads a bare Meta id as an int; ids are opaque strings.
        if isinstance(value, list | tuple):
            return tuple(str(v) if isinstance(v, int) else v for v in value)
        return value


class Digest(Section):
    """The weekly check (policy 001) for the person responsible for the page's content."""

    email: tuple[str, ...] = ()
    weekday: Weekday = "mon"
    at: time = time(9, 0)


class Delivery(Section):
    # Minutes to wait after each failed attempt; a delivery fails for good after the last.
    retry_minutes: tuple[float, ...] = (1, 5, 15, 60, 240)


class Alerts(Section):
    """Notification channels, routing, escalation and office hours (see the README)."""

    # Links in alerts point here (the dashboard's public HTTPS address).
    dashboard_url: str = "http://127.0.0.1:5000"
    email: EmailChannel = EmailChannel()
    webhooks: tuple[WebhookChannel, ...] = ()
    roles: dict[Role, RoleContacts] = {}
    categories: dict[str, CategoryRoute] = {}
    escalation: Escalation = Escalation()
    office_hours: OfficeHours = OfficeHours()
    partners: tuple[Partner, ...] = ()
    digest: Digest = Digest()
    delivery: Delivery = Delivery()

    @field_validator("dashboard_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("dashboard_url must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: dict[str, CategoryRoute]) -> dict[str, CategoryRoute]:
        for name in value:
            if name not in CATEGORIES and name not in TAXONOMY:
                raise ValueError(f"unknown category {name!r} (see the taxonomy in DESIGN.md)")
        return value

    @model_validator(mode="after")
    def _channels_exist(self) -> Alerts:
        names = [w.name for w in self.webhooks]
        if len(set(names)) != len(names):
            raise ValueError("webhooks: two webhooks share a name")
        known = {EMAIL, *names}
        used = [(f"roles.{r}", c.channels + c.second_channels) for r, c in self.roles.items()]
        used += [(f"categories.{k}", r.channels or ()) for k, r in self.categories.items()]
        used += [(f"partners.{p.name}", p.channels) for p in self.partners]
        for where, channels in used:
            for channel in channels:
                if channel not in known:
                    raise ValueError(f"{where}: no channel called {channel!r}")
        return self

    def env_names(self) -> list[str]:
        """Environment variables the configured channels read their secrets from."""
        names = [self.email.password_env] if self.email.enabled else []
        for hook in self.webhooks:
            names += [hook.url_env, hook.secret_env]
        return sorted({n for n in names if n})

    def summary(self) -> str:
        """What is on, and whether the safeguarding lead can be reached outside the dashboard."""
        lead = "yes" if self.has_contacts("safeguarding_lead") else "ONLY ON THE DASHBOARD"
        email = "on" if self.email.enabled else "off"
        return f"alerts: email {email}, {len(self.webhooks)} webhook(s), lead reachable: {lead}"

    def webhook(self, name: str) -> WebhookChannel | None:
        return next((w for w in self.webhooks if w.name == name), None)

    def partner(self, name: str) -> Partner | None:
        return next((p for p in self.partners if p.name == name), None)

    def has_contacts(self, role: str) -> bool:
        """True when the role can be reached outside the dashboard."""
        contacts = self.roles.get(role)  # type: ignore[call-overload]
        if contacts is None:
            return False
        channels = contacts.channels + contacts.second_channels
        return any(c != EMAIL or (self.email.enabled and contacts.email) for c in channels)
