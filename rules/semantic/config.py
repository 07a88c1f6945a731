"""The ``rules.semantic`` section of config.yaml, validated like the rest of ``rules:``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..model import CATEGORIES, SAFEGUARDING_TOPS, TAXONOMY, top_of

# The stage decides risk, help requests and out-of-remit questions (docs/detection.md): there
# the way people write varies most and word lists miss most. It also decides whether a
# capitalised word is a person's or a child's name (the rules flag "Netflix" and "Norwich";
# the heads read the sentence around it); other personal details are the rules' alone. For
# abuse and spam the word lists are precise and a false alarm hides a comment, so there it
# only adds its reason and confidence to what a rule found.
DEFAULT_RAISE = ("risk", "help_request", "out_of_remit", "pii.person_name", "pii.child_name")
DEFAULT_STRENGTHEN = ("abusive", "spam")


def _known(key: str) -> str:
    if key in CATEGORIES or key in TAXONOMY:
        return key
    raise ValueError(f"unknown category {key!r} (see the taxonomy in DESIGN.md)")


class SemanticConfig(BaseModel):
    """Whether and how the semantic stage runs next to the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # auto: on when the `semantic` extra is installed, rules alone (said once at start) if not.
    enabled: bool | Literal["auto"] = "auto"
    # Override the model and tokenizer files found in the installed packages.
    model_path: str | None = None
    tokenizer_path: str | None = None
    # Per category (or top category) probability needed to fire; overrides the trained heads'.
    thresholds: dict[str, float] = Field(default_factory=dict)
    # Categories (or tops) the stage decides (it may flag on its own, and overrule a shipped
    # rule's match it reads as a figure of speech), and those it may only strengthen: a
    # finding only when a rule found the same top category. Others are left to the rules.
    raise_on_own: list[str] = Field(default_factory=lambda: list(DEFAULT_RAISE))
    strengthen_only: list[str] = Field(default_factory=lambda: list(DEFAULT_STRENGTHEN))
    # Long posts are split into chunks of sentences; only the first chunks are scored.
    max_chunks: int = Field(12, ge=1, le=64)
    # Name the words that weighed most in each finding while judging (one more embedding per
    # word of the message: most of the worker's time). Off, they are weighed when staff ask,
    # from "why?" on the dashboard (docs/decisions.md).
    explain_words: bool = False

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for key, threshold in value.items():
            _known(key)
            if not 0.01 <= threshold <= 0.99:
                raise ValueError(f"thresholds.{key}: between 0.01 and 0.99 (a probability)")
        return value

    @field_validator("raise_on_own", "strengthen_only")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for key in value:
            _known(key)
        return value

    @model_validator(mode="after")
    def _safeguarding_raises(self) -> SemanticConfig:
        both = set(self.raise_on_own) & set(self.strengthen_only)
        if both:
            raise ValueError(f"in both raise_on_own and strengthen_only: {', '.join(sorted(both))}")
        for key in self.strengthen_only:
            if top_of(key) in SAFEGUARDING_TOPS:
                raise ValueError(
                    f"strengthen_only: {key}: safeguarding categories always raise on their "
                    "own (recall first); tune their thresholds instead"
                )
        for sub in TAXONOMY["risk"]:
            if f"risk.{sub}" not in self.raise_on_own and "risk" not in self.raise_on_own:
                raise ValueError(
                    f"raise_on_own: risk.{sub} missing: safeguarding categories always raise "
                    "on their own (recall first); tune their thresholds instead"
                )
        return self

    def mode_of(self, category: str) -> str | None:
        """The mode ("raise", "strengthen" or None for off); an exact category wins over its top."""
        for key in (category, top_of(category)):
            if key in self.raise_on_own:
                return "raise"
            if key in self.strengthen_only:
                return "strengthen"
        return None
