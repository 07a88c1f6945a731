"""The semantic stage: nearest-prototype scoring and its combination with rule findings.

Pure, given an embedding function (text in, unit vectors out): no file, model or environment
is touched here, so tests run it with a fake embedder. Needs numpy (the `semantic` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from ..engine import RuleSet
from ..loader import _Builder
from ..model import (
    PRIVATE_CHANNELS,
    SAFEGUARDING_TOPS,
    SEVERITY_RANK,
    Actions,
    Explanation,
    Finding,
    Message,
    top_of,
)
from ..schema import RuleDoc, RulesConfig
from .chunks import chunk_spans
from .config import SUBTYPE_MARGIN, SemanticConfig
from .pack import SemanticPack

Embed = Callable[[Sequence[str]], np.ndarray]
NEAREST_SHOWN = 3


@dataclass(frozen=True)
class CategoryModel:
    category: str
    rule: str  # its own rule id, e.g. semantic-risk-suicide
    threshold: float
    mode: str  # "raise" | "strengthen"
    severity: str
    priority: int
    finding_actions: tuple[Actions, Actions]  # public, private (DMs)


@dataclass(frozen=True)
class Score:
    """The best chunk of one message for one category."""

    category: int  # index into SemanticStage.categories
    similarity: float
    span: tuple[int, int]
    nearest: tuple[tuple[str, float], ...]
    counter: tuple[str, float] | None

    def fires(self, threshold: float) -> bool:
        beaten = self.counter is not None and self.counter[1] >= self.similarity
        return self.similarity >= threshold and not beaten


def rule_id(category: str) -> str:
    return "semantic-" + category.replace(".", "-").replace("_", "-")


@dataclass(frozen=True, eq=False)
class SemanticStage:
    embed: Embed
    categories: tuple[CategoryModel, ...]
    texts: tuple[str, ...]  # each category's prototypes and counter-examples, then chatter
    vectors: np.ndarray  # (len(texts), dims), unit rows
    owner: np.ndarray  # category index of each prototype; -1 for counter-examples
    unlike: np.ndarray  # (len(texts), len(categories)) bool: counter-example for that category
    max_chunks: int

    def score(self, texts: Sequence[str]) -> list[list[Score]]:
        """Per text, the best-scoring chunk for each category (one embedding call in all)."""
        spans = [chunk_spans(t, self.max_chunks) for t in texts]
        flat = [t[s:e] for t, sp in zip(texts, spans, strict=True) for s, e in sp]
        sims = self.embed(flat) @ self.vectors.T if flat else np.zeros((0, len(self.texts)))
        out: list[list[Score]] = []
        row = 0
        for sp in spans:
            out.append(self._best(sims[row : row + len(sp)], sp))
            row += len(sp)
        return out

    def _best(self, sims: np.ndarray, spans: list[tuple[int, int]]) -> list[Score]:
        if not spans:
            return []
        scores = []
        for index in range(len(self.categories)):
            own = self.owner == index
            per_chunk = sims[:, own].max(axis=1)
            chunk = int(per_chunk.argmax())
            protos = np.flatnonzero(own)
            ranked = protos[np.argsort(-sims[chunk, protos])][:NEAREST_SHOWN]
            counters = np.flatnonzero(self.unlike[:, index])
            counter = None
            if len(counters):
                best = counters[int(sims[chunk, counters].argmax())]
                counter = (self.texts[best], _r(sims[chunk, best]))
            scores.append(
                Score(
                    category=index,
                    similarity=_r(per_chunk[chunk]),
                    span=spans[chunk],
                    nearest=tuple((self.texts[i], _r(sims[chunk, i])) for i in ranked),
                    counter=counter,
                )
            )
        return scores

    def findings(
        self, message: Message, rule_findings: Sequence[Finding], scores: Sequence[Score]
    ) -> list[Finding]:
        """The stage's own findings for one message, given what the rules found."""
        if message.from_page:
            return []  # the page's own posts are checked for personal details only
        tops = {top_of(f.category) for f in rule_findings}
        private = message.channel in PRIVATE_CHANNELS
        firing = [s for s in scores if s.fires(self.categories[s.category].threshold)]
        best: dict[str, float] = {}
        for score in firing:
            top = top_of(self.categories[score.category].category)
            best[top] = max(best.get(top, 0.0), score.similarity)
        out = []
        for score in firing:
            model = self.categories[score.category]
            if score.similarity < best[top_of(model.category)] - SUBTYPE_MARGIN:
                continue  # a far weaker reading of the same message: one label is clearer
            if model.mode == "strengthen" and top_of(model.category) not in tops:
                continue
            public, private_actions = model.finding_actions
            out.append(
                Finding(
                    category=model.category,
                    rule=model.rule,
                    severity=model.severity,
                    score=score.similarity,
                    span=score.span,
                    actions=private_actions if private else public,
                    spans=(score.span,),
                    explanation=Explanation(
                        method="prototypes",
                        score=score.similarity,
                        threshold=model.threshold,
                        mode=model.mode,
                        nearest=score.nearest,
                        counter=score.counter,
                    ),
                )
            )
        return out


