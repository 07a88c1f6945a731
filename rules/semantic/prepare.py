"""What the learned stage reads: the rules' `words` view, with slang spelled out and emoji named.

A sentence-embedding model learned English from books and the web: it knows "kill myself" but
not "kms", "unalive" or "sewerslide", which people use precisely because filters miss them, and
it sees an emoji as an unknown token. So before a message is embedded it goes through the same
normalisation as the rules (l33t, stretched and spaced-out letters undone), then the handful of
euphemisms and abbreviations people use for suicide, self-harm and overdose are written out, and
every emoji becomes its name ("🪦" reads "headstone", "😂" "face with tears of joy"), which is
what lets the model tell "can't do this anymore 😂" from "can't do this anymore 💊".

The prepared text is only ever embedded; spans shown to people point into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..normalize import normalise

# Written out as the people who use them mean them. Word-bounded, on the lower-cased words
# view. Kept short on purpose: this spells out shorthand, it is not a list of risk phrases.
_SLANG: tuple[tuple[str, str], ...] = (
    (r"kms|kmsl", "kill myself"),
    (r"kys", "kill yourself"),
    (r"unalive(?:d|ing)? (myself|me)", "kill myself"),
    (r"unalive(?:d|ing|s)?", "kill"),
    (r"sewer ?slide", "suicide"),
    (r"sewer ?slidal", "suicidal"),
    (r"s ?/ ?h|s\.h\.?", "self harm"),
    (r"sh(?= (?:urges?|relapse|again|scars?|free|clean|wounds?|cuts?))", "self harm"),
    (r"ctb", "end my life"),
    (r"od(?:'?d|ing)?|o\.d\.?", "overdose"),
    (r"su?icidal", "suicidal"),
)
_SLANG_RE = [(re.compile(rf"(?<![a-z0-9']){pattern}(?![a-z0-9'])"), sub) for pattern, sub in _SLANG]

# Names Unicode gives that say less than the picture means in a message like these.
_EMOJI_MEANING = {
    "🪦": "grave",
    "⚰": "coffin",
    "💊": "pills",
    "🔪": "knife",
    "🌉": "bridge",
    "🩸": "blood",
    "🪢": "rope",
    "🚆": "train",
    "🚂": "train",
    "💀": "skull",
    "🔫": "gun",
}


@lru_cache(maxsize=4096)
def _emoji_name(ch: str) -> str:
    if ch in _EMOJI_MEANING:
        return _EMOJI_MEANING[ch]
    name = unicodedata.name(ch, "")
    return name.lower() if name else ""


def _is_symbol(ch: str) -> bool:
    return unicodedata.category(ch) == "So" and ord(ch) > 0x2000


# Letters spaced out with a wider gap between words ("m y  s o n  s a y s"): the rules' view
# collapses the gaps, so the word boundaries are read here, from the text as written.
_SPACED_WORDS = re.compile(r"(?<!\S)\S(?: \S)+(?:  +\S(?: \S)*)+(?!\S)")


def _unspace_words(match: re.Match[str]) -> str:
    return " ".join(word.replace(" ", "") for word in re.split(r"  +", match.group(0)))


def prepare(text: str) -> str:
    """The text the learned stage embeds, for one message or one chunk of it."""
    if "  " in text:
        text = _SPACED_WORDS.sub(_unspace_words, text)
    words = normalise(text).words.text
    for pattern, sub in _SLANG_RE:
        words = pattern.sub(sub, words)
    if any(_is_symbol(ch) for ch in words):
        out: list[str] = []
        last = ""
        for ch in words:
            if _is_symbol(ch):
                name = _emoji_name(ch)
                if name and name != last:  # "😭😭😭" reads once
                    out.append(f" ({name}) ")
                last = name
            else:
                out.append(ch)
                if not ch.isspace():
                    last = ""
        words = re.sub(r"\s+", " ", "".join(out)).strip()
    return words
