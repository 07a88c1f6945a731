"""Rule documents and the ``rules:`` config section, validated with pydantic (extra="forbid")."""

from __future__ import annotations

import re
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .model import CATEGORIES, CHANNELS, SAFEGUARDING_TOPS, TAXONOMY
from .semantic.config import SemanticConfig

BUILTIN_PACKS = (
    "help_request",
    "risk",
    "pii",
    "photo",
    "out_of_remit",
    "abusive",
    "unsafe_practice",
    "spam",
    "complaint",
)
DETECTORS = (
    "phone",
    "email",
    "uk_postcode",
    "nhs_number",
    "meeting_link",
    "url",
    "payment_card",
    "iban",
    "ip_address",
    "us_ssn",
    "name_like",
    "families_named",
    "children_named",
)
SAFE_PLACEHOLDERS = frozenset({"first_name", "page_name"})
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_category(value: str, allow_top: bool = False) -> str:
    if value in CATEGORIES or (allow_top and value in TAXONOMY):
        return value
    raise ValueError(f"unknown category {value!r} (see the taxonomy in DESIGN.md)")


def template_fields(text: str) -> set[str]:
    """Return the placeholders used in a template; refuse formatting tricks."""
    found: set[str] = set()
    for _, name, spec, conv in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conv or name not in SAFE_PLACEHOLDERS:
            raise ValueError(
                f"placeholder {{{name}}} not allowed: only {{first_name}} and {{page_name}}"
            )
        found.add(name)
    return found


class CaseDoc(_Strict):
    type: Literal["support", "safeguarding", "privacy", "moderation", "complaint", "boundary"]
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class ActionsDoc(_Strict):
    """Partial actions: keys left out inherit; an explicit null clears."""

    hide: bool | None = None
    draft_public_reply: str | None = None
    draft_private_reply: str | None = None
    open_case: CaseDoc | None = None
    alert: list[str] | None = None
    escalate: bool | None = None

    @field_validator("alert")
    @classmethod
    def _roles(cls, value: list[str] | None) -> list[str] | None:
        for role in value or ():
            if not _ROLE.match(role):
                raise ValueError(f"bad role name {role!r}")
        return value


class Example(_Strict):
    text: str
    channel: str = "fb_comment"
    attachments: list[str] = Field(default_factory=list)
    from_page: bool = False
    author_id: str | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}")
        return value


class Terms(_Strict):
    """Phrases (plain words, `*` = any word ending, `$set` = a shared set) and/or regexes."""

    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    window: int | None = 80  # characters either side of the hit; null = whole message
    side: Literal["both", "before", "after"] = "both"

    @model_validator(mode="after")
    def _nonempty(self) -> Terms:
        if not self.phrases and not self.patterns:
            raise ValueError("needs phrases or patterns")
        return self


class Modifier(Terms):
    by: float = Field(ge=-1.0, le=1.0)


