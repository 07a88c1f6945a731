"""Text normalisation with an offset map back to the original text.

Two views are built from every message:
- ``plain``: NFKC, case-folded, accents, zero-width and control characters removed, typographic
  quotes and dashes made ASCII, whitespace runs collapsed. Digits and symbols survive, so the
  personal-details detectors (phones, postcodes, NHS numbers) run on this view.
- ``words``: ``plain`` plus l33t digits/symbols turned back into letters ("k1ll mys3lf"),
  stretched letters squeezed ("killlll myself") and spaced-out letters joined ("k m s" reads
  "kms", "w h a t s the point" reads "whats the point"). Word and phrase rules run on this view,
  and so does the learned stage (rules/semantic/prepare.py).
Each view keeps, per character, the span of the original text it came from, so findings can
highlight exactly what the person wrote.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_ASCII_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u0060": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
    }
)
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_CHARS = frozenset(_LEET) | {"|"}
# Only tokens where a letter touches a l33t character can change ("k1ll", "$uicide").
_TOKEN = re.compile(r"(?<![a-z0-9@$!|])[a-z0-9@$!|]*(?:[a-z][0-9@$!|]|[0-9@$!|][a-z])[a-z0-9@$!|]*")
# What _deleet_token can change: a digit, "$" or "@" next to a letter ("@" not opening its
# token: "@user" is a mention), "!" or "|" between two letters. A text without any of these
# comes back from _TOKEN.sub unchanged. Written from the l33t character outwards, so the
# search jumps between those characters in C instead of trying every position.
_LEET_CHANGE = re.compile(
    r"[0-9@$!|](?:(?<=[a-z][0-9@$])|(?<=[0-9$])(?=[a-z])|(?<=[a-z0-9@$!|]@)(?=[a-z])"
    r"|(?<=[a-z][!|])(?=[a-z]))"
)
_STRETCHED_WORD = re.compile(r"[a-z]*([a-z])\1{2,}[a-z]*")
# Tokens that legitimately mix digits and letters: ordinals, times, units, UK postcodes,
# hex-ish ids. Turning "3rd" into "erd" or "sw1a" into "swia" would only cause harm.
_LEET_EXEMPT = re.compile(
    r"\d+(st|nd|rd|th|am|pm|k|m|mg|ml|kg|g|lbs?|s|h|hrs?|mins?|x|yo|yrs?|p|gb|mb)"
    r"|[a-z]+\d+"
)
_STRETCH = re.compile(r"([a-z])\1{2,}")
_TRIPLE = re.compile(r"([a-z])\1\1")  # is there a stretch at all: same answer, found sooner
# Three or more single letters separated by single spaces ("k m s", "e n d i t"): someone
# spelling a word out so that filters miss it. A run must stand alone, so "a b" or "i a" in
# ordinary text is left as it is.
_SPACED = re.compile(r"(?<![a-z0-9'])[a-z](?: [a-z]){2,}(?![a-z0-9'])")
# Full UK postcodes look like l33t ("sw1a 1aa", "ip4 2bx"); they are left exactly as written.
_POSTCODE_LIKE = re.compile(r"(?<![a-z0-9])[a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}(?![a-z0-9])")
# Whitespace other than a single space, in ASCII text that has no control characters
# (_ASCII_CONTROL): the same test as r"\s{2,}|[^\S ]", as one character class and a
# substring test that run in C rather than a pattern tried at every position.
_ODD_SPACE = re.compile(r"[\t-\r\x1c-\x1f]")
_ANY_SPACE = re.compile(r"\s+")
_ENTITY = re.compile(r"&(?:#\d{1,6}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
# Printable ASCII but "&" (an HTML entity may start there), single spaces only between
# characters: each maps to itself lower-cased ("`" to "'") and keeps its own offset.
_ASCII_RUN = re.compile(r"[!-%'-~]+(?: [!-%'-~]+)*")


@dataclass(frozen=True)
class View:
    """A normalised text plus the original span of each of its characters."""

    text: str
    starts: tuple[int, ...] | None = None  # None: identity mapping
    ends: tuple[int, ...] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of this view back onto the original text."""
        if self.starts is None or self.ends is None:
            return start, end
        if not self.starts:
            return 0, 0
        start = min(max(start, 0), len(self.starts) - 1)
        end = min(max(end, start + 1), len(self.ends))
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=4096)
def _norm_char(ch: str) -> str:
    """Normalise one character; "" drops it, " " marks whitespace."""
    cat = unicodedata.category(ch)
    if ch.isspace() or cat == "Zs":
        return " "
    if cat in ("Cf", "Cc", "Cs", "Co", "Mn", "Me") or 0xFE00 <= ord(ch) <= 0xFE0F:
        return ""  # zero-width, bidi, controls, combining marks, emoji variation selectors
    out = unicodedata.normalize("NFKC", ch).casefold().translate(_ASCII_QUOTES)
    if out.isascii():
        return out
    # Strip accents from letters ("kíll" -> "kill") but keep emoji and other symbols whole.
    decomposed = unicodedata.normalize("NFKD", out)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _ascii_plain(low: str) -> View:
    """ASCII text with whitespace runs: collapse them with slices instead of a char loop."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _ANY_SPACE.finditer(low):
        chars.append(low[pos : m.start()])
        starts.extend(range(pos, m.start()))
        ends.extend(range(pos + 1, m.start() + 1))
        if starts:  # leading whitespace is dropped; a run becomes one space
            chars.append(" ")
            starts.append(m.start())
            ends.append(m.end())
        pos = m.end()
    chars.append(low[pos:])
    starts.extend(range(pos, len(low)))
    ends.extend(range(pos + 1, len(low) + 1))
    return View("".join(chars), tuple(starts), tuple(ends))


def _plain(text: str) -> View:
    if text.isascii() and not _ASCII_CONTROL.search(text) and not _ENTITY.search(text):
        # Fast path: most comments are ASCII; lower() keeps length so the map is the identity.
        low = text.lower().replace("`", "'")
        if "  " not in low and not _ODD_SPACE.search(low) and not low[:1].isspace():
            return View(low)
        return _ascii_plain(low)
    chars: list[str] = []  # single characters, and runs of plain ASCII taken whole
    starts: list[int] = []
    ends: list[int] = []
    skip_to = 0
    pos = 0
    while pos < len(text):
        run = _ASCII_RUN.match(text, pos) if pos >= skip_to else None
        if run is not None:
            # Most of a text with an emoji or a curly quote is still plain ASCII: a run is
            # what the character loop below would produce, one character at a time.
            chars.append(run.group(0).lower().replace("`", "'"))
            starts.extend(range(pos, run.end()))
            ends.extend(range(pos + 1, run.end() + 1))
            pos = run.end()
            continue
        i, ch = pos, text[pos]
        pos += 1
        if i < skip_to:
            if ends:
                ends[-1] = i + 1  # the rest of an HTML entity belongs to its character
            continue
        entity = _ENTITY.match(text, i) if ch == "&" else None
        decoded = html.unescape(entity.group(0)) if entity is not None else ""
        # Only a real entity is read as one: "&Jerry;" is text, and "&notit;" would decode
        # to "¬it;", which would map its letters onto the "&" instead of what was written.
        if entity is not None and len(decoded) <= 2 and decoded != entity.group(0):
            # Exports and some APIs keep "&amp;", "&#39;": read them as the character.
            ch = decoded
            skip_to = entity.end()
            out = "".join(_norm_char(c) for c in ch)
            if out:
                chars.extend(out)
                starts.extend([i] * len(out))
                ends.extend([i + 1] * len(out))
                ends[-1] = skip_to
            continue
        out = _norm_char(ch)
        if out == " " and (not chars or chars[-1] == " "):
            out = ""  # collapse whitespace runs; leading whitespace dropped
        if not out:
            if ends:
                ends[-1] = i + 1  # dropped characters belong to the previous kept one
            continue
        for c in out:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return View("".join(chars), tuple(starts), tuple(ends))


def _deleet_token(tok: str) -> str:
    if not any(c.isalpha() for c in tok) or _LEET_EXEMPT.fullmatch(tok):
        return tok
    letters = sum(c.isalpha() for c in tok)
    if letters < 2:
        return tok
    out = []
    for j, c in enumerate(tok):
        if c in _LEET_CHARS:
            prev_alpha = j > 0 and tok[j - 1].isalpha()
            next_alpha = j + 1 < len(tok) and tok[j + 1].isalpha()
            # "!" and "|" only inside words ("k!ll"), never trailing punctuation ("help!!").
            if c in "!|" and not (prev_alpha and next_alpha):
                out.append(c)
                continue
            if c == "@" and j == 0:
                out.append(c)  # "@user" is a mention, not l33t
                continue
            if prev_alpha or next_alpha:
                out.append("l" if c == "|" else _LEET[c])
                continue
        out.append(c)
    return "".join(out)


def _squeeze_choice(word: str, vocab: frozenset[str]) -> str:
    """Pick 1 or 2 letters for each stretched run, preferring a word the rules know."""
    runs = list(_STRETCH.finditer(word))
    options = [""]
    pos = 0
    for m in runs[:4]:
        pre = word[pos : m.start()]
        options = [o + pre + m.group(1) * k for o in options for k in (1, 2)]
        pos = m.end()
    tail = word[pos:]
    options = [_STRETCH.sub(r"\1", o + tail) for o in options]
    for o in options:
        if o in vocab:
            return o
    return options[0]


def _words(plain: View, vocab: frozenset[str]) -> View:
    return _unspace(_delete_and_squeeze(plain, vocab))


def _unspace(view: View) -> View:
    """Join spaced-out letters; the dropped spaces belong to the letter before them."""
    text = view.text
    if " " not in text or _SPACED.search(text) is None:
        return view
    n = len(text)
    v_starts = view.starts if view.starts is not None else range(n)
    v_ends = view.ends if view.ends is not None else range(1, n + 1)
    drop = {m.start() + k for m in _SPACED.finditer(text) for k in range(1, m.end() - m.start(), 2)}
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for k in range(n):
        if k in drop:
            ends[-1] = v_ends[k]
            continue
        chars.append(text[k])
        starts.append(v_starts[k])
        ends.append(v_ends[k])
    return View("".join(chars), tuple(starts), tuple(ends))


def _delete_and_squeeze(plain: View, vocab: frozenset[str]) -> View:
    text = plain.text
    # Most texts have no l33t character next to a letter, or only in ways _deleet_token leaves
    # alone ("@user", "help!"): then the token rewrite is skipped.
    has_leet = _LEET_CHANGE.search(text) is not None
    has_stretch = _TRIPLE.search(text) is not None
    if not has_leet and not has_stretch:
        return plain
    if has_leet:
        # l33t substitution is one character for one, so the offset map is unchanged.
        keep = [m.span() for m in _POSTCODE_LIKE.finditer(text)]

        def fix(m: re.Match[str]) -> str:
            if any(s <= m.start() < e for s, e in keep):
                return m.group(0)
            return _deleet_token(m.group(0))

        text = _TOKEN.sub(fix, text)
    if not _TRIPLE.search(text):
        return View(text, plain.starts, plain.ends)
    n = len(text)
    p_starts = plain.starts if plain.starts is not None else range(n)
    p_ends = plain.ends if plain.ends is not None else range(1, n + 1)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _STRETCHED_WORD.finditer(text):
        word = m.group(0)
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end() : m.end() + 2]
        in_link = (
            before in "./@:" or after[:1] in "/@:" or (after[:1] == "." and after[1:].isalpha())
        )
        if in_link or word == "www":
            continue  # parts of links and addresses ("www.", "zzz.co.uk") are left alone
        for k in range(pos, m.start()):
            chars.append(text[k])
            starts.append(p_starts[k])
            ends.append(p_ends[k])
        target = _squeeze_choice(word, vocab)
        # Walk the stretched word and keep characters that the target still needs.
        t = 0
        for k in range(m.start(), m.end()):
            c = text[k]
            if t < len(target) and target[t] == c:
                chars.append(c)
                starts.append(p_starts[k])
                ends.append(p_ends[k])
                t += 1
            elif ends:
                ends[-1] = p_ends[k]
        pos = m.end()
    for k in range(pos, n):
        chars.append(text[k])
        starts.append(p_starts[k])
        ends.append(p_ends[k])
    return View("".join(chars), tuple(starts), tuple(ends))


@dataclass(frozen=True)
class Normalised:
    original: str
    plain: View
    words: View


def normalise(text: str, vocab: Iterable[str] = ()) -> Normalised:
    """Build the plain and words views of ``text``."""
    vocab_set = vocab if isinstance(vocab, frozenset) else frozenset(vocab)
    plain = _plain(text)
    return Normalised(text, plain, _words(plain, vocab_set))
