"""What the learned stage reads: slang written out, emoji named, obfuscation undone."""

from __future__ import annotations

import pytest

from rules import normalise
from rules.semantic.prepare import prepare


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s/h is bad again", "self harm is bad again"),
        ("gonna kms tbh", "gonna kill myself tbh"),
        ("thinking about sewerslide", "thinking about suicide"),
        ("i want to unalive myself", "i want to kill myself"),
        ("3 months sh free", "3 months self harm free"),
        ("OD'd last year", "overdose last year"),
        ("k1ll mys3lf", "kill myself"),
        ("w h a t s the point", "whats the point"),
        ("m y  d a d  w a n t s  t o  d i e", "my dad wants to die"),
    ],
)
def test_shorthand_and_obfuscation_are_written_out(text: str, expected: str) -> None:
    assert prepare(text) == expected


@pytest.mark.parametrize("text", ["shout out to Sharon", "she's a star", "the od one out"])
def test_ordinary_words_that_look_like_shorthand_are_left_alone(text: str) -> None:
    assert "self harm" not in prepare(text) and "kill" not in prepare(text)


def test_emoji_become_words_once_per_run() -> None:
    assert (
        prepare("can't do this anymore 😂😂😂") == "can't do this anymore (face with tears of joy)"
    )
    assert prepare("done 💊 🪦") == "done (pills) (grave)"


def test_spaced_letters_are_joined_in_the_rules_view_with_spans_kept() -> None:
    text = "why bother. k m s"
    words = normalise(text).words
    assert words.text == "why bother. kms"
    start = words.text.index("kms")
    assert words.to_original(start, start + 3) == (12, 17)
    assert normalise("plan a b or c").words.text == "plan a b or c"  # two letters: left alone
