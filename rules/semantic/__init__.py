"""The learned stage: trained heads over sentence embeddings and rule signals, next to the rules.

Importable without the `semantic` extra: the config is plain pydantic. `rules.semantic.heads`,
`.stage` and `.training` need numpy; `rules.semantic.embedder` needs onnxruntime and tokenizers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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


def weighing_words(ruleset: RuleSet, message: Message, category: str) -> tuple[str, ...] | None:
    """The words that weighed most in the learned stage's reading of `category` in `message`;
    None where there is no learned stage (rules alone) or it does not read that category."""
    weigh = getattr(ruleset, "weighing_words", None)
    return weigh(message, category) if weigh is not None else None


def naming_words(ruleset: RuleSet) -> RuleSet:
    """The same ruleset, its learned stage naming each finding's weighing words as it judges:
    for someone trying a message, who is waiting for the answer anyway."""
    stage = getattr(ruleset, "stage", None)
    if stage is None or stage.explain_words:
        return ruleset
    return replace(ruleset, stage=replace(stage, explain_words=True))


__all__ = ["SemanticConfig", "evaluate_many", "naming_words", "weighing_words"]
