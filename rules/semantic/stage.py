"""The learned stage: trained heads over sentence embeddings and rule signals, merged with rules.

Pure, given an embedding function (text in, unit vectors out) and the heads: no file, model or
environment is touched here, so tests run it with a fake embedder. Needs numpy.

How a message is judged:
1. The rules run first (exact things: phones, postcodes, links, named word lists).
2. The message is cut into chunks of whole sentences; each is prepared (prepare.py) and
   embedded, and the heads judge the whole message (pieces.py: the mean of its chunks and all
   their words) with the rules' scores as signals, as they were trained. The chunk that scores
   highest on its own is the finding's span, so the moderator sees where the concern is.
3. For a category the stage **decides** ("raise" mode: risk, help requests, out-of-remit by
   default), the heads have the last word over the shipped packs' rules of that category: a
   rule match with the heads agreeing stays (its exact span, now with the reason), a rule match
   the heads judge a joke or talk *about* the topic is dropped, and the heads may flag what no
   rule matched. Rules an admin added in config.yaml are never overruled.
   For a category the stage only **strengthens** (abuse and spam), a finding needs a rule
   finding of the same top category, which always stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

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
from .config import SemanticConfig
from .heads import Heads, signal_vector
from .pieces import pieces, with_whole

Embed = Callable[[Sequence[str]], np.ndarray]
NEAREST_SHOWN = 3
WORDS_SHOWN = 3
SHIPPED = "rules/packs/"  # the source of rules the heads were trained alongside
CONFIDENT = 0.5  # a risk reading this sure stands whatever else the message reads as
HOSTILE = 0.9  # the heads are this sure the message is harassment of someone else
_PUNCTUATION = ".,!?;:\"'()"


@dataclass(frozen=True)
class CategoryModel:
    category: str
    head: int  # its column in the heads' output
    rule: str  # its own rule id, e.g. semantic-risk-suicide
    threshold: float
    mode: str  # "raise" | "strengthen"
    severity: str
    priority: int
    finding_actions: tuple[Actions, Actions]  # public, private (DMs)


@dataclass(frozen=True)
class Score:
    """One category's probability for one message, and the chunk that scores highest."""

    category: int  # index into SemanticStage.categories
    probability: float
    span: tuple[int, int]
    chunk: int  # which of the message's pieces (chunks, then the whole) scored best


@dataclass(frozen=True)
class Judged:
    """What the stage worked out for one message: scores and what explaining them needs."""

    scores: tuple[Score, ...]
    pieces: tuple[str, ...]  # prepared chunk texts, then the prepared whole message
    vectors: np.ndarray  # their embeddings
    signals: np.ndarray


def rule_id(category: str) -> str:
    return "semantic-" + category.replace(".", "-").replace("_", "-")


