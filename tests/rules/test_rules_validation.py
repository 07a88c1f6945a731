"""Validation: errors name the file, the rule and the key; unsafe configs are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rules import RuleError, RulesConfig, load_ruleset

GOOD = """
pack: local
rules:
  - id: local-cake
    category: spam
    phrases: [cheap cake]
    must_match: ["cheap cake here"]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_extra_file_is_loaded(tmp_path: Path) -> None:
    ruleset = load_ruleset(RulesConfig(extra_files=[write(tmp_path, GOOD)]))
    assert "local-cake" in {r.id for r in ruleset.rules}


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        (GOOD.replace("phrases:", "mach:"), "rule 'local-cake': unknown key 'mach'"),
        (
            GOOD.replace("category: spam", "category: spam.eggs"),
            "rule 'local-cake': category: unknown category",
        ),
        (
            GOOD.replace("cheap cake]", "cheap cake]\n    patterns: ['(unclosed']"),
            "rule 'local-cake': patterns:",
        ),
        (
            GOOD.replace('    must_match: ["cheap cake here"]\n', ""),
            "rule 'local-cake': must_match",
        ),
        (GOOD + "    actions: {draft_public_reply: nope}\n", "template 'nope'"),
        (GOOD.replace("id: local-cake", "id: spam-strong"), "rule 'spam-strong': id already used"),
        (
            GOOD.replace("phrases: [cheap cake]", "phrases: [$nosuchset]"),
            "unknown set '$nosuchset'",
        ),
        ("pack: x\nrules: [\n", "invalid YAML"),
        (GOOD.replace("pack: local", "pack: local\nfoo: 1"), "unknown key 'foo'"),
    ],
)
def test_errors_name_file_rule_and_key(tmp_path: Path, snippet: str, message: str) -> None:
    path = write(tmp_path, snippet)
    with pytest.raises(RuleError) as info:
        load_ruleset(RulesConfig(extra_files=[path]))
    assert path in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_ruleset(RulesConfig(extra_files=[str(tmp_path / "nope.yaml")]))


@pytest.mark.parametrize(
    "actions",
    [
        {"risk.suicide": {"hide": True}},
        {"risk": {"escalate": False}},
        {"risk.abuse": {"open_case": None}},
        {"risk": {"open_case": {"type": "moderation", "priority": "low"}}},
    ],
)
def test_safeguarding_categories_cannot_be_weakened(actions: dict) -> None:
    with pytest.raises(ValidationError, match="safeguarding"):
        RulesConfig(actions=actions)


def test_risk_rule_cannot_exempt_staff(tmp_path: Path) -> None:
    text = GOOD.replace("category: spam", "category: risk.suicide\n    exempt_staff: true")
    with pytest.raises(RuleError, match="exempt_staff"):
        load_ruleset(RulesConfig(extra_files=[write(tmp_path, text)]))


@pytest.mark.parametrize(
    "config",
    [
        {"packs": ["nope"]},
        {"word_lists": {"not.a.category": ["x"]}},
        {"templates": {"help_request": {"public": "Hi {name}"}}},
        {"templates": {"help_request": {"public": "Hi {first_name!r}"}}},
        {"mach": 1},
        {"default_region": "gb"},
    ],
)
def test_bad_config_is_refused(config: dict) -> None:
    with pytest.raises(ValidationError):
        RulesConfig.model_validate(config)


def test_bad_allowlisted_phone_is_a_rule_error() -> None:
    with pytest.raises(RuleError, match="allowlist"):
        load_ruleset(RulesConfig(allowlist={"phones": ["not a number"]}))


def test_unknown_disabled_rule_is_refused() -> None:
    with pytest.raises(RuleError, match="disabled_rules"):
        load_ruleset(RulesConfig(disabled_rules=["no-such-rule"]))


def test_packs_and_disabled_rules_select_rules() -> None:
    ruleset = load_ruleset(RulesConfig(packs=["risk"], disabled_rules=["risk-abuse"]))
    ids = {r.id for r in ruleset.rules}
    assert "risk-abuse" not in ids and all(r.category.startswith("risk.") for r in ruleset.rules)


def test_template_overrides_replace_one_variant() -> None:
    config = RulesConfig(templates={"help_request": {"public": "Thanks {first_name}, DM sent."}})
    ruleset = load_ruleset(config)
    assert ruleset.render("help_request", "public", {"first_name": "Ann"}) == "Thanks Ann, DM sent."
    assert "consent" in ruleset.render("help_request", "private", {}) or ruleset.render(
        "help_request", "private", {}
    )
