"""Who is on duty (the rota, its cover and its gaps) and the one working-hours setting (bank
holidays for alerts and response times alike; the old keys still read, with a notice)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from bot.cli import main
from bot.config import ConfigError, HavenConfig, load_settings
from bot.config.alerts import Alerts
from bot.config.hours import WorkingHours
from bot.config.rota import Rota
from bot.notify.duty import gaps, on_duty, rota_notes
from bot.notify.hours import is_open
from bot.web.dashboard.worktime import working_hours_between
from tests.helpers import REPO, environ_for_tests

LONDON = "Europe/London"
ROTA = Rota.model_validate(
    {
        "shifts": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00",
             "lead": "sam", "deputy": "alex"},
            {"days": ["mon", "tue", "wed", "thu"], "from": "17:00", "to": "09:00",
             "lead": "alex", "deputy": "sam"},
            {"days": ["sat", "sun"], "from": "00:00", "to": "00:00", "lead": "jo"},
        ],
        "cover": [
            {"away": "sam", "from": "2026-08-03", "until": "2026-08-14", "by": "jo"},
            {"away": "jo", "from": "2026-08-08", "until": "2026-08-08", "by": "kim"},
            {"away": "alex", "from": "2026-12-24", "until": "2026-12-24"},
        ],
    }
)  # fmt: skip


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(LONDON))


@pytest.mark.parametrize(
    ("when", "lead", "deputy"),
    [
        ("2026-03-11T10:00", "sam", "alex"),  # a Wednesday morning
        ("2026-03-11T16:59", "sam", "alex"),
        ("2026-03-11T17:00", "alex", "sam"),  # the evening shift
        ("2026-03-12T03:00", "alex", "sam"),  # past midnight, still Wednesday's evening shift
        ("2026-03-13T20:00", None, None),  # Friday evening: nobody on the rota
        ("2026-03-14T12:00", "jo", None),  # Saturday: jo all day, no deputy named
        ("2026-07-15T08:30", "alex", "sam"),  # in BST: the London clock, not UTC
        ("2026-08-05T10:00", "jo", "alex"),  # sam away: jo covers
        ("2026-08-08T10:00", "kim", None),  # jo covering... and away too that day: kim
        ("2026-12-24T10:00", "sam", None),  # alex away with nobody standing in: a gap
    ],
)
def test_the_rota_names_who_is_on_duty_after_cover(
    when: str, lead: str | None, deputy: str | None
) -> None:
    duty = on_duty(ROTA, LONDON, _london(when))
    assert (duty.lead, duty.name("safeguarding_deputy")) == (lead, deputy)


def test_cover_going_round_in_a_circle_stops() -> None:
    rota = Rota.model_validate(
        {
            "shifts": [{"days": ["mon"], "from": "00:00", "to": "00:00", "lead": "a"}],
            "cover": [
                {"away": "a", "from": "2026-03-09", "until": "2026-03-09", "by": "b"},
                {"away": "b", "from": "2026-03-09", "until": "2026-03-09", "by": "a"},
            ],
        }
    )
    assert on_duty(rota, LONDON, _london("2026-03-09T12:00")).lead in ("a", "b")


def test_gaps_are_named_for_check_config() -> None:
    assert gaps(ROTA) == [
        "no safeguarding lead from mon 00:00 to mon 09:00",  # Sunday's shift ends at midnight
        "no safeguarding lead from fri 17:00 to sat 00:00",
        "no deputy from fri 17:00 to mon 09:00",  # across the week's end
    ]
    assert gaps(Rota()) == []  # no rota at all is said otherwise
    lead_only = Rota.model_validate(
        {"shifts": [{"days": list(("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
                     "from": "00:00", "to": "00:00", "lead": "sam"}]}
    )  # fmt: skip
    assert gaps(lead_only) == ["no deputy on the rota at any time"]


def test_check_config_notes_say_who_is_paged_when_the_rota_cannot_say() -> None:
    alerts = Alerts.model_validate(
        {
            "email": {"enabled": True},
            "people": {"sam": {"email": ["sam@example.org"]}},
            "rota": {
                "shifts": [{"days": ["mon"], "from": "09:00", "to": "17:00", "lead": "sam",
                            "deputy": "alex"}],
                "cover": [{"away": "pat", "from": "2026-01-05", "until": "2026-01-06"}],
            },
        }
    )  # fmt: skip
    notes = rota_notes(alerts)
    gap = "rota: no safeguarding lead from mon 17:00 to mon 09:00; every one in that role is"
    assert f"{gap} paged then" in notes
    assert "rota: alex has no contacts in alerts.people; their pages go to alerts.roles" in notes
    assert "rota: cover for pat, who is on no shift" in notes
    assert not any("sam has no contacts" in n for n in notes)
    assert rota_notes(Alerts()) == [
        "rota: none in config.yaml; every escalation pages every lead and deputy"
    ]


@pytest.mark.parametrize(
    ("rota", "message"),
    [
        ("shifts: [{days: [mon], from: '09:00', to: '17:00'}]", "names a lead, a deputy or both"),
        ("shifts: [{days: [], from: '09:00', to: '17:00', lead: sam}]", "at least 1 item"),
        ("shifts: [{days: [monday], from: '09:00', to: '17:00', lead: sam}]", "days"),
        ("shifts: [{days: [mon], from: '25:00', to: '17:00', lead: sam}]", "from"),
        ("shifts: [{days: [mon], start: '09:00', to: '17:00', lead: sam}]", "unknown key"),
        ("cover: [{away: sam, from: 2026-08-14, until: 2026-08-03}]", "until must be on or after"),
        ("cover: [{away: sam, from: 2026-08-03, until: 2026-08-04, by: sam}]", "for themselves"),
    ],
)
def test_mistakes_in_the_rota_are_named(tmp_path: Path, rota: str, message: str) -> None:
    path = _write(tmp_path, f"alerts:\n  rota:\n    {rota}\n")
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(path, environ_for_tests(tmp_path))
    assert "alerts.rota" in str(raised.value)


def test_a_persons_channels_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="people.sam: no channel called 'pager'"):
        HavenConfig.model_validate({"alerts": {"people": {"sam": {"second_channels": ["pager"]}}}})


def test_the_commented_example_in_config_yaml_is_a_valid_rota() -> None:
    """The example a charity copies must load: uncommented, with the pager it names."""
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    block = re.search(r"^  # people:\n(?:^  #   .*\n|^  # rota:\n)+", text, re.MULTILINE)
    assert block is not None
    example = yaml.safe_load("\n".join(line[4:] for line in block.group(0).splitlines()))
    hook = {"name": "pager", "kind": "signed", "url": "https://x.example", "secret_env": "S"}
    alerts = Alerts.model_validate({**example, "webhooks": [hook]})
    assert len(alerts.rota.shifts) == 3 and alerts.rota.cover[0].by == "jo"
    assert gaps(alerts.rota) == []  # someone is on duty at every hour of the week


HOLIDAYS = WorkingHours(bank_holidays=(date(2026, 12, 25), date(2026, 12, 28)))


def test_bank_holidays_count_for_response_times_as_for_alerts() -> None:
    zone = ZoneInfo(LONDON)
    # Christmas Eve (Thursday) 16:00 to Tuesday 29th 10:00: an hour on the 24th, an hour on the
    # 29th; Christmas Day, the weekend and the Monday bank holiday are not working time.
    hours = working_hours_between(_london("2026-12-24T16:00"), _london("2026-12-29T10:00"), zone,
                                  HOLIDAYS)  # fmt: skip
    assert hours == 2
    assert not is_open(HOLIDAYS, LONDON, datetime(2026, 12, 28, 11, tzinfo=UTC))
    without = working_hours_between(_london("2026-12-24T16:00"), _london("2026-12-29T10:00"), zone,
                                    WorkingHours())  # fmt: skip
    assert without == 2 + 8 + 8


def test_one_working_hours_section_serves_alerts_and_response_times(tmp_path: Path) -> None:
    text = "working_hours: {days: [mon, tue], opens: '08:00', closes: '16:00', bank_holidays: []}"
    config = load_settings(_write(tmp_path, text), environ_for_tests(tmp_path)).config
    assert config.working_hours.opens.hour == 8 and config.working_hours.days == ("mon", "tue")
    assert config.notices == ()
    path = _write(tmp_path, "working_hours: {opens: '17:00', closes: '09:00'}\n")
    with pytest.raises(ConfigError, match=r"config.yaml:1: working_hours: .*closes must be after"):
        load_settings(path, environ_for_tests(tmp_path))


OLD_KEYS = """
dashboard:
  working_hours: {days: [mon, tue, wed, thu, fri], start: "08:30", end: "17:00"}