@dataclass(frozen=True, eq=False)
class SemanticStage:
    embed: Embed
    heads: Heads
    categories: tuple[CategoryModel, ...]
    max_chunks: int
    # Weigh each finding's words while judging; off, they are weighed when staff ask
    # (`weighing_words`): the occlusion is most of what judging a message costs.
    explain_words: bool = False
    shipped_rules: frozenset[str] = frozenset()  # rule ids the heads may overrule

    def judge(
        self, messages: Sequence[Message], rule_findings: Sequence[Sequence[Finding]]
    ) -> list[Judged]:
        """Score every message (one embedding call for all their chunks)."""
        cut = [pieces(m.text, self.max_chunks) for m in messages]
        flat = [p for _, ps in cut for p in ps]
        vectors = self.embed(flat) if flat else np.zeros((0, self.heads.dims), np.float32)
        # Every message's rows go through the heads in one product (per-row calls cost more
        # in overhead than in arithmetic).
        rows: list[tuple[np.ndarray, list[str], np.ndarray]] = []
        at = 0
        for (_, ps), found in zip(cut, rule_findings, strict=True):
            own, texts = with_whole(vectors[at : at + len(ps)], ps)
            at += len(ps)
            rows.append((own, texts, self._signals(found)))
        every = [(own, texts, sig) for own, texts, sig in rows if texts]
        probs_all = (
            self.heads.probabilities(
                np.vstack([own for own, _, _ in every]),
                [t for _, texts, _ in every for t in texts],
                np.vstack([np.repeat(sig[None, :], len(texts), 0) for _, texts, sig in every]),
            )
            if every
            else np.zeros((0, len(self.heads.categories)), np.float32)
        )
        out: list[Judged] = []
        at = 0
        for (sp, _), (own, texts, signals) in zip(cut, rows, strict=True):
            if not texts:
                out.append(Judged((), (), own, signals))
                continue
            probs = probs_all[at : at + len(texts)]
            at += len(texts)
            scores = []
            for index, model in enumerate(self.categories):
                column = probs[:, model.head]
                # The message is judged whole, as the heads were trained; the chunk that scores
                # highest on its own is where the moderator is pointed.
                best = int(column[: len(sp)].argmax())
                scores.append(Score(index, _r(column[-1]), sp[best], best))
            out.append(Judged(tuple(scores), tuple(texts), own, signals))
        return out

    def _signals(self, found: Sequence[Finding]) -> np.ndarray:
        scores: dict[str, float] = {}
        for f in found:
            if not f.rule.startswith("semantic-"):
                scores[f.category] = max(scores.get(f.category, 0.0), f.score)
        return signal_vector(self.heads.signals, scores)

    def findings(
        self, message: Message, rule_findings: Sequence[Finding], judged: Judged
    ) -> list[Finding]:
        """The message's findings: the rules' findings, decided or strengthened by the heads."""
        if message.from_page or not judged.scores:
            return list(rule_findings)  # the page's own posts are checked by the rules only
        private = message.channel in PRIVATE_CHANNELS
        by_category = {m.category: (m, judged.scores[i]) for i, m in enumerate(self.categories)}
        tops = {top_of(f.category) for f in rule_findings}
        kept: list[Finding] = []
        claimed: set[str] = set()
        occluded: dict[int, tuple[list[str], np.ndarray]] = {}
        for finding in rule_findings:
            entry = by_category.get(finding.category)
            shipped = finding.rule in self.shipped_rules
            if entry is None or entry[0].mode != "raise" or not shipped:
                kept.append(finding)
                continue
            model, score = entry
            if score.probability >= model.threshold:
                why = self._explain(model, score, judged, finding.rule, occluded)
                kept.append(replace(finding, explanation=why))
                claimed.add(finding.category)
            # else: the heads read this match as a figure of speech or talk about the topic.
        unsure_risk = self._unsure_risk(by_category, claimed)
        for model, score in by_category.values():
            if model.category in claimed or score.probability < model.threshold:
                continue
            if model.mode == "strengthen" and top_of(model.category) not in tops:
                continue
            if model.category in unsure_risk:
                continue
            public, private_actions = model.finding_actions
            # A name the heads found has no exact place: highlighting the whole chunk would
            # hide the rules' precise marks (phone, school) under one.
            span = None if top_of(model.category) == "pii" else score.span
            kept.append(
                Finding(
                    category=model.category,
                    rule=model.rule,
                    severity=model.severity,
                    score=score.probability,
                    span=span,
                    actions=private_actions if private else public,
                    spans=(span,) if span else (),
                    explanation=self._explain(model, score, judged, None, occluded),
                )
            )
        return kept

    def _unsure_risk(
        self, by_category: dict[str, tuple[CategoryModel, Score]], claimed: set[str]
    ) -> set[str]:
        """Risk readings the heads alone make, below CONFIDENT, that are not the message's risk.

        Risk thresholds are low (recall first), so one worried message can pass two or three
        of them. Which subtype it is does not change who is paged, but a wrong second label
        misleads the lead: below CONFIDENT only the likeliest stands, and none when a rule
        already found the risk. And a message the heads read as hostility aimed at someone else
        ("nobody wants you here, go away") is not the writer's own risk unless they are sure.
        """
        firing = [
            (score.probability, model.category)
            for model, score in by_category.values()
            if top_of(model.category) in SAFEGUARDING_TOPS and score.probability >= model.threshold
        ]
        unsure = {c for p, c in firing if p < CONFIDENT and c not in claimed}
        if not unsure:
            return set()
        hostile = by_category.get("abusive.harassment")
        if hostile is not None and hostile[1].probability >= HOSTILE:
            return unsure
        if any(top_of(c) in SAFEGUARDING_TOPS for c in claimed):
            return unsure
        likeliest = max(firing)[1]
        return unsure - {likeliest}

    def _explain(
        self,
        model: CategoryModel,
        score: Score,
        judged: Judged,
        rule: str | None,
        occluded: dict[int, tuple[list[str], np.ndarray]],
    ) -> Explanation:
        vector = judged.vectors[score.chunk]
        words: tuple[str, ...] = ()
        if self.explain_words:
            words = self._weighing_words(model, score.chunk, judged, occluded)
        return Explanation(
            method="classifier",
            score=score.probability,
            threshold=model.threshold,
            mode=model.mode,
            nearest=tuple(self.heads.nearest(vector, model.head, NEAREST_SHOWN)),
            words=words,
            rule=rule,
        )

    def weighing_words(
        self, message: Message, rule_findings: Sequence[Finding], category: str
    ) -> tuple[str, ...] | None:
        """The words that weighed most in the heads' reading of `category` in this message:
        what `explain_words` would have named, worked out for one finding when staff ask.
        None when the stage does not read that category (or the message has no words)."""
        (judged,) = self.judge([message], [rule_findings])
        if not judged.scores:
            return None
        for model, score in zip(self.categories, judged.scores, strict=True):
            if model.category == category:
                return self._weighing_words(model, score.chunk, judged, {})
        return None

    def _weighing_words(
        self,
        model: CategoryModel,
        chunk: int,
        judged: Judged,
        occluded: dict[int, tuple[list[str], np.ndarray]],
    ) -> tuple[str, ...]:
        """The words whose absence lowers the category's probability most (occlusion).

        The chunk's variants are embedded once per message (`occluded`), whatever the number
        of findings they explain: embedding them is most of what a finding costs the worker.
        """
        if chunk not in occluded:
            piece = judged.pieces[chunk]
            tokens = [t for t in piece.split() if t.strip(_PUNCTUATION)][:40]
            probs = np.zeros((0, len(self.heads.categories)), dtype=np.float32)
            if len(tokens) >= 2:
                variants = [" ".join(tokens[:i] + tokens[i + 1 :]) for i in range(len(tokens))]
                texts = [" ".join(tokens), *variants]
                signals = np.repeat(judged.signals[None, :], len(texts), 0)
                probs = self.heads.probabilities(self.embed(texts), texts, signals)
            occluded[chunk] = (tokens, probs)
        tokens, probs = occluded[chunk]
        if not len(probs):
            return tuple(t.strip(_PUNCTUATION) for t in tokens)
        drop = probs[0, model.head] - probs[1:, model.head]
        order = [i for i in np.argsort(-drop) if drop[i] > 0.01][:WORDS_SHOWN]
        return tuple(tokens[i].strip(_PUNCTUATION) for i in sorted(order))


