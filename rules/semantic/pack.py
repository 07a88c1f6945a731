"""The prototype pack (rules/packs/semantic.yaml): written examples per category."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..files import PACK_DIR, RuleError, describe, label_of, read_yaml
from ..model import CATEGORIES

PACK_PATH = PACK_DIR / "semantic.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _sentences(value: list[str]) -> list[str]:
    for text in value:
        if not text.strip():
            raise ValueError("empty sentence")
        if len(text) > 300:
            raise ValueError(f"too long for a prototype (300 characters at most): {text[:40]!r}")
    if len(set(value)) != len(value):
        raise ValueError("a sentence appears twice")
    return value


class CategoryDoc(_Strict):
    prototypes: list[str] = Field(min_length=3)
    unlike: list[str] = Field(default_factory=list)  # counter-examples: talk about, not of

    @field_validator("prototypes", "unlike")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        return _sentences(value)


class SemanticPack(_Strict):
    pack: str
    description: str = ""
    thresholds: dict[str, float] = Field(default_factory=dict)
    neutral: list[str] = Field(default_factory=list)  # ordinary chatter: unlike every category
    categories: dict[str, CategoryDoc]

    @field_validator("categories", "thresholds")
    @classmethod
    def _known(cls, value: dict) -> dict:  # type: ignore[type-arg]
        for key in value:
            if key not in CATEGORIES:
                raise ValueError(f"unknown category {key!r} (see the taxonomy in DESIGN.md)")
        return value

    @field_validator("neutral")
    @classmethod
    def _neutral(cls, value: list[str]) -> list[str]:
        return _sentences(value)

    def threshold(self, category: str) -> float:
        if category not in self.thresholds:
            raise RuleError(f"{self.pack}: no threshold for {category}")
        return self.thresholds[category]


def load_pack(path: Path = PACK_PATH) -> SemanticPack:
    """Read and validate a prototype pack; RuleError names the file and the key."""
    try:
        pack = SemanticPack.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise RuleError(f"{label_of(path)}: {describe(exc)}") from exc
    missing = sorted(set(pack.categories) - set(pack.thresholds))
    if missing:
        raise RuleError(f"{label_of(path)}: thresholds: missing for {', '.join(missing)}")
    return pack
