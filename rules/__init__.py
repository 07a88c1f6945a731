"""Haven's pure rules engine: messages in, findings out. No I/O beyond reading YAML by path."""

from __future__ import annotations

from .engine import RuleSet
from .loader import RuleError, load_ruleset
from .model import (
    CATEGORIES,
    TAXONOMY,
    Actions,
    Attachment,
    CaseSpec,
    Finding,
    Message,
    categories_of,
    channel_kind,
)
from .normalize import normalise
from .schema import BUILTIN_PACKS, RulesConfig

__all__ = [
    "BUILTIN_PACKS",
    "CATEGORIES",
    "TAXONOMY",
    "Actions",
    "Attachment",
    "CaseSpec",
    "Finding",
    "Message",
    "RuleError",
    "RuleSet",
    "RulesConfig",
    "categories_of",
    "channel_kind",
    "load_ruleset",
    "normalise",
]