def _r(value: float) -> float:
    return round(float(value), 3)


def build_stage(
    heads: Heads,
    rules_config: RulesConfig,
    semantic: SemanticConfig,
    embed: Embed,
    shipped_rules: frozenset[str] = frozenset(),
) -> SemanticStage:
    """Work out each category's mode, threshold and actions; `shipped_rules` are the rule ids
    the heads may overrule (the shipped packs' rules of the categories they decide)."""
    builder = _Builder(rules_config)  # the same category defaults and config actions as rules
    categories: list[CategoryModel] = []
    for head, category in enumerate(heads.categories):
        mode = semantic.mode_of(category)
        if mode is None:
            continue
        threshold = semantic.thresholds.get(
            category, semantic.thresholds.get(top_of(category), heads.thresholds[category])
        )
        # Actions as for a rule of this category with none of its own (safeguarding included).
        doc_for_actions = RuleDoc(
            id=rule_id(category), category=category, phrases=["-"], must_match=["-"]
        )
        categories.append(
            CategoryModel(
                category=category,
                head=head,
                rule=rule_id(category),
                threshold=threshold,
                mode=mode,
                severity=builder._category_default(category, "severity", "medium"),
                priority=builder._category_default(category, "priority", 0),
                finding_actions=builder._actions("rules/semantic/heads.json", doc_for_actions),
            )
        )
    return SemanticStage(
        embed=embed,
        heads=heads,
        categories=tuple(categories),
        max_chunks=semantic.max_chunks,
        explain_words=semantic.explain_words,
        shipped_rules=shipped_rules,
    )


def shipped_rule_ids(ruleset: RuleSet) -> frozenset[str]:
    return frozenset(r.id for r in ruleset.rules if r.source.startswith(SHIPPED))


@dataclass(frozen=True)
class SemanticRuleSet(RuleSet):
    """A RuleSet whose findings are judged by the learned stage, ordered like rule findings."""

    stage: SemanticStage | None = None
    staff_exempt: bool = True  # staff skip the stage's non-risk findings, as most rules do

    def evaluate(self, message: Message) -> list[Finding]:
        return self.evaluate_many([message])[0]

    def evaluate_many(self, messages: Sequence[Message]) -> list[list[Finding]]:
        """Rules per message, then one batched embedding call for all their texts."""
        rule_findings = [RuleSet.evaluate(self, m) for m in messages]
        if self.stage is None:
            return rule_findings
        judged = self.stage.judge(messages, rule_findings)
        priority = {r.id: r.priority for r in self.rules}
        priority.update({c.rule: c.priority for c in self.stage.categories})
        out = []
        for message, found, judgement in zip(messages, rule_findings, judged, strict=True):
            merged = self.stage.findings(message, found, judgement)
            staff = message.author_id is not None and message.author_id in self.staff_accounts
            if staff and self.staff_exempt:
                merged = [
                    f
                    for f in merged
                    if not f.rule.startswith("semantic-") or top_of(f.category) in SAFEGUARDING_TOPS
                ]
            # Stable: rule findings stay ahead of the stage's at the same priority.
            merged.sort(key=lambda f: (-priority.get(f.rule, 0), -SEVERITY_RANK[f.severity]))
            out.append(merged)
        return out

    def weighing_words(self, message: Message, category: str) -> tuple[str, ...] | None:
        """The words that weighed most for `category`, judged again as `evaluate` judges."""
        if self.stage is None:
            return None
        return self.stage.weighing_words(message, RuleSet.evaluate(self, message), category)


def with_stage(ruleset: RuleSet, stage: SemanticStage) -> SemanticRuleSet:
    """The same rules, judged with the stage."""
    values = {f.name: getattr(ruleset, f.name) for f in fields(RuleSet) if f.init}
    return SemanticRuleSet(**values, stage=stage)
