"""Engine behaviour: ordering, exemptions, channels, allowlist, actions, templates."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Attachment, CaseSpec, Message, RulesConfig, categories_of, load_ruleset

RULESET = load_ruleset()


def cats(text: str, **kw) -> list[str]:
    return categories_of(RULESET.evaluate(Message(text, **kw)))


def test_findings_are_ordered_by_priority_then_severity() -> None:
    findings = RULESET.evaluate(
        Message("I want to end it all. Ring me on 07700 900123, you useless idiots")
    )
    assert findings[0].category == "risk.suicide"
    ranks = [(-RULESET_PRIORITY[f.rule]) for f in findings]
    assert ranks == sorted(ranks)


RULESET_PRIORITY = {r.id: r.priority for r in RULESET.rules}


def test_evaluation_is_deterministic() -> None:
    message = Message("My son Jack is being bullied at Westbourne Academy, any advice?")
    assert RULESET.evaluate(message) == RULESET.evaluate(message)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Does anyone else feel like they're failing?", "help_request.emotional_support"),
        ("I don't want to be here anymore", "risk.suicide"),
        ("started self harming again", "risk.self_harm"),
        ("My partner threatened to kill me", "risk.domestic_violence"),
        ("email me at jo@example.org", "pii.email"),
        ("Can I take ibuprofen with sertraline?", "out_of_remit.medical"),
        ("Has anyone tried microdosing?", "unsafe_practice.unproven_treatment"),
        ("I want to make a complaint", "complaint"),
    ],
)
def test_policy_examples(text: str, category: str) -> None:
    assert category in cats(text)


def test_risk_always_opens_urgent_case_and_escalates() -> None:
    for finding in RULESET.evaluate(Message("i want to kill myself", channel="fb_dm")):
        assert finding.actions.escalate
        assert finding.actions.open_case == CaseSpec("safeguarding", "urgent")
        assert "safeguarding_lead" in finding.actions.alert


def test_risk_config_cannot_switch_off_escalation_at_runtime() -> None:
    config = RulesConfig(actions={"help_request": {"hide": True}})
    ruleset = load_ruleset(config)
    finding = ruleset.evaluate(Message("I want to end it all"))[0]
    assert finding.actions.escalate and finding.actions.open_case is not None


def test_category_action_overrides_apply() -> None:
    config = RulesConfig(actions={"abusive.offensive": {"hide": True, "alert": ["admin"]}})
    finding = next(
        f
        for f in load_ruleset(config).evaluate(Message("this is bollocks"))
        if f.category == "abusive.offensive"
    )
    assert finding.actions.hide and finding.actions.alert == ("admin",)
    assert finding.actions.draft_private_reply == "abusive"  # what the override left out stays


def test_staff_are_exempt_from_moderation_but_not_risk() -> None:
    ruleset = load_ruleset(RulesConfig(staff_accounts=["staff-1"]))
    text = "this is fucking rubbish and I want to kill myself"
    assert "abusive.offensive" in categories_of(ruleset.evaluate(Message(text)))
    staff = categories_of(ruleset.evaluate(Message(text, author_id="staff-1")))
    assert "abusive.offensive" not in staff and "risk.suicide" in staff


def test_page_posts_are_checked_only_for_personal_details_and_photos() -> None:
    text = "Any advice? Ring Jo on 07700 900123"
    page = categories_of(RULESET.evaluate(Message(text, channel="fb_post", from_page=True)))
    assert "pii.phone" in page and not any(c.startswith("help_request") for c in page)


def test_page_photo_is_queued_for_review() -> None:
    message = Message(
        "Summer fair!", channel="fb_post", from_page=True, attachments=(Attachment("image"),)
    )
    assert "photo.family" in categories_of(RULESET.evaluate(message))


def test_allowlisted_contacts_are_not_personal_details() -> None:
    config = RulesConfig(
        allowlist={
            "phones": ["0800 138 0509"],
            "emails": ["asktwinline@twinstrust.org"],
            "domains": ["twinstrust.org"],
        }
    )
    text = "Call Twinline on 0800 138 0509, email asktwinline@twinstrust.org or see https://twinstrust.org/help"
    found = categories_of(load_ruleset(config).evaluate(Message(text)))
    assert not {"pii.phone", "pii.email", "spam"} & set(found)
    assert "pii.phone" in cats(text)


def test_details_in_a_dm_are_recorded_but_not_hidden() -> None:
    finding = next(
        f for f in RULESET.evaluate(Message("my number is 07700 900123", channel="fb_dm"))
    )
    assert finding.category == "pii.phone"
    assert not finding.actions.hide and finding.actions.draft_public_reply is None


def test_word_lists_from_config_become_rules() -> None:
    ruleset = load_ruleset(RulesConfig(word_lists={"spam": ["cheap trainers"]}))
    assert "spam" in categories_of(ruleset.evaluate(Message("CHEAP TRAINERS here")))


def test_channel_filter() -> None:
    config_rule = [r for r in RULESET.rules if r.channels]
    for rule in config_rule:
        assert rule.channels <= {
            "fb_comment",
            "fb_post",
            "fb_dm",
            "ig_comment",
            "ig_mention",
            "ig_dm",
            "public",
            "private",
        }


@pytest.mark.parametrize("kind", ["fb_comment", "ig_dm", "public", "private"])
def test_render_uses_only_safe_placeholders(kind: str) -> None:
    text = RULESET.render(
        "risk", kind, {"first_name": "Sam", "page_name": "Rebuilding", "text": "SECRET"}
    )
    assert (
        "Sam" in text
        and "SECRET" not in text
        and "116 123" in text
        and "85258" in text
        and "999" in text
    )


def test_render_without_name_reads_naturally() -> None:
    assert RULESET.render("help_request", "fb_comment", {}).startswith("Hi, thank you")


def test_render_cleans_names() -> None:
    text = RULESET.render("help_request", "fb_comment", {"first_name": "{page_name} <b>"})
    assert "<b>" not in text and "{" not in text


def test_render_missing_variant_raises() -> None:
    with pytest.raises(KeyError):
        RULESET.render("pii", "fb_comment", {})


def test_public_templates_never_contain_private_placeholders() -> None:
    for variants in RULESET.templates.values():
        public = variants.get("public", "")
        assert "{" not in public.replace("{first_name}", "").replace("{page_name}", "")


def _ungated(ruleset):
    rules = tuple(dataclasses.replace(r, gate=None, requires_gate=None) for r in ruleset.rules)
    return dataclasses.replace(ruleset, rules=rules)


UNGATED = _ungated(RULESET)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [ex.text for rule in RULESET.rules for ex in (*rule.must_match, *rule.must_not_match)]
        ),
        min_size=1,
        max_size=3,
    ),
    st.text(max_size=30),
)
def test_prefilter_never_changes_findings(parts: list[str], noise: str) -> None:
    # The literal prefilter only skips rules that cannot match; results must be identical.
    message = Message(noise.join(parts))
    assert RULESET.evaluate(message) == UNGATED.evaluate(message)
