"""Property-based drills on the pure parts: the text normaliser, the rules engine and webhook
parsing (down to the stored row), fed arbitrary Unicode with the awkward parts made likely:
NUL and other controls, bidi marks, zero-width joiners, combining marks, emoji sequences,
ligatures and letters whose case-fold is longer than they are, HTML entities and l33t.

Each must never raise, keep every span inside the text it came from, map each normalised
character back to what the person wrote, and give the same answer for the same input.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.app import create_app
from bot.db import session_scope
from bot.models import Item
from rules import CATEGORIES, Attachment, Message, load_ruleset, normalise
from rules.model import CHANNELS, SEVERITIES
from tests.helpers import make_settings, page_comment, signed_post
from webhooks.events import parse_payload

pytestmark = pytest.mark.drill

PROPERTIES = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
RULESET = load_ruleset()
VOCAB = RULESET.vocab

AWKWARD = [
    "\x00", "\x07", "\x1b", "\x7f", "\t", "\r\n", "\u00a0", "\u2028", "\u3000",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\ufeff",
    "\u0301", "\u0336", "\u20dd", "\ufe0f", "e\u0301", "\U000e0041",
    "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1ec\U0001f1e7",
    "\ufb01", "\u0130", "\u00df", "\u1e9e", "\u0149", "\uff2b\uff29\uff2c\uff2c", "\u2460",
    "&amp;", "&#39;", "&#x1F600;", "&lt;b&gt;", "&nbsp;", "&bogus;",
    "k1ll", "$uicide", "killlll", "h3lp", "sw1a 1aa", "07700 900123", "@user", "help!!",
    "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "\u0939\u093f\u0928\u094d",
    "\U00010000", "\U0010fffd", "\uffff",
    "kill myself", "I want to end it all", "please help me", "nobody listens",
]  # fmt: skip
# Marks, symbols and emoji only: no words a rule could read as context.
NOISE = [a for a in AWKWARD if not any(c.isalnum() for c in a)]
# Any code point but lone surrogates (which cannot arrive in UTF-8 JSON), mixed with the above.
ANY_CHAR = st.characters(exclude_categories=("Cs",))
TEXT = st.lists(
    st.one_of(st.text(ANY_CHAR, max_size=8), st.sampled_from(AWKWARD)), max_size=20
).map("".join)


def _check_view(text: str, view) -> None:  # type: ignore[no-untyped-def]
    if view.starts is None:
        assert view.ends is None and len(view.text) == len(text)
        return
    assert len(view.starts) == len(view.ends) == len(view.text)
    previous = 0
    for start, end in zip(view.starts, view.ends, strict=True):
        assert 0 <= start < end <= len(text)
        assert start >= previous  # the views keep the original's order
        previous = start


@PROPERTIES
@given(TEXT)
def test_normaliser_maps_every_character_back_into_the_text(text: str) -> None:
    norm = normalise(text, VOCAB)
    assert norm.original == text
    for view in (norm.plain, norm.words):
        _check_view(text, view)
        for i in range(len(view.text)):
            start, end = view.to_original(i, i + 1)
            assert 0 <= start < end <= len(text)
        if view.text:
            start, end = view.to_original(0, len(view.text))
            assert 0 <= start < end <= len(text)
    assert normalise(text, VOCAB) == norm


@PROPERTIES
@given(TEXT)
def test_each_plain_character_comes_from_its_span(text: str) -> None:
    """What a finding highlights is what produced the match: normalising a character's
    original span on its own gives that character back."""
    plain = normalise(text).plain
    for i, char in enumerate(plain.text):
        if char == " ":
            continue  # a space stands for a whole run of whitespace and invisibles
        start, end = plain.to_original(i, i + 1)
        assert char in normalise(text[start:end]).plain.text, (char, text[start:end])


@PROPERTIES
@given(TEXT, st.sampled_from(sorted(CHANNELS)), st.booleans(), st.booleans())
def test_rules_never_crash_keep_spans_in_the_text_and_repeat_themselves(
    text: str, channel: str, from_page: bool, photo: bool
) -> None:
    attachments = (Attachment("image", "https://example.org/p.jpg"),) if photo else ()
    message = Message(
        text=text,
        channel=channel,
        platform="instagram" if channel.startswith("ig_") else "facebook",
        attachments=attachments,
        from_page=from_page,
        author_id="6000000000000042",
    )
    findings = RULESET.evaluate(message)
    for finding in findings:
        assert finding.category in CATEGORIES and finding.severity in SEVERITIES
        assert 0.0 <= finding.score <= 1.0
        assert finding.span is None or finding.span in finding.spans  # the best-scoring one
        for start, end in finding.spans:
            assert 0 <= start < end <= len(text)
    assert len({f.rule for f in findings}) == len(findings)  # one finding per rule
    assert RULESET.evaluate(message) == findings


EXAMPLES = sorted({ex.text for rule in RULESET.rules for ex in rule.must_match if ex.text})


@PROPERTIES
@given(st.sampled_from(EXAMPLES), st.sampled_from(NOISE), st.sampled_from(NOISE))
def test_a_known_match_keeps_its_span_when_noise_is_around_it(
    example: str, before: str, after: str
) -> None:
    """Noise before and after moves a span by exactly the prefix's length, or the rule no
    longer fires at all (a mark can be context, such as a quote): never a span that points at
    the noise instead of the words."""
    plain = {f.rule: f.spans for f in RULESET.evaluate(Message(example))}
    prefix = f"{before} \n"
    noisy = {f.rule: f.spans for f in RULESET.evaluate(Message(f"{prefix}{example}\n {after}"))}
    for rule, spans in noisy.items():
        if rule in plain and spans and plain[rule]:
            assert spans[0] == tuple(s + len(prefix) for s in plain[rule][0]), rule


@PROPERTIES
@given(TEXT)
def test_parsed_text_is_what_was_written_and_keys_survive_reserialising(text: str) -> None:
    payload = page_comment(text)
    (item,) = parse_payload(payload).items
    assert item.text == text.replace("\x00", "\ufffd")
    for form in (
        json.dumps(payload, ensure_ascii=False),
        json.dumps(payload, ensure_ascii=True, indent=2, sort_keys=True),
    ):
        (again,) = parse_payload(json.loads(form)).items
        assert again.delivery_key == item.delivery_key and again.text == item.text


@pytest.fixture(scope="module")
def webhook_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One app on SQLite for every example; nothing is enqueued (no queue runs here)."""

    class NoQueue:
        def enqueue(self, *args: object, **kwargs: object) -> None:
            return None

    tmp: Path = tmp_path_factory.mktemp("webhook-properties")
    app = create_app(make_settings(tmp), enqueuer=NoQueue())
    yield app
    app.extensions["haven"].engine.dispose()


_SERIAL = itertools.count()


@PROPERTIES
@given(text=TEXT)
def test_any_text_posted_as_a_webhook_is_stored_exactly_once(
    webhook_app,  # type: ignore[no-untyped-def]
    text: str,
) -> None:
    serial = next(_SERIAL)  # a new comment per example
    client = webhook_app.test_client()
    payload = page_comment(text, comment=f"p{serial}")
    first = signed_post(client, payload)
    again = signed_post(client, json.dumps(payload, ensure_ascii=False).encode())
    assert first.status_code == again.status_code == 200
    assert first.get_json()["stored"] + again.get_json()["stored"] <= 1
    with session_scope(webhook_app.extensions["haven"].engine) as session:
        rows = session.exec(
            select(Item).where(Item.external_id == f"900000000000001_p{serial}")
        ).all()
        assert len(rows) == 1
        assert rows[0].text == text.replace("\x00", "\ufffd")
