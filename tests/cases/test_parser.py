"""rules/consent.py: the person's written answer read as given / declined / withdrawn / unclear."""

from __future__ import annotations

import pytest

from rules.consent import (
    CONSENT_NO,
    CONSENT_QUICK_REPLIES,
    CONSENT_STOP,
    CONSENT_YES,
    HAVEN_PAYLOAD_PREFIX,
    normalise_answer,
    read_consent,
)

GIVEN = [
    "yes", "Yes please", "yes pls", "YES!", "yeah ok", "Yeah, OK", "yep", "yup", "aye",
    "go on then", "Go on then x", "go ahead", "sure", "ok", "okay", "alright then",
    "that would be lovely, thank you", "That'd be great", "sounds good to me",
    "I'd like that", "I don't mind", "of course", "absolutely", "please", "Thanks, yes please",
    "Hi yes", "yes please, what happens next?", "no worries, go ahead", "I consent",
    "you have my permission", "Yeeees", "yesss", "👍", "👍🏽", "✅", "yes 😊", "ok 👍",
    "ＹＥＳ", "y\u200bes", "Yes\u00a0please", "уes",  # fullwidth, zero-width, NBSP, Cyrillic у
    "Deffo", "Happy for you to do that", "Count me in",
]  # fmt: skip
DECLINED = [
    "no", "No thanks", "no thank you", "Nope", "nah I'm good", "not right now", "Not now",
    "not at the moment", "not at the minute", "not yet", "maybe later", "I'd rather not",
    "not interested", "I'm alright thanks", "I'm fine thanks", "Definitely not",
    "of course not", "no way", "Noooo", "👎", "❌", "I don't want to", "I do not consent",
]  # fmt: skip
WITHDRAWN = [
    "stop", "STOP", "Please stop messaging me", "stop messaging me", "leave me alone",
    "I've changed my mind", "changed my mind", "I want to withdraw", "unsubscribe",
    "don't contact me again", "no, stop", "🛑", "I no longer want this", "not anymore",
]  # fmt: skip
UNCLEAR = [
    "not sure", "I'm not sure", "Not sure tbh", "maybe", "I don't know", "dunno",
    "what do you mean?", "what happens next?", "ok thanks", "Cheers", "❤️", "🙏", "",
    "   ", "hmm", "I haven't changed my mind", "please don't stop", "I can't stop crying",
    "Yes but can it be a woman?", "no problem", "No, I'd love that", "yes... no",
    "I'm ok", "it depends", "1",
]  # fmt: skip


@pytest.mark.parametrize("text", GIVEN)
def test_yes_and_its_everyday_variants_are_consent(text: str) -> None:
    assert read_consent(text).intent == "given"


@pytest.mark.parametrize("text", DECLINED)
def test_no_and_not_now_decline(text: str) -> None:
    assert read_consent(text).intent == "declined"


@pytest.mark.parametrize("text", WITHDRAWN)
def test_stop_and_a_change_of_mind_withdraw(text: str) -> None:
    assert read_consent(text).intent == "withdrawn"


@pytest.mark.parametrize("text", UNCLEAR)
def test_doubt_negation_and_noise_are_unclear_never_guessed(text: str) -> None:
    reading = read_consent(text)
    assert reading.intent == "unclear"
    assert reading.intent != "given"


@pytest.mark.parametrize(
    ("payload", "intent"),
    [(CONSENT_YES, "given"), (CONSENT_NO, "declined"), (CONSENT_STOP, "withdrawn")],
)
def test_button_payloads_decide_whatever_the_title_says(payload: str, intent: str) -> None:
    reading = read_consent("Something else entirely", payload)
    assert (reading.intent, reading.via) == (intent, "payload")


def test_an_unknown_payload_falls_back_on_the_words() -> None:
    assert read_consent("no thanks", "GET_STARTED").intent == "declined"
    assert read_consent(None, "GET_STARTED").intent == "unclear"


def test_the_quick_replies_fit_meta_limits_and_carry_haven_payloads() -> None:
    assert len(CONSENT_QUICK_REPLIES) <= 13
    for title, payload in CONSENT_QUICK_REPLIES:
        assert 0 < len(title) <= 20
        assert payload.startswith(HAVEN_PAYLOAD_PREFIX)
        # Read from its title alone, each button means what its payload says.
        assert read_consent(title).intent == read_consent("", payload).intent


def test_normalisation_removes_tricks_but_keeps_words() -> None:
    assert normalise_answer("Ｙｅｓ\u200d  PLEASE 👍🏿") == "yes please yes"
    assert normalise_answer("Yessss") == "yes"
    assert normalise_answer("I\u2019ve changed my mind") == "i've changed my mind"


def test_the_reason_never_repeats_the_words() -> None:
    text = "yes please, my name is Jo Walker"
    assert "Jo" not in read_consent(text).reason
