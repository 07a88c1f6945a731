"""The ten messages of issue 14, judged by the detector as shipped (rules + learned stage).

Written for the issue from no evaluation set, and kept out of the training corpus (a test in
test_corpus.py checks the corpus for them).
"""

from __future__ import annotations

import pytest

from bot.semantic import detection_ruleset
from rules import Message, RulesConfig
from rules.model import categories_of, top_of

pytestmark = pytest.mark.usefixtures("embedder")  # skips with the reason when not installed

EXAMPLES: list[tuple[str, set[str], set[str]]] = [
    # (message, categories it must have, top categories it must not have)
    ("s/h is getting bad again, hiding it under long sleeves", {"risk.self_harm"}, set()),
    ("Sorry everyone, I don't think I'll be around much longer", {"risk.suicide"}, set()),
    (
        "I drove to the reservoir last night and just sat there thinking about it",
        {"risk.suicide"},
        set(),
    ),
    (
        "i dont see the point in any of it anymore. w h a t s the point",
        {"risk.suicide"},
        set(),
    ),
    (
        "my 13yo has an older 'boyfriend' who buys her vapes and picks her up from school, "
        "she won't say his surname",
        {"risk.child_at_risk"},
        set(),
    ),
    (
        "Feeling really low since the adoption breakdown, would be good to talk to someone",
        {"help_request.emotional_support"},
        {"risk"},
    ),
    (
        "Do you run a group for dads? I'd feel odd at the mums one",
        {"help_request.peer_connection"},
        {"risk"},
    ),
    (
        "any other kinship carers round Norwich fancy a cuppa and a chat?",
        {"help_request.peer_connection"},
        {"risk", "pii"},
    ),
    (
        "is there anyone I could talk to about our little one's night terrors? "
        "we're running on empty",
        set(),
        {"risk"},
    ),
    ("this quiz killed me 😂 can't do this anymore lol", set(), {"risk", "help_request"}),
]


@pytest.mark.parametrize(("text", "must", "must_not"), EXAMPLES, ids=[t[:30] for t, *_ in EXAMPLES])
def test_the_issue_examples_come_out_as_the_table_says(
    text: str, must: set[str], must_not: set[str]
) -> None:
    found = categories_of(detection_ruleset(RulesConfig()).evaluate(Message(text)))
    assert must <= set(found), found
    assert not {top_of(c) for c in found} & must_not, found
    if "night terrors" in text:
        assert any(top_of(c) == "help_request" for c in found), found


def test_the_quiz_message_has_no_finding_at_all() -> None:
    text = "this quiz killed me 😂 can't do this anymore lol"
    assert detection_ruleset(RulesConfig()).evaluate(Message(text)) == []


def test_the_examples_are_not_in_the_corpus() -> None:
    from bot.training import read_corpus

    corpus = {" ".join(ex.text.lower().split()) for ex in read_corpus()}
    assert not {" ".join(t.lower().split()) for t, *_ in EXAMPLES} & corpus
