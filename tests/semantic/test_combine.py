"""Scoring and combination with rule findings, pure, with a fake bag-of-words embedder."""

from __future__ import annotations

import pytest

pytest.importorskip("numpy", reason="the `semantic` extra is not installed (numpy)")

from rules import Message, RulesConfig, load_ruleset  # noqa: E402
from rules.semantic import SemanticConfig, SemanticPack, evaluate_many  # noqa: E402
from rules.semantic.stage import SemanticRuleSet, build_stage, with_stage  # noqa: E402
from tests.semantic.conftest import fake_embed  # noqa: E402

PACK = SemanticPack.model_validate(
    {
        "pack": "test",
        "thresholds": {"risk.suicide": 0.8, "spam": 0.8, "help_request.resources": 0.8},
        "neutral": ["what time does the coffee morning start"],
        "categories": {
            "risk.suicide": {
                "prototypes": [
                    "started giving away my things",
                    "everyone better off without me",
                    "no way forward for me",
                ],
                "unlike": ["giving away things at the jumble sale"],
            },
            "spam": {
                "prototypes": [
                    "cheap sunglasses message me",
                    "earn money from home",
                    "win a prize",
                ],
            },
            "help_request.resources": {
                "prototypes": ["where is the food bank", "help with energy bills", "uniform help"],
            },
        },
    }
)


# One sentence of more than 40 words: a chunk of its own, so the sentences around it are judged
# apart (rules/semantic/chunks.py).
FILLER = " ".join(["we"] * 41) + "."


def ruleset(**semantic) -> SemanticRuleSet:  # type: ignore[no-untyped-def]
    config = RulesConfig(semantic=SemanticConfig(**semantic))
    stage = build_stage(PACK, config, config.semantic, fake_embed)
    return with_stage(load_ruleset(config), stage)


def semantic_findings(findings):  # type: ignore[no-untyped-def]
    return [f for f in findings if f.rule.startswith("semantic-")]


def test_risk_raises_on_its_own_with_safeguarding_actions_and_an_explanation() -> None:
    text = f"{FILLER} Started giving away my things."
    findings = ruleset().evaluate(Message(text))
    (finding,) = semantic_findings(findings)
    assert finding.rule == "semantic-risk-suicide"
    assert finding.category == "risk.suicide"
    assert finding.severity == "critical"
    assert text[slice(*finding.span)] == "Started giving away my things."
    assert finding.actions.escalate and finding.actions.open_case.type == "safeguarding"
    assert "safeguarding_lead" in finding.actions.alert
    why = finding.explanation
    assert why.method == "prototypes" and why.mode == "raise" and why.threshold == 0.8
    assert why.nearest[0] == ("started giving away my things", 1.0)
    assert why.score == finding.score == 1.0
    assert why.as_json()["nearest"][0] == {
        "text": "started giving away my things",
        "similarity": 1.0,
    }


def test_a_closer_counter_example_or_a_low_similarity_does_not_fire() -> None:
    rs = ruleset()
    assert semantic_findings(rs.evaluate(Message("giving away things at the jumble sale"))) == []
    assert semantic_findings(rs.evaluate(Message("lovely weather for the fair"))) == []
    assert semantic_findings(rs.evaluate(Message("what time does the coffee morning start"))) == []


def test_threshold_from_config_overrides_the_pack() -> None:
    text = "I have started giving away my old things"  # partial overlap with a prototype
    assert [f.score for f in semantic_findings(ruleset().evaluate(Message(text)))] == [0.849]
    for thresholds in ({"risk": 0.9}, {"risk.suicide": 0.9, "risk": 0.5}):
        assert semantic_findings(ruleset(thresholds=thresholds).evaluate(Message(text))) == []


def test_strengthen_only_needs_a_rule_finding_of_the_same_top_category() -> None:
    rs = ruleset()
    # No spam rule fires on these words: the stage may not flag spam on its own.
    assert rs.evaluate(Message("win a prize")) == []
    alongside = rs.evaluate(Message("earn money from home"))  # the rule spam-strong fires
    spam = [f for f in alongside if f.category == "spam"]
    assert any(not f.rule.startswith("semantic-") for f in spam)
    assert [f.rule for f in semantic_findings(spam)] == ["semantic-spam"]
    assert semantic_findings(spam)[0].explanation.mode == "strengthen"


def test_categories_switched_off_never_fire() -> None:
    rs = ruleset(raise_on_own=["risk"], strengthen_only=[])
    assert semantic_findings(rs.evaluate(Message("where is the food bank"))) == []
    on = ruleset().evaluate(Message("where is the food bank"))
    assert "semantic-help-request-resources" in {f.rule for f in on}


def test_page_posts_dms_and_staff() -> None:
    rs = ruleset()
    assert semantic_findings(rs.evaluate(Message("no way forward for me", from_page=True))) == []
    dm = semantic_findings(rs.evaluate(Message("no way forward for me", channel="fb_dm")))
    assert dm[0].actions.hide is False and dm[0].actions.draft_public_reply is None
    staff = with_stage(
        load_ruleset(RulesConfig(staff_accounts=["42"])), rs.stage
    )  # staff are exempt from help requests, never from risk
    both = f"no way forward for me. {FILLER} where is the food bank"
    assert {f.rule for f in semantic_findings(staff.evaluate(Message(both, author_id="42")))} == {
        "semantic-risk-suicide"
    }
    assert len(semantic_findings(rs.evaluate(Message(both, author_id="42")))) == 2


def test_findings_are_ordered_by_priority_risk_first() -> None:
    findings = ruleset().evaluate(
        Message(f"where is the food bank. {FILLER} everyone better off without me")
    )
    assert findings[0].category.startswith("risk.")
    assert [f.rule for f in findings].index("semantic-help-request-resources") > 0


def test_batches_give_the_same_findings_as_one_by_one() -> None:
    rs = ruleset()
    messages = [Message(t) for t in ("win a prize", "", "no way forward for me", "hello")]
    assert evaluate_many(rs, messages) == [rs.evaluate(m) for m in messages]
    plain = load_ruleset()
    assert evaluate_many(plain, messages) == [plain.evaluate(m) for m in messages]


@pytest.mark.parametrize("text", ["", "   ", "...", "😢"])
def test_empty_or_wordless_text_is_harmless(text: str) -> None:
    findings = ruleset().evaluate(Message(text))
    assert semantic_findings(findings) == []


def test_a_far_weaker_subtype_of_the_same_top_is_not_a_second_label() -> None:
    data = PACK.model_dump()
    data["categories"]["risk.abuse"] = {
        "prototypes": ["he started hitting me", "scared of him", "he hurts me"]
    }
    data["thresholds"]["risk.abuse"] = 0.2
    pack = SemanticPack.model_validate(data)
    config = RulesConfig()
    rs = with_stage(load_ruleset(config), build_stage(pack, config, config.semantic, fake_embed))
    alone = semantic_findings(rs.evaluate(Message("he started hitting me")))
    assert [f.rule for f in alone] == ["semantic-risk-abuse"]
    # "started" is shared: abuse scores about 0.22 here, far below suicide's 1.0.
    only = semantic_findings(rs.evaluate(Message("started giving away my things")))
    assert [f.rule for f in only] == ["semantic-risk-suicide"]
    both = semantic_findings(rs.evaluate(Message(f"he hurts me. {FILLER} no way forward for me")))
    assert {f.rule for f in both} == {"semantic-risk-suicide", "semantic-risk-abuse"}
