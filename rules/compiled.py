"""Compiled forms of rule documents: everything a message evaluation needs, built once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .matchers import (
    DIGIT,
    compile_patterns,
    compile_phrases,
    gate_of,
    phrase_atoms,
    plain_atom,
)
from .model import Actions, Message
from .schema import Terms


@dataclass(frozen=True)
class CompiledTerms:
    regexes: tuple[re.Pattern[str], ...]
    window: int | None
    side: str
    by: float = 0.0
    gate: Gate | None = None  # literals one of which every match contains (words view)

    @classmethod
    def build(cls, terms: Terms, phrases: list[str], by: float = 0.0) -> CompiledTerms:
        phrase_re, pattern_re = compile_phrases(phrases), compile_patterns(terms.patterns)
        atoms = [phrase_atoms(phrases) if phrases else frozenset()]
        atoms.append(gate_of([pattern_re]) if pattern_re is not None else frozenset())
        regexes = tuple(r for r in (phrase_re, pattern_re) if r)
        return cls(regexes, terms.window, terms.side, by, Gate.of(literal_gate(atoms, "words")))

    def near(self, spans: list[tuple[int, int]], hit: tuple[int, int] | None) -> bool:
        """True when one of ``spans`` (original offsets) lies within the window of ``hit``."""
        if not spans:
            return False
        if hit is None or self.window is None:
            return True
        start, end = hit
        for s, e in spans:
            if s < end and start < e:
                return True  # overlapping the hit itself ("suicide prevention walk")
            if self.side != "after" and e <= start and start - e <= self.window:
                return True
            if self.side != "before" and s >= end and s - end <= self.window:
                return True
        return False


@dataclass(frozen=True)
class Gate:
    """Prefilter: every match contains one of ``atoms`` (see matchers.gate_of), or a digit.

    prefilter.py checks the gates of all rules at once; a rule whose gate fails is skipped.
    """

    atoms: frozenset[str]  # lower-cased literals
    digit: bool  # some match needs only "a digit somewhere"

    @classmethod
    def of(cls, atoms: frozenset[str] | None) -> Gate | None:
        if not atoms:
            return None
        return cls(frozenset(a for a in atoms if a != DIGIT), DIGIT in atoms)


@dataclass(frozen=True)
class Alternative:
    """One top-level alternative of a rule's matcher (its phrase list or one of its patterns).

    When the gates say only one alternative can match a message, scanning with that one
    alone finds exactly what the whole alternation finds: an alternative that cannot match
    anywhere never wins at any position. A long phrase trie plus a dozen patterns then costs
    the price of one of them.
    """

    regex: re.Pattern[str]
    gate: Gate


# Group references change meaning when a pattern is compiled alone (numbers shift).
_GROUP_REF = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def literal_gate(atoms: list[frozenset[str] | None], view: str) -> frozenset[str] | None:
    """Union of the atoms of some alternatives, as checked on the gate view; None: no gate."""
    if None in atoms:
        return None
    gate = frozenset().union(*atoms)  # type: ignore[arg-type]
    if view == "original":
        # Rules on the original text are gated on the plain view (lower-cased, NFKC).
        gate = frozenset(plain_atom(a) for a in gate)
        if "" in gate:
            return None  # an atom that vanishes when normalised cannot filter
    return gate


def split_alternatives(
    phrase_re: re.Pattern[str] | None, phrases: list[str], patterns: list[str], view: str
) -> tuple[Alternative, ...]:
    """The gated alternatives of a matcher built from ``phrases`` then ``patterns``, or ()."""
    parts = [(phrase_re, phrase_atoms(phrases))] if phrase_re is not None else []
    for pattern in patterns:
        if _GROUP_REF.search(pattern):
            return ()
        regex = re.compile(pattern)
        parts.append((regex, gate_of([regex])))
    alternatives = []
    for regex, atoms in parts:
        gate = Gate.of(literal_gate([atoms], view))
        if gate is None:
            return ()
        alternatives.append(Alternative(regex, gate))
    return tuple(alternatives) if len(alternatives) > 1 else ()


@dataclass(frozen=True)
class CompiledRule:
    id: str
    category: str
    severity: str
    priority: int
    pack: str
    source: str  # file the rule came from, for error messages and reports
    description: str
    score: float
    threshold: float
    view: str
    matcher: re.Pattern[str] | None
    detector: str | None
    requires: CompiledTerms | None
    unless: CompiledTerms | None
    modifiers: tuple[CompiledTerms, ...]
    quoted: float
    channels: frozenset[str]
    attachments: frozenset[str]
    from_page: str
    exempt_staff: bool
    actions: Actions
    private_actions: Actions
    # Prefilter: literals one of which must occur (lower-cased) for the rule to possibly match.
    gate: Gate | None = None
    requires_gate: Gate | None = None
    # The matcher's alternatives with their own gates; used only while `gate` is set.
    alternatives: tuple[Alternative, ...] = ()
    must_match: tuple[Message, ...] = field(default=())
    must_not_match: tuple[Message, ...] = field(default=())

    @property
    def message_level(self) -> bool:
        """Rules with nothing to match in text fire on the message as a whole (photos)."""
        return self.matcher is None and self.detector is None
