"""The learned stage: trained heads over sentence embeddings and rule signals, next to the rules.

Importable without the `semantic` extra: the config is plain pydantic. `rules.semantic.heads`,
`.stage` and `.training` need numpy; `rules.semantic.embedder` needs onnxruntime and tokenizers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import Finding, Message
from .config import SemanticConfig

if TYPE_CHECKING:  # the engine imports the config through rules.schema
    from ..engine import RuleSet


def evaluate_many(ruleset: RuleSet, messages: Sequence[Message]) -> list[list[Finding]]:
    """Findings per message; batched where the ruleset can (one embedding call for all)."""
    batch = getattr(ruleset, "evaluate_many", None)
    if batch is not None:
        return batch(messages)
    return [ruleset.evaluate(m) for m in messages]


__all__ = ["SemanticConfig", "evaluate_many"]
