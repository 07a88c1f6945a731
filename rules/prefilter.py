"""One prefilter pass per message for all rules, instead of one gate check per rule.

Every rule may carry gates (compiled.Gate): literals one of which each match must contain.
Its own gate is checked on its gate view, its `requires:` gate on the words view, and the
gates of its matcher's alternatives on its gate view. Checked one by one they cost more
than everything else the engine does; here all gates of all rules are merged into one index
per view, and one regex scan of the text settles every gate at once. The answers are exactly
those of checking each gate with `in`. Eligibility does the same for message metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .compiled import CompiledRule, Gate
from .matchers import literal_trie

_ASCII_DIGIT = re.compile(r"[0-9]")


def has_digit(text: str) -> bool:
    """Same answer as any(c.isdigit() for c in text), without a Python loop for ASCII text."""
    if _ASCII_DIGIT.search(text) is not None:
        return True
    # str.isdigit also accepts superscripts and other Unicode digits, which the regex does not.
    return not text.isascii() and any(c.isdigit() for c in text)


@dataclass(frozen=True)
class _Index:
    """All gates checked on one view, merged: literal -> mask of the gates that contain it.

    Literals of two or more characters are found by one regex, a trie of them all inside a
    lookahead, so it reports at every position the longest literal starting there (overlaps
    included). Every other literal starting at that position is a prefix of that one, so each
    literal's mask already includes the masks of the literals that are its prefixes: the
    union over the matches is then exactly the gates whose literals occur in the text.
    """

    finder: re.Pattern[str] | None  # the lookahead trie over the long literals
    masks: dict[str, int]  # long literal -> gates containing it or one of its prefixes
    # Single characters ("?", "£", emoji), tested with `in`: in the trie, common ones such as
    # "," would each add a match to loop over at every occurrence.
    short: tuple[tuple[str, int], ...]
    digit: int  # gates satisfied by any digit in the text

    @classmethod
    def of(cls, gates: Iterable[tuple[int, Gate]]) -> _Index:
        masks: dict[str, int] = {}
        digit = 0
        for bit, gate in gates:
            for atom in gate.atoms:
                masks[atom] = masks.get(atom, 0) | bit
            if gate.digit:
                digit |= bit
        long = {a: m for a, m in masks.items() if len(a) >= 2}
        closed = {
            atom: _union(long.get(atom[:k], 0) for k in range(2, len(atom) + 1))
            for atom in sorted(long)
        }
        finder = re.compile(f"(?=({literal_trie(long)}))") if long else None
        short = tuple((a, m) for a, m in sorted(masks.items()) if len(a) < 2)
        return cls(finder, closed, short, digit)

    def scan(self, text: str, digit: bool) -> int:
        """Mask of the gates that pass on ``text``."""
        passed = self.digit if digit else 0
        if self.finder is not None:
            masks = self.masks
            for atom in self.finder.findall(text):
                passed |= masks[atom]
        for atom, mask in self.short:
            if mask & ~passed and atom in text:
                passed |= mask
        return passed


def _union(masks: Iterable[int]) -> int:
    out = 0
    for mask in masks:
        out |= mask
    return out


@dataclass(frozen=True)
class Prefilter:
    """Which rules could possibly match a message, and with which alternatives.

    Gate bits: i for rule i's own gate, n + i for its `requires:` gate; above 2n, given out
    rule by rule, one per context term list (`requires:`, `unless:`, `modifiers:`) and one per
    alternative of its matcher (from ``shifts[i]`` on). Whatever has no gate has its bit set
    in ``always``. A rule may run when both of its first two bits are set; a term list can
    match only if its bit is. Rules without a gate of their own are not prefiltered at all.
    """

    size: int
    always: int
    shifts: dict[int, int]  # rule index -> first bit of its alternatives
    # id of a rule's CompiledTerms -> (key shared by term lists with the same regexes, bit)
    terms: dict[int, tuple[int, int]]
    plain: _Index  # gates checked on the plain view (rules on the original text included)
    words: _Index  # gates checked on the words view, `requires:` gates included
    both: _Index  # all of them, for the common case where the two views are the same text

    @classmethod
    def of(cls, rules: Sequence[CompiledRule]) -> Prefilter:
        n = len(rules)
        always, shifts, bit = 0, {}, 2 * n
        plain: list[tuple[int, Gate]] = []
        words: list[tuple[int, Gate]] = []
        terms: dict[int, tuple[int, int]] = {}
        keys: dict[tuple[tuple[str, int], ...], int] = {}
        for i, rule in enumerate(rules):
            for t in (rule.requires, rule.unless, *rule.modifiers):
                if t is None or id(t) in terms:
                    continue
                key = keys.setdefault(tuple((r.pattern, r.flags) for r in t.regexes), len(keys))
                if t.gate is not None and rule.gate is not None and t is not rule.requires:
                    words.append((1 << bit, t.gate))  # (`requires:` has its own gate above)
                else:
                    always |= 1 << bit
                terms[id(t)] = (key, 1 << bit)
                bit += 1
            own = plain if rule.view in ("plain", "original") else words
            if rule.gate is None:
                always |= 1 << i
            else:
                own.append((1 << i, rule.gate))
                if rule.alternatives:  # a refinement of the rule's gate, off without it
                    shifts[i] = bit
                    own.extend((1 << (bit + k), a.gate) for k, a in enumerate(rule.alternatives))
                    bit += len(rule.alternatives)
            if rule.requires_gate is None:
                always |= 1 << (n + i)
            else:
                words.append((1 << (n + i), rule.requires_gate))
        both = _Index.of(plain + words)
        return cls(n, always, shifts, terms, _Index.of(plain), _Index.of(words), both)

    def scan(self, plain: str, words: str) -> int:
        """Mask of the gates that pass, given the plain and words views of a message."""
        passed = self.always
        if plain == words:  # no l33t or stretched letters: one scan serves both views
            return passed | self.both.scan(plain, has_digit(plain))
        passed |= self.plain.scan(plain, has_digit(plain))
        return passed | self.words.scan(words, has_digit(words))

    def runnable(self, passed: int) -> int:
        """Mask of the rules whose own gate and `requires:` gate both passed."""
        return passed & (passed >> self.size) & ((1 << self.size) - 1)

    def matcher(self, i: int, rule: CompiledRule, passed: int) -> re.Pattern[str] | None:
        """The regex to scan rule i with: its one possible alternative, or its whole matcher."""
        shift = self.shifts.get(i)
        if shift is None:
            return rule.matcher
        live = (passed >> shift) & ((1 << len(rule.alternatives)) - 1)
        if live and not live & (live - 1):  # exactly one bit: one alternative can match
            return rule.alternatives[live.bit_length() - 1].regex
        return rule.matcher


@dataclass(frozen=True)
class Eligibility:
    """Masks of the rules a message's metadata allows (page, staff, channel, attachments).

    The same answers as the per-rule filters they replace, as a few integer operations.
    """

    page: int  # rules that may run on the page's own posts (from_page is not "never")
    not_page: int  # rules that may run on anyone else's (from_page is not "only")
    not_staff: int  # rules that still run for staff accounts
    any_channel: int  # rules without a channel filter
    by_channel: dict[str, int]  # a channel name or kind -> rules that list it
    any_attachment: int  # rules without an attachment filter
    by_attachment: dict[str, int]  # an attachment type -> rules that list it

    @classmethod
    def of(cls, rules: Sequence[CompiledRule]) -> Eligibility:
        page = not_page = not_staff = any_channel = any_attachment = 0
        by_channel: dict[str, int] = {}
        by_attachment: dict[str, int] = {}
        for i, rule in enumerate(rules):
            bit = 1 << i
            page |= 0 if rule.from_page == "never" else bit
            not_page |= 0 if rule.from_page == "only" else bit
            not_staff |= 0 if rule.exempt_staff else bit
            any_channel |= 0 if rule.channels else bit
            for name in rule.channels:
                by_channel[name] = by_channel.get(name, 0) | bit
            any_attachment |= 0 if rule.attachments else bit
            for kind in rule.attachments:
                by_attachment[kind] = by_attachment.get(kind, 0) | bit
        return cls(
            page, not_page, not_staff, any_channel, by_channel, any_attachment, by_attachment
        )

    def mask(self, from_page: bool, staff: bool, channel: str, kind: str, kinds: set[str]) -> int:
        mask = self.page if from_page else self.not_page
        if staff:
            mask &= self.not_staff
        mask &= self.any_channel | self.by_channel.get(channel, 0) | self.by_channel.get(kind, 0)
        attached = self.any_attachment
        for name in kinds:
            attached |= self.by_attachment.get(name, 0)
        return mask & attached
