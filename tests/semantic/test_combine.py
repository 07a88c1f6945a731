"""The learned stage merged with rule findings, pure, with a fake embedder and hand-set heads."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="the `semantic` extra is not installed (numpy)")

from rules import Message, RulesConfig, load_ruleset  # noqa: E402
from rules.semantic import (  # noqa: E402
    SemanticConfig,
    evaluate_many,
    naming_words,
    weighing_words,
)
from rules.semantic.heads import Heads  # noqa: E402
from rules.semantic.stage import (  # noqa: E402
    SemanticRuleSet,
    build_stage,
    shipped_rule_ids,
    with_stage,
)
from tests.semantic.conftest import fake_embed, word_dimension  # noqa: E402

CATEGORIES = ("risk.suicide", "spam", "help_request.resources")
SIGNALS = ("risk.suicide", "spam", "help_request")
# Each head fires on one word (its dimension of the fake embedding) and, when `trust` is set,
# on its rule signal too: a toy stand-in for what training learns.
KEY_WORDS = ("goodbye", "prize", "foodbank")


def heads(trust: float = 0.0) -> Heads:
    dims = 64 + len(SIGNALS)
    w1 = np.eye(dims, dtype=np.float32)
    w2 = np.zeros((dims, len(CATEGORIES)), dtype=np.float32)
    for k, word in enumerate(KEY_WORDS):
        w2[word_dimension(word), k] = 12.0
        w2[64 + k, k] = trust
    examples = ("goodbye all of you", "win a prize today", "where is the foodbank")
    return Heads(
        categories=CATEGORIES,
        signals=SIGNALS,
        lexical_dims=0,
        thresholds=dict.fromkeys(CATEGORIES, 0.5),
        w1=w1,
        b1=np.zeros(dims, dtype=np.float32),
        w2=w2,
        b2=np.full(len(CATEGORIES), -4.0, dtype=np.float32),
        examples=examples,
        example_vectors=fake_embed(list(examples)).astype(np.float16),
        example_labels=np.eye(3, dtype=bool),
        meta={},
    )


FILLER = " ".join(["we"] * 41) + "."  # a chunk of its own (rules/semantic/chunks.py)


def ruleset(trust: float = 0.0, config: RulesConfig | None = None, **semantic) -> SemanticRuleSet:  # type: ignore[no-untyped-def]
    config = config or RulesConfig(semantic=SemanticConfig(**semantic))
    rules = load_ruleset(config)
    stage = build_stage(heads(trust), config, config.semantic, fake_embed, shipped_rule_ids(rules))
    return with_stage(rules, stage)


def learned(findings):  # type: ignore[no-untyped-def]
    return [f for f in findings if f.rule.startswith("semantic-")]


def test_risk_raises_on_its_own_with_safeguarding_actions_and_a_reason() -> None:
    # A long message is judged whole (here faintly: one word in 42, so a low threshold), and
    # the finding points at the chunk that scores highest on its own.
    text = f"{FILLER} Goodbye."
    judging = ruleset(thresholds={"risk": 0.01}, explain_words=True)
    (finding,) = learned(judging.evaluate(Message(text)))
    assert finding.rule == "semantic-risk-suicide" and finding.category == "risk.suicide"
    assert finding.severity == "critical"
    assert text[slice(*finding.span)] == "Goodbye."
    assert finding.actions.escalate and finding.actions.open_case.type == "safeguarding"
    assert "safeguarding_lead" in finding.actions.alert
    why = finding.explanation
    assert why.method == "classifier" and why.mode == "raise" and why.threshold == 0.01
    assert why.nearest[0][0] == "goodbye all of you"
    assert why.score == finding.score and finding.score > 0.01
    assert "goodbye" in why.words
    assert "reads like “goodbye all of you”" in why.as_json()["reason"]


def test_a_shipped_rule_match_the_heads_do_not_back_is_dropped() -> None:
    # The rule risk-suicide-first-person matches; these heads ignore the rule's signal and see
    # no key word, so they read it as not risk: the rule's finding goes.
    text = "I want to kill myself"
    assert "risk.suicide" in {f.category for f in load_ruleset().evaluate(Message(text))}
    assert "risk.suicide" not in {f.category for f in ruleset(trust=0.0).evaluate(Message(text))}


def test_a_shipped_rule_match_the_heads_back_keeps_its_span_and_gains_a_reason() -> None:
    text = "I want to kill myself"
    (finding,) = [
        f for f in ruleset(trust=12.0).evaluate(Message(text)) if f.category == "risk.suicide"
    ]
    assert not finding.rule.startswith("semantic-")  # the rule's own id and exact span
    assert finding.explanation is not None and finding.explanation.rule == finding.rule
    assert finding.explanation.as_json()["reason"].endswith("%)")


def test_rules_an_admin_added_are_never_overruled() -> None:
    config = RulesConfig(word_lists={"risk.suicide": ["walk into the sea"]})
    found = ruleset(config=config).evaluate(Message("I might walk into the sea tonight"))
    assert [f.category for f in found] == ["risk.suicide"]
    assert not found[0].rule.startswith("semantic-")


def test_threshold_from_config_overrides_the_heads() -> None:
    text = "goodbye and thanks for all the fun"
    assert learned(ruleset().evaluate(Message(text)))
    # One key word among seven: the heads give about 0.6, over 0.5 and under 0.99.
    for thresholds in ({"risk": 0.99}, {"risk.suicide": 0.99, "risk": 0.5}):
        assert learned(ruleset(thresholds=thresholds).evaluate(Message(text))) == []


def test_strengthen_only_needs_a_rule_finding_of_the_same_top_category() -> None:
    rs = ruleset()
    assert rs.evaluate(Message("a prize")) == []  # no spam rule fires: not on its own
    alongside = rs.evaluate(Message("earn money from home and win a prize"))
    spam = [f for f in alongside if f.category == "spam"]
    assert any(not f.rule.startswith("semantic-") for f in spam)  # the rule's finding stands
    assert [f.rule for f in learned(spam)] == ["semantic-spam"]
    assert learned(spam)[0].explanation.mode == "strengthen"


def test_categories_switched_off_never_fire() -> None:
    rs = ruleset(raise_on_own=["risk"], strengthen_only=[])
    assert learned(rs.evaluate(Message("where is the foodbank"))) == []
    on = ruleset().evaluate(Message("where is the foodbank"))
    assert "semantic-help-request-resources" in {f.rule for f in on}


def test_page_posts_dms_and_staff() -> None:
    rs = ruleset()
    assert learned(rs.evaluate(Message("goodbye", from_page=True))) == []
    dm = learned(rs.evaluate(Message("goodbye", channel="fb_dm")))
    assert dm[0].actions.hide is False and dm[0].actions.draft_public_reply is None
    staff = with_stage(load_ruleset(RulesConfig(staff_accounts=["42"])), rs.stage)
    both = "goodbye, where is the foodbank"
    # Staff are exempt from help requests, never from risk.
    assert {f.rule for f in learned(staff.evaluate(Message(both, author_id="42")))} == {
        "semantic-risk-suicide"
    }
    assert len(learned(rs.evaluate(Message(both, author_id="42")))) == 2


def test_findings_are_ordered_by_priority_risk_first() -> None:
    findings = ruleset().evaluate(Message("where is the foodbank, goodbye"))
    assert findings[0].category.startswith("risk.")
    assert [f.rule for f in findings].index("semantic-help-request-resources") > 0


def test_batches_give_the_same_findings_as_one_by_one() -> None:
    rs = ruleset()
    messages = [Message(t) for t in ("win a prize", "", "goodbye", "hello", "I want to die")]
    assert evaluate_many(rs, messages) == [rs.evaluate(m) for m in messages]
    plain = load_ruleset()
    assert evaluate_many(plain, messages) == [plain.evaluate(m) for m in messages]


@pytest.mark.parametrize("text", ["", "   ", "...", "😢"])
def test_empty_or_wordless_text_is_harmless(text: str) -> None:
    assert learned(ruleset().evaluate(Message(text))) == []


def test_words_are_weighed_while_judging_only_when_asked() -> None:
    (finding,) = learned(ruleset().evaluate(Message("goodbye then all")))
    assert finding.explanation.words == ()
    assert "weighed" not in finding.explanation.reason()
    (named,) = learned(ruleset(explain_words=True).evaluate(Message("goodbye then all")))
    assert named.explanation.words == ("goodbye",)
    assert "“goodbye” weighed most" in named.explanation.reason()


@pytest.mark.parametrize(
    "text",
    [f"{FILLER} Goodbye, and thanks.", "goodbye then all", "where is the foodbank, goodbye"],
)
def test_words_weighed_on_demand_are_those_weighed_while_judging(text: str) -> None:
    message = Message(text)
    at_once = ruleset(thresholds={"risk": 0.01}, explain_words=True).evaluate(message)
    named = {f.category: f.explanation.words for f in learned(at_once)}
    assert named and all(named.values())
    later = ruleset(thresholds={"risk": 0.01})
    assert all(f.explanation.words == () for f in learned(later.evaluate(message)))
    assert {c: weighing_words(later, message, c) for c in named} == named
    # Trying a message names them at once, as judging with explain_words does.
    assert naming_words(later).evaluate(message) == at_once


def test_no_words_to_weigh_without_the_stage_or_its_category() -> None:
    message = Message("goodbye then all")
    assert weighing_words(load_ruleset(), message, "risk.suicide") is None
    assert weighing_words(ruleset(), message, "pii.phone") is None
    assert weighing_words(ruleset(), Message(""), "risk.suicide") is None
    assert naming_words(load_ruleset()) == load_ruleset()


def two_risks() -> SemanticRuleSet:
    """Heads with two risk subtypes ("goodbye" for suicide, "bruises" for abuse) and
    harassment ("loser"), all at threshold 0.05, as recall-first risk thresholds are."""
    cats = ("risk.suicide", "risk.abuse", "abusive.harassment")
    dims = 64 + 1
    w2 = np.zeros((dims, 3), dtype=np.float32)
    for k, word in enumerate(("goodbye", "bruises", "loser")):
        w2[word_dimension(word), k] = 12.0
    base = heads()
    custom = Heads(
        categories=cats,
        signals=("spam",),
        lexical_dims=0,
        thresholds=dict.fromkeys(cats, 0.05),
        w1=np.eye(dims, dtype=np.float32),
        b1=np.zeros(dims, dtype=np.float32),
        w2=w2,
        b2=np.full(3, -4.0, dtype=np.float32),
        examples=base.examples,
        example_vectors=base.example_vectors,
        example_labels=np.zeros((3, 3), dtype=bool),
        meta={},
    )
    config = RulesConfig(
        semantic=SemanticConfig(raise_on_own=["risk", "abusive"], strengthen_only=[])
    )
    rules = load_ruleset(config)
    return with_stage(rules, build_stage(custom, config, config.semantic, fake_embed))


def test_below_confident_only_the_likeliest_risk_subtype_is_named() -> None:
    rs = two_risks()
    # Both pass 0.05; suicide is far likelier, abuse is a faint second reading.
    text = "goodbye goodbye bruises" + " we" * 7  # about 0.3 and 0.08
    found = {f.category for f in rs.evaluate(Message(text))}
    assert "risk.suicide" in found and "risk.abuse" not in found


def test_confident_hostility_at_someone_else_is_not_the_writers_risk() -> None:
    rs = two_risks()
    # Harassment about 0.91, suicide about 0.3.
    hostile = {f.category for f in rs.evaluate(Message("loser loser goodbye we we we"))}
    assert "abusive.harassment" in hostile and "risk.suicide" not in hostile
    sure = {f.category for f in rs.evaluate(Message("goodbye goodbye loser"))}
    assert "risk.suicide" in sure  # a risk reading the heads are sure of always stands