alerts:
  office_hours:
    opens: "09:00"
    bank_holidays: [2026-12-25]
    back_sentence: "We are back {back}."
"""


def test_the_old_keys_still_read_with_a_clear_notice(tmp_path: Path) -> None:
    path = _write(tmp_path, OLD_KEYS)
    config = load_settings(path, environ_for_tests(tmp_path)).config
    hours = config.working_hours
    # alerts.office_hours wins where the two disagree: it is what a person at risk is told.
    assert (hours.opens.strftime("%H:%M"), hours.closes.hour) == ("09:00", 17)
    assert hours.bank_holidays == (date(2026, 12, 25),)
    assert config.alerts.office_hours.back_sentence == "We are back {back}."
    assert config.notices[0].startswith(
        "deprecated: alerts.office_hours.opens -> working_hours.opens, "
        "alerts.office_hours.bank_holidays -> working_hours.bank_holidays."
    )
    assert "dashboard.working_hours.start -> working_hours.opens" in config.notices[1]
    assert "dashboard.working_hours.start (08:30) differs" in config.notices[2]
    checked = CliRunner().invoke(
        main, ["check-config", "--config", str(path)], env=environ_for_tests(tmp_path)
    )
    assert checked.exit_code == 0, checked.output
    assert "note: deprecated: alerts.office_hours.opens -> working_hours.opens" in checked.output


def test_the_new_section_wins_over_old_keys_left_behind() -> None:
    config = HavenConfig.model_validate(
        {"working_hours": {"opens": "10:00"}, "alerts": {"office_hours": {"opens": "07:00"}}}
    )
    assert config.working_hours.opens.hour == 10
    assert config.notices[0].endswith("(working_hours is set, so these are ignored).")