def _r(value: float) -> float:
    return round(float(value), 3)


def build_stage(
    pack: SemanticPack, rules_config: RulesConfig, semantic: SemanticConfig, embed: Embed
) -> SemanticStage:
    """Embed the pack's sentences once and work out each category's threshold and actions."""
    builder = _Builder(rules_config)  # the same category defaults and config actions as rules
    categories: list[CategoryModel] = []
    texts: list[str] = []
    owner: list[int] = []
    unlike_of: list[set[int]] = []
    for category, doc in pack.categories.items():
        mode = semantic.mode_of(category)
        if mode is None:
            continue
        index = len(categories)
        threshold = semantic.thresholds.get(
            category, semantic.thresholds.get(top_of(category), pack.threshold(category))
        )
        # Actions as for a rule of this category with none of its own (safeguarding included).
        doc_for_actions = RuleDoc(
            id=rule_id(category), category=category, phrases=["-"], must_match=["-"]
        )
        categories.append(
            CategoryModel(
                category=category,
                rule=rule_id(category),
                threshold=threshold,
                mode=mode,
                severity=builder._category_default(category, "severity", "medium"),
                priority=builder._category_default(category, "priority", 0),
                finding_actions=builder._actions("rules/packs/semantic.yaml", doc_for_actions),
            )
        )
        for text in doc.prototypes:
            texts.append(text)
            owner.append(index)
            unlike_of.append(set())
        for text in doc.unlike:
            texts.append(text)
            owner.append(-1)
            unlike_of.append({index})
    every = set(range(len(categories)))
    for text in pack.neutral:
        texts.append(text)
        owner.append(-1)
        unlike_of.append(every)
    unlike = np.zeros((len(texts), len(categories)), dtype=bool)
    for row, cats in enumerate(unlike_of):
        unlike[row, list(cats)] = True
    return SemanticStage(
        embed=embed,
        categories=tuple(categories),
        texts=tuple(texts),
        vectors=np.asarray(embed(texts), dtype=np.float32),
        owner=np.array(owner, dtype=np.int64),
        unlike=unlike,
        max_chunks=semantic.max_chunks,
    )


@dataclass(frozen=True)
class SemanticRuleSet(RuleSet):
    """A RuleSet whose findings include the semantic stage's, ordered like rule findings."""

    stage: SemanticStage | None = None
    staff_exempt: bool = True  # staff skip the stage's non-risk findings, as most rules do

    def evaluate(self, message: Message) -> list[Finding]:
        return self.evaluate_many([message])[0]

    def evaluate_many(self, messages: Sequence[Message]) -> list[list[Finding]]:
        """Rules per message, then one batched embedding call for all their texts."""
        rule_findings = [RuleSet.evaluate(self, m) for m in messages]
        if self.stage is None:
            return rule_findings
        scores = self.stage.score([m.text for m in messages])
        priority = {r.id: r.priority for r in self.rules}
        priority.update({c.rule: c.priority for c in self.stage.categories})
        out = []
        for message, found, score in zip(messages, rule_findings, scores, strict=True):
            extra = self.stage.findings(message, found, score)
            staff = message.author_id is not None and message.author_id in self.staff_accounts
            if staff and self.staff_exempt:
                extra = [f for f in extra if top_of(f.category) in SAFEGUARDING_TOPS]
            merged = found + extra
            # Stable: rule findings stay ahead of the stage's at the same priority.
            merged.sort(key=lambda f: (-priority.get(f.rule, 0), -SEVERITY_RANK[f.severity]))
            out.append(merged)
        return out


def with_stage(ruleset: RuleSet, stage: SemanticStage) -> SemanticRuleSet:
    """The same rules, plus the stage."""
    values = {f.name: getattr(ruleset, f.name) for f in fields(RuleSet) if f.init}
    return SemanticRuleSet(**values, stage=stage)
