"""Compiled forms of rule documents: everything a message evaluation needs, built once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .matchers import DIGIT, compile_patterns, compile_phrases
from .model import Actions, Message
from .schema import Terms


@dataclass(frozen=True)
class CompiledTerms:
    regexes: tuple[re.Pattern[str], ...]
    window: int | None
    side: str
    by: float = 0.0

    @classmethod
    def build(cls, terms: Terms, phrases: list[str], by: float = 0.0) -> CompiledTerms:
        regexes = [r for r in (compile_phrases(phrases), compile_patterns(terms.patterns)) if r]
        return cls(tuple(regexes), terms.window, terms.side, by)

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
    """Prefilter: every match of the rule contains one of its atoms (see matchers.gate_of).

    Checked against the set of three-character substrings of the text: an atom cannot be
    present unless its first three characters are, so one C-level set intersection leaves only
    a few atoms to confirm with a substring test.
    """

    keys: frozenset[str]  # first three characters of each atom of length >= 3
    by_key: Mapping[str, tuple[str, ...]]  # those three characters -> the atoms to confirm
    short: tuple[str, ...]  # atoms shorter than three characters, checked with `in`
    digit: bool  # some match needs only "a digit somewhere"

    @classmethod
    def of(cls, atoms: frozenset[str] | None) -> Gate | None:
        if not atoms:
            return None
        by_key: dict[str, list[str]] = {}
        for atom in sorted(a for a in atoms if a != DIGIT and len(a) >= 3):
            by_key.setdefault(atom[:3], []).append(atom)
        return cls(
            frozenset(by_key),
            {k: tuple(v) for k, v in by_key.items()},
            tuple(sorted(a for a in atoms if a != DIGIT and len(a) < 3)),
            DIGIT in atoms,
        )

    def passes(self, text: str, grams: frozenset[str], has_digit: bool) -> bool:
        if self.digit and has_digit:
            return True
        for key in self.keys & grams:
            if any(a in text for a in self.by_key[key]):
                return True
        return any(a in text for a in self.short)


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
    must_match: tuple[Message, ...] = field(default=())
    must_not_match: tuple[Message, ...] = field(default=())

    @property
    def message_level(self) -> bool:
        """Rules with nothing to match in text fire on the message as a whole (photos)."""
        return self.matcher is None and self.detector is None
