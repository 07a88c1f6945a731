"""RuleSet: evaluate a message against compiled rules; render reply templates safely."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .compiled import CompiledRule, CompiledTerms
from .detectors import DETECTORS, DetectorContext
from .model import PRIVATE_CHANNELS, SEVERITY_RANK, CategoryDefaults, Finding, Message, channel_kind
from .normalize import Normalised, View, normalise
from .prefilter import Eligibility, Prefilter

# A hit to score: its span in the original text (None for message-level rules), base score.
Candidate = tuple[int | None, int | None, float]
_QUOTES = re.compile(r"[\"\u201c\u201d\u00ab\u00bb]")
_NAME_OK = re.compile(r"[^\W\d_](?:[^\W\d_]|['\- ])*")


class _MessageContext:
    """Per-message state: the views, the prefilter's answers, and context-term spans, each
    found at most once (term lists with the same regexes share one scan)."""

    def __init__(
        self, message: Message, norm: Normalised, passed: int, terms: dict[int, tuple[int, int]]
    ) -> None:
        self.message = message
        self.norm = norm
        self.passed = passed  # gate bits that passed (prefilter.py)
        self.terms = terms  # id of a term list -> (its cache key, its gate bit)
        self._terms: dict[int, list[tuple[int, int]]] = {}
        self._quotes: list[int] | None = None
        self.views = {"plain": norm.plain, "words": norm.words, "original": View(message.text)}

    def term_spans(self, terms: CompiledTerms) -> list[tuple[int, int]]:
        key, bit = self.terms[id(terms)]
        if not self.passed & bit:
            return []  # none of the literals every match needs is in the text
        if key not in self._terms:
            view = self.norm.words
            spans = []
            for regex in terms.regexes:
                for m in regex.finditer(view.text):
                    if m.end() > m.start():
                        spans.append(view.to_original(m.start(), m.end()))
            self._terms[key] = spans
        return self._terms[key]

    def quoted(self, span: tuple[int, int]) -> bool:
        if self._quotes is None:
            self._quotes = [m.start() for m in _QUOTES.finditer(self.message.text)]
        before = sum(1 for q in self._quotes if q < span[0])
        after = any(q >= span[1] for q in self._quotes)
        return before % 2 == 1 and after


@dataclass(frozen=True)
class RuleSet:
    rules: Sequence[CompiledRule]
    templates: Mapping[str, Mapping[str, str]]  # name -> {"public": ..., "private": ...}
    staff_accounts: frozenset[str]
    detector_context: DetectorContext
    vocab: frozenset[str]
    # What a finding of each category does without a rule of its own (loader.py).
    categories: Mapping[str, CategoryDefaults] = field(default_factory=dict)

    # Derived from `rules` (so dataclasses.replace(ruleset, rules=...) rebuilds them).
    _eligible: Eligibility = field(init=False, repr=False, compare=False)
    _prefilter: Prefilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_eligible", Eligibility.of(self.rules))
        object.__setattr__(self, "_prefilter", Prefilter.of(self.rules))

    def evaluate(self, message: Message) -> list[Finding]:
        """Return findings ordered by priority, then severity (both highest first)."""
        staff = message.author_id is not None and message.author_id in self.staff_accounts
        kinds = {a.type for a in message.attachments}
        kind = channel_kind(message.channel)
        # Bit i of `run` stands for self.rules[i]: first the rules this message's channel,
        # author and attachments allow, then those whose literals are in the text.
        run = self._eligible.mask(message.from_page, staff, message.channel, kind, kinds)
        if not run:
            return []
        norm = normalise(message.text, self.vocab)
        passed = self._prefilter.scan(norm.plain.text, norm.words.text)
        run &= self._prefilter.runnable(passed)
        ctx = _MessageContext(message, norm, passed, self._prefilter.terms)
        findings: list[Finding] = []
        rules = self.rules
        while run:  # lowest bit first: rules are stored sorted, so findings already are
            low = run & -run
            run ^= low
            i = low.bit_length() - 1
            rule = rules[i]
            candidates: list[Candidate]
            if rule.message_level:
                candidates = [(None, None, rule.score)]
            else:
                matcher = rule.matcher
                if rule.alternatives:  # or the one alternative of it that can match this text
                    matcher = self._prefilter.matcher(i, rule, passed)
                candidates = self._hits(rule, ctx, matcher)
                if not candidates:
                    continue  # the common case: gates passed, but nothing matched
            finding = self._apply(rule, ctx, candidates)
            if finding is not None:
                findings.append(finding)
        return findings

    def _hits(
        self, rule: CompiledRule, ctx: _MessageContext, matcher: re.Pattern[str] | None
    ) -> list[Candidate]:
        view = ctx.views[rule.view]
        raw: list[tuple[int, int, float]] = []
        if matcher is not None:
            raw += [(m.start(), m.end(), rule.score) for m in matcher.finditer(view.text)]
        if rule.detector is not None:
            # A detector's own confidence is capped by the rule's score, so YAML stays in charge.
            raw += [
                (s, e, min(conf, rule.score))
                for s, e, conf in DETECTORS[rule.detector](view.text, self.detector_context)
            ]
        return [(*view.to_original(s, e), score) for s, e, score in raw if e > s]

    def _apply(
        self,
        rule: CompiledRule,
        ctx: _MessageContext,
        candidates: list[Candidate],
    ) -> Finding | None:
        """Score a rule's candidate hits with its context terms; a finding if any is kept."""
        kept: list[tuple[float, tuple[int, int] | None]] = []
        for start, end, base in candidates:
            span = None if start is None or end is None else (start, end)
            if rule.requires and not rule.requires.near(ctx.term_spans(rule.requires), span):
                continue
            if rule.unless and rule.unless.near(ctx.term_spans(rule.unless), span):
                continue
            score = base
            for mod in rule.modifiers:
                if mod.near(ctx.term_spans(mod), span):
                    score += mod.by
            if rule.quoted and span is not None and ctx.quoted(span):
                score += rule.quoted
            score = min(max(score, 0.0), 1.0)
            if score >= rule.threshold:
                kept.append((round(score, 3), span))
        if not kept:
            return None
        spans = tuple(sorted({s for _, s in kept if s is not None}))
        best_score, best_span = max(kept, key=lambda k: (k[0], -(k[1] or (0, 0))[0]))
        private = ctx.message.channel in PRIVATE_CHANNELS
        return Finding(
            category=rule.category,
            rule=rule.id,
            severity=rule.severity,
            score=best_score,
            span=best_span,
            actions=rule.private_actions if private else rule.actions,
            spans=spans,
        )

    def render(
        self,
        template: str,
        channel: str,
        context: Mapping[str, str],
        *,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> str:
        """Fill a reply template; only {first_name} and {page_name}, cleaned, are ever used.

        `overrides` are a page's own templates (its voice), used before the packs' ones.
        """
        variants = (overrides or {}).get(template) or self.templates.get(template)
        kind = channel_kind(channel)
        if variants is None or not variants.get(kind):
            raise KeyError(f"no {kind} variant of reply template {template!r}")
        name_match = _NAME_OK.match(str(context.get("first_name", "")).strip())
        first = name_match.group(0).split(" ")[0][:30] if name_match else ""
        page = " ".join(str(context.get("page_name", "")).split())[:80] or "the team"
        text = variants[kind].replace("{page_name}", page).replace("{first_name}", first)
        if not first:
            # "Hi {first_name}, thanks" reads "Hi, thanks" rather than "Hi , thanks".
            text = re.sub(r" +([,.!?])", r"\1", text)
            text = re.sub(r"  +", " ", text)
        return text


def rule_order(rule: CompiledRule) -> tuple[int, int, str]:
    """Evaluation and finding order: priority, then severity, highest first; then id."""
    return (-rule.priority, -SEVERITY_RANK[rule.severity], rule.id)