class RuleDoc(_Strict):
    id: str
    category: str
    description: str = ""
    enabled: bool = True
    severity: Literal["low", "medium", "high", "critical"] | None = None
    priority: int | None = None
    score: float = Field(0.7, ge=0.0, le=1.0)
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    view: Literal["words", "plain", "original"] = "words"
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    detector: Literal[DETECTORS] | None = None  # type: ignore[valid-type]
    requires: Terms | None = None  # at least one must occur near the hit
    unless: Terms | None = None  # any occurrence near the hit drops it (negation, "not about me")
    modifiers: list[Modifier] = Field(default_factory=list)  # context raising/lowering the score
    quoted: float = Field(0.0, ge=-1.0, le=1.0)  # score change when the hit sits inside quotes
    channels: list[str] = Field(default_factory=list)  # empty = all; "public"/"private" allowed
    attachments: list[str] = Field(default_factory=list)  # require an attachment of these types
    from_page: Literal["never", "any", "only"] = "never"
    exempt_staff: bool = True
    actions: ActionsDoc | None = None
    private_actions: ActionsDoc | None = None  # replaces `actions` in DMs
    must_match: list[str | Example] = Field(default_factory=list)
    must_not_match: list[str | Example] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("ids are lower case letters, digits, '-', '_' and '.'")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return check_category(value)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if channel not in CHANNELS and channel not in ("public", "private"):
                raise ValueError(f"unknown channel {channel!r}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> RuleDoc:
        if (
            self.category.split(".")[0] in SAFEGUARDING_TOPS
            and self.exempt_staff
            and ("exempt_staff" in self.model_fields_set)
        ):
            raise ValueError("exempt_staff: risk rules apply to everyone, staff included")
        if not (self.phrases or self.patterns or self.detector or self.attachments):
            raise ValueError("needs phrases, patterns, a detector or attachments to match")
        if not self.must_match:
            raise ValueError("must_match: every rule needs at least one example")
        return self


class CategoryDefaults(_Strict):
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    priority: int = 0
    actions: ActionsDoc = Field(default_factory=ActionsDoc)
    private_actions: ActionsDoc | None = None  # overrides in DMs


class PackDoc(_Strict):
    """One YAML file of rules. `sets` are named phrase lists reusable as `$name`."""

    pack: str
    description: str = ""
    defaults: dict[str, Any] = Field(default_factory=dict)  # merged into every rule of the file
    sets: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(default_factory=list)  # validated one by one


class DefaultsDoc(_Strict):
    categories: dict[str, CategoryDefaults]
    sets: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("categories")
    @classmethod
    def _cats(cls, value: dict[str, CategoryDefaults]) -> dict[str, CategoryDefaults]:
        for key in value:
            check_category(key, allow_top=True)
        return value


class TemplateDoc(_Strict):
    public: str | None = None
    private: str | None = None

    @model_validator(mode="after")
    def _fields(self) -> TemplateDoc:
        for text in (self.public, self.private):
            if text is not None:
                template_fields(text)
        return self


class TemplatesDoc(_Strict):
    templates: dict[str, TemplateDoc]


class Allowlist(_Strict):
    """The organisation's own public contact details: never flagged as personal details."""

    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)

    @field_validator("emails", "domains")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.strip().lower().removeprefix("www.") for v in value]


def _check_safeguarding_override(key: str, doc: ActionsDoc) -> None:
    """Risk categories always open an urgent case and escalate; refuse config that says less."""
    if key.split(".")[0] not in SAFEGUARDING_TOPS:
        return
    fields = doc.model_fields_set
    if "escalate" in fields and not doc.escalate:
        raise ValueError(f"actions.{key}: safeguarding categories always escalate")
    if "open_case" in fields and doc.open_case is None:
        raise ValueError(f"actions.{key}: safeguarding categories always open a case")
    if "open_case" in fields and doc.open_case and doc.open_case.type != "safeguarding":
        raise ValueError(f"actions.{key}: the case for a safeguarding category is 'safeguarding'")
    if doc.hide and not ({"escalate", "open_case"} <= fields):
        # Hiding alone silences someone at risk; the override keeps case + escalation anyway,
        # but refusing a hide-only block makes the intent explicit in config review.
        raise ValueError(
            f"actions.{key}: safeguarding categories cannot be hide-only; "
            "state open_case and escalate: true alongside hide"
        )


class RulesConfig(_Strict):
    """The ``rules:`` section of config.yaml."""

    packs: list[str] = Field(default_factory=lambda: list(BUILTIN_PACKS))
    disabled_rules: list[str] = Field(default_factory=list)
    allowlist: Allowlist = Field(default_factory=Allowlist)
    staff_accounts: list[str] = Field(default_factory=list)
    word_lists: dict[str, list[str]] = Field(default_factory=dict)
    templates: dict[str, TemplateDoc] = Field(default_factory=dict)
    actions: dict[str, ActionsDoc] = Field(default_factory=dict)
    extra_files: list[str] = Field(default_factory=list)
    default_region: str = "GB"  # for phone numbers written without a country code
    semantic: SemanticConfig = Field(default_factory=SemanticConfig)  # rules/semantic/

    @field_validator("packs")
    @classmethod
    def _packs(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in BUILTIN_PACKS:
                raise ValueError(
                    f"unknown pack {name!r}; built-in packs: {', '.join(BUILTIN_PACKS)}"
                )
        return value

    @field_validator("word_lists")
    @classmethod
    def _word_lists(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, phrases in value.items():
            check_category(key)
            if any(not p.strip() for p in phrases):
                raise ValueError(f"word_lists.{key}: empty phrase")
        return value

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: dict[str, ActionsDoc]) -> dict[str, ActionsDoc]:
        for key, doc in value.items():
            check_category(key, allow_top=True)
            _check_safeguarding_override(key, doc)
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError("default_region is a two-letter region code such as GB")
        return value
