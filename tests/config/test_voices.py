"""Page voices (config.yaml `voices:`): each page's settings, with the organisation's defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, HavenConfig
from bot.config.voices import page_config, retention_by_account, voice_for
from bot.notify.duty import on_duty
from bot.notify.hours import is_open
from rules import load_ruleset
from tests.helpers import IG_ID, PAGE_ID, TEST_ACCOUNTS, make_settings

TWINLINE = "Twinline is free on 0800 138 0509."
FCS = {
    "accounts": [PAGE_ID],
    "name": "Twins Trust FCS",
    "referral": TWINLINE,
    "family_posts": False,
    "lead": "lead_a",
    "deputy": "deputy_a",
    "retention": "not_saved",
    "working_hours": {"days": ["mon", "tue", "wed"], "opens": "10:00", "closes": "13:00"},
    "templates": {
        "boundary": {"private": "Hi {first_name}, {page_name} can't give advice over social media."}
    },
}


def _config(**voices: Any) -> HavenConfig:
    return HavenConfig.model_validate(
        {
            "organisation": {"page_name": "Families Together", "family_posts": True},
            "meta": {"accounts": list(TEST_ACCOUNTS)},
            "data_protection": {"retention_days": 90, "minimum_days": 2},
            "voices": voices,
        }
    )


def test_a_page_with_a_voice_gets_its_settings_and_the_others_the_organisations() -> None:
    config = _config(fcs=FCS)
    fcs, other = voice_for(config, PAGE_ID), voice_for(config, IG_ID)
    assert (fcs.key, fcs.page_name, fcs.referral) == ("fcs", "Twins Trust FCS", TWINLINE)
    assert (other.key, other.page_name, other.referral) == (None, "Families Together", None)
    assert fcs.no_family_posts and not other.no_family_posts
    # Unless the organisation says otherwise, no page posts about families (policy 002).
    assert voice_for(HavenConfig(), PAGE_ID).no_family_posts
    assert (fcs.retention_days, other.retention_days) == (2, 90)
    # The rest of the config is the page's too, in the usual places.
    assert fcs.config.organisation.page_name == "Twins Trust FCS"
    assert page_config(config, IG_ID).working_hours == config.working_hours


def test_each_page_has_its_own_hours_and_lead() -> None:
    config = _config(fcs=FCS)
    thursday_11 = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
    fcs, other = page_config(config, PAGE_ID), page_config(config, IG_ID)
    zone = config.organisation.timezone
    assert not is_open(fcs.working_hours, zone, thursday_11)  # FCS works Mon to Wed
    assert is_open(other.working_hours, zone, thursday_11)
    assert on_duty(fcs.alerts.rota, zone, thursday_11).lead == "lead_a"
    assert on_duty(fcs.alerts.rota, zone, thursday_11).name("safeguarding_deputy") == "deputy_a"
    assert not other.alerts.rota.shifts  # no rota: every lead is paged, as before


def test_replies_use_the_pages_name_templates_and_referral_line() -> None:
    config, ruleset = _config(fcs=FCS), load_ruleset()
    fcs, other = voice_for(config, PAGE_ID), voice_for(config, IG_ID)
    context = {"first_name": "Jo", "page_name": fcs.page_name}
    help_reply = fcs.render(ruleset, "help_request", "fb_dm", context)
    assert "Twins Trust FCS" in help_reply and help_reply.endswith(TWINLINE)
    boundary = fcs.render(ruleset, "boundary", "fb_dm", context)
    assert boundary.startswith("Hi Jo, Twins Trust FCS can't give advice over social media.")
    # A kind the page leaves out is the packs' own; the referral line is for private replies.
    public = fcs.render(ruleset, "boundary", "fb_comment", context)
    assert public == ruleset.render("boundary", "fb_comment", context)
    assert TWINLINE not in fcs.render(ruleset, "risk", "fb_dm", context)
    plain = other.render(ruleset, "help_request", "fb_dm", {"page_name": other.page_name})
    assert plain == ruleset.render("help_request", "fb_dm", {"page_name": "Families Together"})


def test_pages_that_keep_texts_for_less_are_listed_for_retention() -> None:
    assert retention_by_account(_config(fcs=FCS)) == {PAGE_ID: 2}
    assert retention_by_account(_config(fcs={**FCS, "retention": "standard"})) == {}


@pytest.mark.parametrize(
    ("voices", "says"),
    [
        ({"fcs": {**FCS, "accounts": ["999"]}}, "voices.fcs: account 999 is not in meta.accounts"),
        (
            {"fcs": FCS, "other": {"accounts": [PAGE_ID]}},
            f"voices.other: account {PAGE_ID} already speaks with voices.fcs",
        ),
        ({"fcs": {**FCS, "rota": {"shifts": []}}}, "give lead and deputy, or a rota, not both"),
        ({"FCS page": {"accounts": [PAGE_ID]}}, "a voice's name is lower-case"),
        ({"fcs": {**FCS, "retention": "forever"}}, "voices.fcs.retention"),
        ({"fcs": {**FCS, "templates": {"x": {"private": "{surname}"}}}}, "placeholder"),
    ],
)
def test_a_wrong_voice_is_refused_with_its_place_named(
    tmp_path: Path, voices: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError, match="voices") as refused:
        make_settings(tmp_path, config={"voices": voices})
    assert says in str(refused.value)


def test_check_config_shows_each_pages_effective_settings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main
    from tests.helpers import environ_for_tests, write_config

    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["organisation"].update(page_name="Families Together", family_posts=True)
    config["alerts"]["accept_dashboard_only"] = True
    config["voices"] = {"fcs": {**FCS, "templates": {**FCS["templates"], "boundry": {}}}}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["check-config", "--config", str(path)], env=environ_for_tests(tmp_path)
    )
    assert result.exit_code == 0, result.output
    out = result.output
    fcs = out[out.index(f"page Test page (facebook {PAGE_ID}), voices.fcs:") :]
    fcs, other = fcs.split(f"page Test IG (instagram {IG_ID}), the organisation's voice:")
    for line in (
        "  name in replies: Twins Trust FCS",
        "  templates: its own boundary, boundry; the rest from the rule packs",
        f"  referral: {TWINLINE!r} in the private help_request, boundary replies",
        "  hours: mon, tue, wed 10:00-13:00",
        "  lead and deputy: lead lead_a, deputy deputy_a",
        "  retention: texts kept 1 day (this page saves no chats)",
        "  family posts: never",
    ):
        assert line in fcs.splitlines(), (line, fcs)
    assert "  name in replies: Families Together" in other.splitlines()
    assert "  retention: texts kept 90 days" in other.splitlines()
    assert "  family posts: allowed (checked for names and photos)" in other.splitlines()
    assert "  referral: none added" in other.splitlines()
    # A template no rule drafts is named: a typo would otherwise go unnoticed.
    assert "warning: voices.fcs: no reply template called 'boundry' in the rule packs" in out
    # lead_a and deputy_a have no contacts: their pages would go to the roles' contacts.
    assert "warning: voices.fcs: lead_a has no contacts in alerts.people" in out


def test_the_example_in_config_yaml_is_a_valid_voices_section() -> None:
    """The commented example operators copy from: FCS refers to Twinline, Families Together
    keeps three months."""
    from tests.helpers import REPO

    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    block = text[text.index("\nvoices: {}\n") : text.index("\nphotos:")].splitlines()[2:]
    example = yaml.safe_load("voices:\n" + "\n".join(line[1:] for line in block if line))
    ids = ("104000000000001", "104000000000002", "17841400000000001")
    accounts = [{"id": i, "name": i, "platform": "facebook", "token_env": f"T_{i}"} for i in ids]
    config = HavenConfig.model_validate({"meta": {"accounts": accounts}, **example})
    fcs, families = voice_for(config, "104000000000002"), voice_for(config, "17841400000000001")
    assert (fcs.page_name, fcs.no_family_posts, fcs.retention) == (
        "Twins Trust FCS",
        True,
        "not_saved",
    )
    assert "0800 138 0509" in (fcs.referral or "")
    assert "advice over social media" in fcs.templates["boundary"]["private"]
    assert (families.key, families.retention_days) == ("families", 90)
