"""RuleSet: evaluate a message against compiled rules; render reply templates safely."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .compiled import CompiledRule, CompiledTerms
from .detectors import DETECTORS, DetectorContext
from .model import PRIVATE_CHANNELS, SEVERITY_RANK, Finding, Message, channel_kind
from .normalize import Normalised, View, normalise

_QUOTES = re.compile(r"[\"\u201c\u201d\u00ab\u00bb]")
_NAME_OK = re.compile(r"[^\W\d_](?:[^\W\d_]|['\- ])*")


class _MessageContext:
    """Per-message caches so shared context terms are matched at most once."""

    def __init__(self, message: Message, norm: Normalised) -> None:
        self.message = message
        self.norm = norm
        self._terms: dict[int, list[tuple[int, int]]] = {}
        self._quotes: list[int] | None = None
        self._gates: dict[str, tuple[str, frozenset[str], bool]] = {}

    def grams(self, view: str) -> tuple[str, frozenset[str], bool]:
        """A view's text, its set of three-character substrings, and whether it has digits."""
        if view not in self._gates:
            if self.norm.words is self.norm.plain and self._gates:
                # Nothing to undo (no l33t, no stretching): both views are the same text.
                self._gates[view] = next(iter(self._gates.values()))
                return self._gates[view]
            text = self.norm.plain.text if view == "plain" else self.norm.words.text
            grams = frozenset(text[i : i + 3] for i in range(len(text) - 2))
            self._gates[view] = (text, grams, any(c.isdigit() for c in text))
        return self._gates[view]

    def view(self, name: str) -> View:
        if name == "plain":
            return self.norm.plain
        if name == "original":
            return View(self.message.text)
        return self.norm.words

    def term_spans(self, terms: CompiledTerms) -> list[tuple[int, int]]:
        key = id(terms)
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

    def evaluate(self, message: Message) -> list[Finding]:
        """Return findings ordered by priority, then severity (both highest first)."""
        staff = message.author_id is not None and message.author_id in self.staff_accounts
        kinds = {a.type for a in message.attachments}
        kind = channel_kind(message.channel)
        norm: Normalised | None = None
        ctx: _MessageContext | None = None
        findings: list[Finding] = []
        for rule in self.rules:
            if message.from_page and rule.from_page == "never":
                continue
            if not message.from_page and rule.from_page == "only":
                continue
            if staff and rule.exempt_staff:
                continue
            if rule.channels and not (message.channel in rule.channels or kind in rule.channels):
                continue
            if rule.attachments and not (kinds & rule.attachments):
                continue
            if ctx is None:
                norm = normalise(message.text, self.vocab)
                ctx = _MessageContext(message, norm)
            finding = self._apply(rule, ctx)
            if finding is not None:
                findings.append(finding)
        return findings  # rules are stored sorted, so findings already are

    def _hits(self, rule: CompiledRule, ctx: _MessageContext) -> list[tuple[int, int, float]]:
        view = ctx.view(rule.view)
        raw: list[tuple[int, int, float]] = []
        if rule.matcher is not None:
            raw += [(m.start(), m.end(), rule.score) for m in rule.matcher.finditer(view.text)]
        if rule.detector is not None:
            # A detector's own confidence is capped by the rule's score, so YAML stays in charge.
            raw += [
                (s, e, min(conf, rule.score))
                for s, e, conf in DETECTORS[rule.detector](view.text, self.detector_context)
            ]
        return [(*view.to_original(s, e), score) for s, e, score in raw if e > s]

    def _apply(self, rule: CompiledRule, ctx: _MessageContext) -> Finding | None:
        # Rules on the original text are prefiltered on the plain view (its lower-cased, NFKC,
        # accent-free copy); their atoms were normalised the same way when compiled.
        gate_view = "plain" if rule.view == "original" else rule.view
        if rule.gate is not None and not rule.gate.passes(*ctx.grams(gate_view)):
            return None
        if rule.requires_gate is not None and not rule.requires_gate.passes(*ctx.grams("words")):
            return None
        if rule.message_level:
            candidates: list[tuple[int, int, float] | tuple[None, None, float]] = [
                (None, None, rule.score)
            ]
        else:
            candidates = list(self._hits(rule, ctx))
            if not candidates:
                return None
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

    def render(self, template: str, channel: str, context: Mapping[str, str]) -> str:
        """Fill a reply template; only {first_name} and {page_name}, cleaned, are ever used."""
        variants = self.templates.get(template)
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
