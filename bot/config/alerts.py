"""The `alerts:` section of config.yaml: who is told what, how, and when.

Nothing here is a secret: the SMTP password, Slack URLs, webhook signing secrets and the SMS
provider's account and token are named by `*_env` keys and read from the environment only when
a message is sent. Every channel is off until it is configured; the dashboard's alerts inbox is
always on, so an alert is never lost because an address is missing.
"""

from __future__ import annotations

import ipaddress
from datetime import time
from typing import Literal

import phonenumbers
from pydantic import Field, field_validator, model_validator

from bot.config.hours import Weekday
from bot.config.rota import Rota
from bot.config.section import Section
from rules.model import CATEGORIES, TAXONOMY

Role = Literal["admin", "moderator", "safeguarding_lead", "safeguarding_deputy"]
ENV_NAME = r"^[A-Z][A-Z0-9_]*$"
CHANNEL_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
# "email" is the SMTP channel, "sms" the text-message one; every other channel name is one of
# `alerts.webhooks`.
EMAIL = "email"
SMS = "sms"


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


def phone_number(value: str) -> str:
    """A mobile number in E.164 (+447400123456); national spellings are refused, not guessed."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{value!r} is not a valid phone number in international format, e.g. +44 7400 123456"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SmsChannel(Section):
    """Text messages through a Twilio-compatible HTTP API (POST .../Accounts/{sid}/Messages.json).

    The account id and token are credentials: name the variables holding them.
    """

    enabled: bool = False
    api_url: str = "https://api.twilio.com"
    account_sid_env: str = Field(default="HAVEN_SMS_ACCOUNT_SID", pattern=ENV_NAME)
    auth_token_env: str = Field(default="HAVEN_SMS_AUTH_TOKEN", pattern=ENV_NAME)
    from_number: str | None = None
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @field_validator("api_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("api_url must be https:// (credentials travel with every request)")
        return value.rstrip("/")

    @field_validator("from_number")
    @classmethod
    def _from_number(cls, value: str | None) -> str | None:
        return None if value is None else phone_number(value)

    @model_validator(mode="after")
    def _complete(self) -> SmsChannel:
        if self.enabled and not self.from_number:
            raise ValueError("an enabled SMS channel needs from_number (your provider's number)")
        return self


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
        if self.name in (EMAIL, SMS):
            raise ValueError(f"{self.name!r} is a built-in channel; give the webhook another name")
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.kind == "signed" and not self.secret_env:
            raise ValueError("a signed webhook needs secret_env (the signing secret's variable)")
        return self


class RoleContacts(Section):
    """How the people in one role are reached."""

    email: tuple[str, ...] = ()
    # Mobile numbers for the "sms" channel, in international format (+44 7400 123456).
    phones: tuple[str, ...] = ()
    channels: tuple[str, ...] = (EMAIL,)
    # Added when an escalation is not acknowledged in time: a second way to reach them.
    second_channels: tuple[str, ...] = ()

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(phone_number(number) for number in value)


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
    """What is said out of hours. When staff are in is the `working_hours:` section."""

    # The reply template used for risk out of hours, then these are added to it.
    out_of_hours_template: str = "risk_out_of_hours"
    back_sentence: str = "Our team will be back {back}."
    crisis_lines: tuple[CrisisLine, ...] = DEFAULT_CRISIS_LINES

    @model_validator(mode="after")
    def _sensible(self) -> OfficeHours:
        if "{back}" not in self.back_sentence:
            raise ValueError("back_sentence must contain {back}")
        return self


class OutOfHours(Section):
    """What Haven sends by itself while nobody is in (docs/guide-lead.md, "Out of hours").

    Off unless set. Each goes once per conversation per out-of-hours period, and only within
    Meta's rules (one private reply per comment within 7 days; a message within 24 hours of the
    person's last).
    """

    # Risk: the crisis reply (crisis lines and when the team is back) goes at once, as a
    # private reply to a comment or a message in a conversation, instead of waiting as a draft.
    send_crisis_reply: bool = False
    # Other private messages get a plain acknowledgement saying when the team is back. Never
    # comments: the acknowledgement would use up the one private reply Meta allows.
    acknowledge_messages: bool = False
    acknowledgement_template: str = Field(default="out_of_hours_ack", min_length=1)


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
    # Off: the safeguarding lead tells the key contact and records it (a task on the case).
    # On: Haven also sends them a content-free notice at once and the written summary.
    send_automatically: bool = False

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
    """Notification channels, routing, escalation and office hours (see docs/guide-lead.md)."""

    # Links in alerts point here (the dashboard's public HTTPS address).
    dashboard_url: str = "http://127.0.0.1:5000"
    email: EmailChannel = EmailChannel()
    sms: SmsChannel = SmsChannel()
    webhooks: tuple[WebhookChannel, ...] = ()
    roles: dict[Role, RoleContacts] = {}
    # How each person on the rota is reached, by dashboard username; someone on the rota
    # without an entry here is paged on their role's contacts.
    people: dict[str, RoleContacts] = {}
    rota: Rota = Rota()
    # True: you accept that, in production, the lead is told only on the dashboard
    # (`haven check-config` refuses that otherwise).
    accept_dashboard_only: bool = False
    categories: dict[str, CategoryRoute] = {}
    escalation: Escalation = Escalation()
    office_hours: OfficeHours = OfficeHours()
    out_of_hours: OutOfHours = OutOfHours()
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
        known = {EMAIL, SMS, *names}
        used = [(f"roles.{r}", c.channels + c.second_channels) for r, c in self.roles.items()]
        used += [(f"people.{p}", c.channels + c.second_channels) for p, c in self.people.items()]
        used += [(f"categories.{k}", r.channels or ()) for k, r in self.categories.items()]
        for where, channels in used:
            for channel in channels:
                if channel not in known:
                    raise ValueError(f"{where}: no channel called {channel!r}")
        for partner in self.partners:
            # A partner's key contact is told by email or webhook; no phones are kept for them.
            for channel in partner.channels:
                if channel not in known - {SMS}:
                    raise ValueError(f"partners.{partner.name}: no channel called {channel!r}")
        return self

    def env_names(self) -> list[str]:
        """Environment variables the configured channels read their secrets from."""
        names = [self.email.password_env] if self.email.enabled else []
        if self.sms.enabled:
            names += [self.sms.account_sid_env, self.sms.auth_token_env]
        for hook in self.webhooks:
            names += [hook.url_env, hook.secret_env]
        return sorted({n for n in names if n})

    def summary(self) -> str:
        """What is on, and whether the safeguarding lead can be reached outside the dashboard."""
        lead = "yes" if self.has_contacts("safeguarding_lead") else "ONLY ON THE DASHBOARD"
        email = "on" if self.email.enabled else "off"
        sms = "on" if self.sms.enabled else "off"
        return (
            f"alerts: email {email}, sms {sms}, {len(self.webhooks)} webhook(s), "
            f"lead reachable: {lead}"
        )

    def webhook(self, name: str) -> WebhookChannel | None:
        return next((w for w in self.webhooks if w.name == name), None)

    def partner(self, name: str) -> Partner | None:
        return next((p for p in self.partners if p.name == name), None)

    def has_contacts(self, role: str) -> bool:
        """True when the role can be reached outside the dashboard (by its own contacts, or
        those of someone the rota names for it)."""
        contacts = self.roles.get(role)  # type: ignore[call-overload]
        return self.reachable(contacts) or any(
            self.reachable(self.people.get(name)) for name in self.rota.names_for(role)
        )

    def reachable(self, contacts: RoleContacts | None) -> bool:
        if contacts is None:
            return False
        reachable = {
            EMAIL: self.email.enabled and bool(contacts.email),
            SMS: self.sms.enabled and bool(contacts.phones),
        }
        return any(reachable.get(c, True) for c in contacts.channels + contacts.second_channels)
