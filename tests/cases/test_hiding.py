"""Which public comments Haven hides on its own: the decision alone, and its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cases.hiding import BY_RULES, CANNOT_HIDE, CHILD_IN_DANGER, LEFT_VISIBLE, decide
from bot.config import ConfigError
from bot.config.hiding import Hiding
from tests.helpers import make_settings

DEFAULTS = Hiding()
CHILD = {"risk.child_at_risk"}


@pytest.mark.parametrize(
    ("categories", "rules_hide", "channel", "expected"),
    [
        # A child in danger, with something that says who or where they are: hidden.
        (CHILD | {"pii.school"}, True, "fb_comment", CHILD_IN_DANGER),
        (CHILD | {"pii.child_name"}, False, "ig_comment", CHILD_IN_DANGER),
        (CHILD | {"photo.child"}, False, "fb_comment", CHILD_IN_DANGER),
        # ... even when the person who wrote it is also at risk themselves.
        (CHILD | {"risk.self_harm", "pii.address"}, True, "fb_comment", CHILD_IN_DANGER),
        # Meta has no hide for visitor posts or mentions: the case must say so.
        (CHILD | {"pii.address"}, True, "fb_post", CANNOT_HIDE),
        (CHILD | {"pii.address"}, True, "ig_mention", CANNOT_HIDE),
        # Nothing identifying: the escalation is enough, nothing is hidden.
        (CHILD, False, "fb_comment", None),
        (CHILD | {"pii.location"}, False, "fb_comment", None),
        # A cry for help a rule would hide for its details stays visible.
        ({"risk.suicide", "pii.phone"}, True, "fb_comment", LEFT_VISIBLE),
        ({"risk.self_harm", "pii.child_name"}, True, "ig_comment", LEFT_VISIBLE),
        ({"risk.suicide"}, False, "fb_comment", None),
        # Everything else is the rules' decision, on comments only.
        ({"pii.phone"}, True, "fb_comment", BY_RULES),
        ({"pii.phone"}, True, "fb_post", None),
        ({"abusive.offensive"}, False, "fb_comment", None),
        # Private messages are never hidden.
        (CHILD | {"pii.school"}, True, "fb_dm", None),
    ],
)
def test_what_is_hidden(
    categories: set[str], rules_hide: bool, channel: str, expected: str | None
) -> None:
    assert decide(categories, rules_hide=rules_hide, channel=channel, config=DEFAULTS) == expected


def test_both_safeguarding_choices_can_be_turned_round() -> None:
    config = Hiding(child_in_danger=False, hide_cries_for_help=True)
    named = CHILD | {"pii.school"}
    assert decide(named, rules_hide=True, channel="fb_comment", config=config) == BY_RULES
    assert decide(named, rules_hide=False, channel="fb_comment", config=config) is None
    cry = {"risk.suicide", "pii.phone"}
    assert decide(cry, rules_hide=True, channel="fb_comment", config=config) == BY_RULES


def test_a_cry_for_help_the_rules_did_not_find_does_not_keep_details_public() -> None:
    # The learned stage alone flags risk at low confidence, on purpose; `cries` leaves it out.
    cry = {"risk.suicide", "pii.phone"}
    assert decide(cry, rules_hide=True, channel="fb_comment", config=DEFAULTS, cries=()) == (
        BY_RULES
    )


def test_unknown_categories_are_refused_with_their_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hiding\.identifying_categories: .*pii\.shoe_size"):
        make_settings(tmp_path, config={"hiding": {"identifying_categories": ["pii.shoe_size"]}})


def test_the_shipped_config_hides_children_in_danger_and_keeps_cries_for_help() -> None:
    hiding = make_settings(Path("/nonexistent")).config.hiding
    assert hiding.child_in_danger and not hiding.hide_cries_for_help
    assert "pii.school" in hiding.identifying_categories
