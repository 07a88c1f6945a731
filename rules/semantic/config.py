"""The ``rules.semantic`` section of config.yaml, validated like the rest of ``rules:``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..model import CATEGORIES, SAFEGUARDING_TOPS, TAXONOMY, top_of

# Chosen on the tune half of ../shared/eval and our charity cases (docs/detection.md): the
# stage lifts recall for risk, help requests and out-of-remit questions; for abuse and spam
# the word lists are already precise and a false alarm hides a comment, so there it only
# adds its explanation and confidence to what a rule found.
DEFAULT_RAISE = ("risk", "help_request", "out_of_remit")
DEFAULT_STRENGTHEN = ("abusive", "spam")
# Within a top category (risk, help_request, ...), a subtype also fires only when it is within
# this much of the best one: "everyone would be better off without me" is suicide, and its
# faint likeness to an abuse prototype should not put a second, wrong label in front of a lead.
SUBTYPE_MARGIN = 0.15


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
    # Per category (or top category) similarity needed to fire; overrides the pack's.
    thresholds: dict[str, float] = Field(default_factory=dict)
    # Categories (or tops) the stage may flag on its own, and those it may only strengthen:
    # a finding only when a rule found the same top category. Others are off.
    raise_on_own: list[str] = Field(default_factory=lambda: list(DEFAULT_RAISE))
    strengthen_only: list[str] = Field(default_factory=lambda: list(DEFAULT_STRENGTHEN))
    # Long posts are split into chunks of sentences; only the first chunks are scored.
    max_chunks: int = Field(12, ge=1, le=64)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for key, threshold in value.items():
            _known(key)
            if not 0.2 <= threshold <= 0.95:
                raise ValueError(f"thresholds.{key}: between 0.2 and 0.95 (cosine similarity)")
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
