"""Office hours in the organisation's own clock (GMT and BST, weekends, bank holidays), the
out-of-hours reply, and the `alerts:` section's validation: safe defaults, no secrets in files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.config.alerts import Alerts, OfficeHours
from bot.config.hours import WorkingHours
from bot.notify.hours import describe_back, is_open, next_opening, out_of_hours_reply
from rules import RulesConfig, load_ruleset
from tests.helpers import REPO, environ_for_tests

LONDON = "Europe/London"
HOURS = WorkingHours(bank_holidays=(date(2026, 12, 25), date(2026, 12, 28)))


@pytest.mark.parametrize(
    ("when", "open_now"),
    [
        (datetime(2026, 3, 11, 9, 0, tzinfo=UTC), True),  # Wednesday 09:00 GMT
        (datetime(2026, 3, 11, 8, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 11, 17, 0, tzinfo=UTC), False),  # closes at five
        (datetime(2026, 7, 15, 8, 0, tzinfo=UTC), True),  # 09:00 BST
        (datetime(2026, 7, 15, 16, 30, tzinfo=UTC), False),  # 17:30 BST
        (datetime(2026, 3, 14, 12, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 12, 25, 12, 0, tzinfo=UTC), False),  # a bank holiday
    ],
)
def test_office_hours_follow_the_organisations_clock(when: datetime, open_now: bool) -> None:
    assert is_open(HOURS, LONDON, when) is open_now


def test_staff_are_back_on_the_next_working_morning() -> None:
    friday_evening = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)  # Christmas Eve, a Thursday
    # Christmas Day and the Monday bank holiday are skipped: back on Tuesday 29th.
    assert next_opening(HOURS, LONDON, friday_evening) == datetime(2026, 12, 29, 9, 0, tzinfo=UTC)
    assert describe_back(HOURS, LONDON, friday_evening) == "on Tuesday at 9am"
    assert describe_back(HOURS, LONDON, datetime(2026, 3, 11, 7, 0, tzinfo=UTC)) == ("today at 9am")
    assert describe_back(HOURS, LONDON, datetime(2026, 3, 11, 20, 0, tzinfo=UTC)) == (
        "tomorrow at 9am"
    )
    late_opening = WorkingHours(opens="09:30", days=("mon",))
    assert describe_back(late_opening, LONDON, datetime(2026, 3, 9, 18, 0, tzinfo=UTC)) == (
        "on Monday 16 March at 9:30am"
    )


def test_the_out_of_hours_reply_adds_any_configured_crisis_line_it_lacks() -> None:
    ruleset = load_ruleset(RulesConfig())
    hours = OfficeHours(
        crisis_lines=(
            {"name": "Call Samaritans free on", "contact": "116 123"},
            {"name": "Young people can call Childline on", "contact": "0800 1111"},
        )
    )
    text = out_of_hours_reply(
        ruleset,
        hours,
        LONDON,
        platform="instagram",
        first_name="Sam",
        page_name="Families Together",
        when=datetime(2026, 3, 14, 23, 0, tzinfo=UTC),
        working=WorkingHours(),
    )
    assert text.startswith("Hi Sam, thank you for telling us.")
    assert "Families Together" in text and "Our team will be back on Monday at 9am." in text
    assert text.count("116 123") == 1  # already in the template: not repeated
    assert text.endswith("Young people can call Childline on 0800 1111.")


def test_channels_are_off_and_addresses_empty_by_default() -> None:
    settings = load_settings(REPO / "config.yaml", environ_for_tests(Path("/nonexistent")))
    alerts = settings.config.alerts
    assert alerts.email.enabled is False and alerts.webhooks == ()
    assert all(not c.email for c in alerts.roles.values())
    assert not alerts.has_contacts("safeguarding_lead") and alerts.digest.email == ()


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ_for_tests(tmp_path))


def test_a_secret_written_into_the_alerts_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="alerts.email.password: secrets belong"):
        _load(tmp_path, "alerts:\n  email:\n    password: hunter2hunter2\n")
    with pytest.raises(ConfigError, match=r"alerts.webhooks\[0\].secret: secrets belong"):
        _load(tmp_path, "alerts:\n  webhooks:\n    - {name: x, kind: signed, secret: abc}\n")


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("roles:\n    moderator: {channels: [pager]}", "no channel called 'pager'"),
        ("roles:\n    volunteer: {}", "volunteer"),
        ("categories:\n    risk.nonsense: {}", "unknown category"),
        ("webhooks:\n    - {name: pager, kind: signed, url: 'https://x.example'}", "secret_env"),
        ("webhooks:\n    - {name: chat, kind: slack}", "exactly one of url and url_env"),
        ("dashboard_url: haven.example.org", "must start with http"),
    ],
)
def test_mistakes_in_the_alerts_section_are_named(
    tmp_path: Path, snippet: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        _load(tmp_path, f"alerts:\n  {snippet}\n")
    assert "config.yaml:" in str(raised.value) and "alerts" in str(raised.value)


def test_a_full_alerts_section_loads(tmp_path: Path) -> None:
    alerts = _load(
        tmp_path,
        """
alerts:
  dashboard_url: https://haven.example.org
  email: {enabled: true, host: smtp.example.org, username: haven, password_env: SMTP_PASSWORD}
  webhooks:
    - {name: pager, kind: signed, url: "https://pager.example.org/in", secret_env: PAGER_SECRET}
    - {name: team-chat, kind: slack, url_env: SLACK_WEBHOOK_URL}
  roles:
    safeguarding_lead: {email: [lead@example.org], second_channels: [pager]}
    moderator: {email: [mods@example.org], channels: [team-chat]}
  categories:
    pii.child_name: {roles: [admin]}
  partners:
    - {name: Partner, email: [duty@partner.example.org], author_ids: [123456]}
""",
    ).config.alerts
    assert isinstance(alerts, Alerts) and alerts.has_contacts("safeguarding_lead")
    assert alerts.partners[0].author_ids == ("123456",)
