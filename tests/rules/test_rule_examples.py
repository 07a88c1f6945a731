"""Every rule's must_match / must_not_match examples, run as one table."""

from __future__ import annotations

import pytest

from rules import CATEGORIES, load_ruleset

RULESET = load_ruleset()
CASES = [
    pytest.param(rule.id, example, expected, id=f"{rule.id}-{'hit' if expected else 'miss'}{n}")
    for rule in RULESET.rules
    for expected, examples in ((True, rule.must_match), (False, rule.must_not_match))
    for n, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule_id", "message", "expected"), CASES)
def test_rule_example(rule_id, message, expected) -> None:
    fired = {f.rule for f in RULESET.evaluate(message)}
    assert (rule_id in fired) is expected, message.text


def test_every_rule_has_examples() -> None:
    assert all(rule.must_match for rule in RULESET.rules)


def test_default_packs_cover_every_category() -> None:
    covered = {rule.category for rule in RULESET.rules}
    assert covered == set(CATEGORIES), sorted(set(CATEGORIES) - covered)


def test_rule_ids_are_unique() -> None:
    ids = [rule.id for rule in RULESET.rules]
    assert len(ids) == len(set(ids))
