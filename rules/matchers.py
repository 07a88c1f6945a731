"""Compile phrase lists and regexes once, at load time.

Phrases are what an admin types ("kill myself", "scam*", "don't want to be here"): they are
normalised like message text, matched on word boundaries, a space also matches "-", "_" or no
gap ("self harm", "self-harm", "selfharm"), an apostrophe is optional ("dont" = "don't") and a
trailing `*` matches any word ending. Long lists compile into one trie-shaped regex so a
200-phrase list costs about as much as one pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .normalize import normalise

_GAP = r"[\s_-]*"
_WILD = "\ue000"  # a trailing `*` becomes this marker; an inner `*` ("f*ck") stays literal


def normalise_phrase(phrase: str) -> str:
    phrase = phrase.strip()
    wild = phrase.endswith("*") and len(phrase) > 1
    text = normalise(phrase.rstrip("*") if wild else phrase).words.text
    return text + _WILD if wild else text


def _fragment(ch: str) -> str:
    if ch == " ":
        return _GAP
    if ch == "'":
        return "'?"
    if ch == _WILD:
        return r"\w*"
    return re.escape(ch)


def _trie_regex(words: Iterable[str], fragment: Callable[[str], str] = _fragment) -> str:
    """Build a regex alternation shaped like a trie (shared prefixes factored out)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        end = "" in node
        branches = [fragment(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            body = "(?:" + body + ")?"
        return body

    return walk(trie)


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a list of phrases, with word boundaries where the phrase has word edges."""
    buckets: dict[tuple[bool, bool], set[str]] = {}
    for raw in phrases:
        phrase = normalise_phrase(raw)
        if not phrase:
            continue
        key = (phrase[0].isalnum(), phrase[-1].isalnum() or phrase.endswith(_WILD))
        buckets.setdefault(key, set()).add(phrase)
    if not buckets:
        return None
    parts = []
    for (left, right), words in sorted(buckets.items()):
        body = _trie_regex(sorted(words))
        parts.append(
            ("(?<!\\w)" if left else "") + "(?:" + body + ")" + ("(?!\\w)" if right else "")
        )
    return re.compile("|".join(parts))


def literal_trie(literals: Iterable[str]) -> str:
    """A regex matching any of ``literals`` exactly, the longest one where several could."""
    return _trie_regex(sorted(set(literals)), re.escape)


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str] | None:
    pats = list(patterns)
    if not pats:
        return None
    return re.compile("|".join(f"(?:{p})" for p in pats))


def vocabulary(phrases: Iterable[str], patterns: Iterable[str]) -> set[str]:
    """Words the rules know, used to squeeze stretched letters back to a real word."""
    vocab: set[str] = set()
    for phrase in phrases:
        vocab.update(re.findall(r"[a-z]+", normalise_phrase(phrase)))
    for pattern in patterns:
        vocab.update(w for w in re.findall(r"[a-z]{3,}", pattern.lower()))
    return vocab


# --- prefilter ---------------------------------------------------------------------------
# Most rules cannot match most messages. For each compiled regex we work out a set of literal
# strings of which every match must contain at least one (as RE2's prefilter does), so the
# engine can skip a rule with a few substring tests instead of a regex scan. The analysis is
# conservative: whenever it is unsure it returns None and the rule always runs.

DIGIT = "\x00digit"  # sentinel atom: "the text contains a digit"

try:  # the parser moved in 3.11; importing the old name warns
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _sre = None  # type: ignore[assignment]


def _is_digit_class(items: list) -> bool:
    for op, av in items:
        if op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            continue
        if op is _c.RANGE and 48 <= av[0] <= av[1] <= 57:
            continue
        if op is _c.LITERAL and 48 <= av <= 57:
            continue
        return False
    return bool(items)


# Atoms that are in almost every message filter nothing; prefer any other choice.
_COMMON = frozenset(
    """i a an the to of in on at it is be me my we he she you and or so not do for with that this
    are was have has had i'm im as by if no can will would should could want when what where who
    how why just know need please help all any get got one out like about there they them their
    been time don't dont can't cant feel think go going some now then much people life day really
    make take never ever also more very here from your our his her its was were am us up down off
    over back still even well way say said see look thing things good bad new old last
    first""".split()
)


def _atom_rank(atom: str) -> int:
    """How selective an atom is likely to be (higher is better)."""
    if atom == DIGIT:
        return 2
    core = atom.strip()
    if not core or core in _COMMON:
        return 0
    if len(core) == 1 and not core.isalnum():
        return 1 if core in ",.'!?-:;\"()" else 4  # £, $, @, / are rarer than letters
    return min(len(core), 6)


def _rank(atoms: frozenset[str]) -> tuple[int, float, int]:
    ranks = [_atom_rank(a) for a in atoms]
    return (min(ranks), sum(ranks) / len(ranks), -len(atoms))


def _atoms(seq) -> frozenset[str] | None:
    cands: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        literal = "".join(run).lower().strip()  # " to " present implies "to" present
        if literal:  # short literals ("i", "dv") still filter, just less sharply
            cands.append(frozenset([literal]))
        run.clear()

    for op, av in seq:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if op in (_c.AT, _c.ASSERT_NOT) or (op is _c.ASSERT and av[0] < 0):
            continue  # zero-width: the characters either side are still adjacent
        if op is _c.ASSERT:
            # A lookahead's text must be present too, though it is not part of the run.
            ahead = _atoms(av[1])
            if ahead:
                cands.append(ahead)
            continue
        flush()
        sub: frozenset[str] | None = None
        if op is _c.SUBPATTERN:
            sub = _atoms(av[-1])
        elif op is _c.BRANCH:
            parts = [_atoms(branch) for branch in av[1]]
            if all(p is not None for p in parts):
                sub = frozenset().union(*parts)  # type: ignore[arg-type]
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            if av[0] >= 1:
                sub = _atoms(av[2])
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            sub = _atoms(av)
        elif op is _c.IN and _is_digit_class(av):
            sub = frozenset([DIGIT])
        elif op is _c.IN and 0 < len(av) <= 6 and all(o is _c.LITERAL for o, _ in av):
            sub = frozenset(chr(v).lower() for _, v in av)  # a small class such as [£$€]
        if sub:
            cands.append(sub)
    flush()
    if not cands:
        return None
    return max(cands, key=_rank)


def literal_atoms(pattern: str) -> frozenset[str] | None:
    """Literals (lower case) one of which every match of ``pattern`` contains, or None."""
    if _sre is None:
        return None
    try:
        return _atoms(_sre.parse(pattern))
    except Exception:  # unusual syntax: never filter rather than risk a missed match
        return None


def plain_atom(atom: str) -> str:
    """An atom as it appears in the plain view (for rules matched on the original text)."""
    return atom if atom == DIGIT else normalise(atom).plain.text.strip()


def phrase_atoms(phrases: Iterable[str]) -> frozenset[str] | None:
    """The longest literal piece of each phrase: every phrase match contains it."""
    atoms = set()
    for raw in phrases:
        pieces = [p for p in re.split(f"[ '{_WILD}]+", normalise_phrase(raw)) if p]
        if not pieces:
            return None
        # The rarest-looking piece: not a common word, then the longest.
        atoms.add(max(pieces, key=lambda p: (p not in _COMMON and len(p) >= 3, len(p))))
    return frozenset(atoms) if atoms else None


def gate_of(regexes) -> frozenset[str] | None:
    """Union of atoms over several alternative regexes; None if any cannot be filtered."""
    atoms: set[str] = set()
    for regex in regexes:
        found = literal_atoms(regex.pattern)
        if found is None:
            return None
        atoms |= found
    return frozenset(atoms) if atoms else None
