"""Normalisation: obfuscation undone, spans mapped back onto the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Message, load_ruleset, normalise

RULESET = load_ruleset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k1ll mys3lf", "kill myself"),
        ("killlll myself", "kill myself"),
        ("ＫＩＬＬ ＭＹＳＥＬＦ", "kill myself"),
        ("kill\u200b my\u00adself", "kill myself"),
        ("kíll  myself", "kill myself"),
        ("$uicide", "suicide"),
    ],
)
def test_obfuscation_is_undone(text: str, expected: str) -> None:
    assert normalise(text, {"kill"}).words.text == expected


@pytest.mark.parametrize(
    "text", ["sw1a 1aa", "3rd of may", "10am", "0800 138 0509", "help!!", "@user"]
)
def test_digits_and_symbols_that_are_not_leet_survive(text: str) -> None:
    assert normalise(text).words.text == text


def test_emoji_are_kept_as_signals() -> None:
    assert "😢" in normalise("so sad 😢\ufe0f").words.text


@pytest.mark.parametrize(
    ("text", "highlight"),
    [
        ("honestly i want to k1ll mys3lf", "k1ll mys3lf"),
        ("i want to killlll myself!!", "killlll myself"),
        ("😢😢 I want to ＥＮＤ ＩＴ ＡＬＬ", "ＥＮＤ ＩＴ ＡＬＬ"),
        ("zero\u200bwidth: i want to end\u200b it all", "end\u200b it all"),
        ("Call me on 07700 900123\u200b", "07700 900123"),
    ],
)
def test_spans_point_into_the_original_text(text: str, highlight: str) -> None:
    findings = RULESET.evaluate(Message(text))
    assert findings, text
    spans = {text[s:e] for f in findings for s, e in f.spans}
    assert any(highlight in span for span in spans), spans
    # Highlights start and end on what the person wrote, not inside an obfuscated word.
    assert all(span == span.strip() for span in spans)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_evaluates_with_spans_in_bounds(text: str) -> None:
    for finding in RULESET.evaluate(Message(text)):
        for start, end in finding.spans:
            assert 0 <= start < end <= len(text)
        assert 0.0 <= finding.score <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_normalised_views_map_every_character(text: str) -> None:
    norm = normalise(text, {"kill"})
    for view in (norm.plain, norm.words):
        if view.text:
            start, end = view.to_original(0, len(view.text))
            assert 0 <= start <= end <= len(text)
