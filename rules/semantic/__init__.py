"""The semantic stage: sentence embeddings compared with written prototypes, next to the rules.

Importable without the `semantic` extra: the config and the prototype pack are plain pydantic.
`rules.semantic.stage` (numpy) and `rules.semantic.embedder` (onnxruntime, tokenizers) need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import Finding, Message
from .config import SemanticConfig
from .pack import PACK_PATH, SemanticPack, load_pack

if TYPE_CHECKING:  # the engine imports the config through rules.schema
    from ..engine import RuleSet


def evaluate_many(ruleset: RuleSet, messages: Sequence[Message]) -> list[list[Finding]]:
    """Findings per message; batched where the ruleset can (one embedding call for all)."""
    batch = getattr(ruleset, "evaluate_many", None)
    if batch is not None:
        return batch(messages)
    return [ruleset.evaluate(m) for m in messages]


__all__ = ["PACK_PATH", "SemanticConfig", "SemanticPack", "evaluate_many", "load_pack"]
