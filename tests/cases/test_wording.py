"""Findings in a volunteer's words: every category has them, one line per concern."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.cases.wording import PHRASES, TOP_PHRASES, concerns, phrase, phrases
from bot.models import Finding as StoredFinding
from rules import CATEGORIES, TAXONOMY, Actions, Message, load_ruleset
from rules import Finding as RuleFinding
from rules.model import Explanation

PACKS = Path(__file__).resolve().parents[2] / "rules" / "packs"
CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def _pack_categories() -> set[str]:
    found = set()
    for path in PACKS.glob("*.yaml"):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules") or []:
            found.add(rule["category"])
    return found


@pytest.mark.parametrize("category", sorted(_pack_categories() | CATEGORIES))
def test_every_category_of_every_pack_has_words(category: str) -> None:
    words = PHRASES.get(category)
    assert words, f"{category} has no words in bot/cases/wording.py PHRASES"
    assert not CODE.search(words)


def test_the_packs_were_read() -> None:
    # Guards the test above against an empty glob quietly passing.
    assert {"risk.suicide", "pii.school", "spam"} <= _pack_categories()


@pytest.mark.parametrize("top", sorted(TAXONOMY))
def test_every_top_category_has_words(top: str) -> None:
    assert TOP_PHRASES[top] and phrase(top) == TOP_PHRASES[top]


def test_an_unknown_category_is_never_shown_as_code() -> None:
    assert phrase("risk.something_new") == TOP_PHRASES["risk"]
    assert "zzz" not in phrase("zzz.top")
    assert phrase(None) == "Something to look at"


def _rule(category: str, rule: str, severity: str, score: float, span, explanation=None):
    return RuleFinding(category, rule, severity, score, span, Actions(), explanation=explanation)


def test_a_rule_and_the_learned_stage_on_one_category_make_one_concern() -> None:
    why = Explanation("classifier", 0.76, 0.46, "raise", nearest=(("I can't go on", 0.76),))
    found = [
        _rule("risk.suicide", "risk-suicide-explicit", "critical", 0.9, (3, 14)),
        _rule("risk.suicide", "semantic-risk-suicide", "critical", 0.76, (0, 40), why),
        _rule("pii.school", "pii-school", "high", 0.8, (20, 30)),
        _rule("help_request.emotional_support", "help-emotional", "low", 0.6, (0, 5)),
    ]
    result = concerns(found)
    assert [c.phrase for c in result] == [
        "Possible suicide risk",
        "Names a child's school",
        "Asking for emotional support",
    ]
    suicide = result[0]
    assert suicide.span == (3, 14), "the written rule's words, not the whole message"
    assert suicide.severity_word == "Urgent"
    assert [e.rule for e in suicide.evidence] == ["risk-suicide-explicit", "semantic-risk-suicide"]
    learned = suicide.evidence[1]
    assert learned.learned and learned.threshold == 0.46
    assert learned.nearest == (("I can't go on", 0.76),)


def test_stored_findings_group_the_same_way() -> None:
    rows = [
        StoredFinding(
            item_id=1,
            rule="pii-postcode",
            category="pii.postcode",
            severity="high",
            score=0.9,
            span_start=5,
            span_end=12,
        ),
        StoredFinding(
            item_id=1,
            rule="pii-postcode-partial",
            category="pii.postcode",
            severity="medium",
            score=0.5,
            span_start=None,
            span_end=None,
        ),
        StoredFinding(
            item_id=1,
            rule="semantic-out-of-remit-legal",
            category="out_of_remit.legal",
            severity="medium",
            score=0.7,
            explanation={
                "reason": "it reads like “do I need a solicitor”",
                "threshold": 0.5,
                "nearest": [{"text": "do I need a solicitor", "similarity": 0.8}],
            },
        ),
    ]
    result = concerns(rows)
    assert [(c.phrase, c.severity, c.span) for c in result] == [
        ("Gives a postcode", "high", (5, 12)),
        ("Asks for legal advice", "medium", None),
    ]
    assert result[1].evidence[0].reason.startswith("it reads like")


def test_the_engine_findings_of_a_real_message_read_as_words() -> None:
    ruleset = load_ruleset()
    message = Message("I want to kill myself, my son goes to St Mary's Primary School")
    result = concerns(ruleset.evaluate(message))
    words = [c.phrase for c in result]
    assert words[0] == "Possible suicide risk"
    assert len(words) == len(set(words)), "one line per concern"


def test_phrases_for_a_list_of_categories_say_each_concern_once() -> None:
    assert phrases(["pii.postcode", "risk.suicide", "pii.postcode"]) == [
        "Possible suicide risk",
        "Gives a postcode",
    ]


def test_the_staff_guide_explains_every_phrase() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "reading-findings.md").read_text()
    missing = [words for words in PHRASES.values() if f"| {words} |" not in guide]
    assert not missing, f"docs/reading-findings.md has no row for {missing}"
