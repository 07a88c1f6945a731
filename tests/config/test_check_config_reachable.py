"""`haven check-config` in production: the safeguarding lead must be reachable beyond the
dashboard (unless config.yaml says that is accepted), and what Haven sends by itself out of
hours must have its template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.cli import main
from tests.helpers import REPO, TEST_ACCOUNTS, environ_for_tests

# The safeguarding lead reachable by text message, and the SMS provider's secrets.
SMS_LEAD = {
    "alerts": {
        "sms": {"enabled": True, "from_number": "+44 7400 123000"},
        "roles": {"safeguarding_lead": {"phones": ["+44 7400 123456"], "channels": ["sms"]}},
    }
}
SMS_SECRETS = {"HAVEN_SMS_ACCOUNT_SID": "AC0123", "HAVEN_SMS_AUTH_TOKEN": "sms-token-for-tests-77"}


def _check(tmp_path: Path, change: dict[str, Any] | None = None, **env: str) -> Result:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    for section, values in (change or {}).items():
        config[section].update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    environ = environ_for_tests(tmp_path, **env)
    return CliRunner().invoke(main, ["check-config", "--config", str(path)], env=environ)


@pytest.mark.parametrize(
    ("change", "env"),
    [
        (None, {"REDIS_URL": "redis://127.0.0.1:6379/7"}),  # the production shape
        (None, {"DATABASE_URL": "postgresql://haven@127.0.0.1/haven"}),
        ({"meta": {"accounts": TEST_ACCOUNTS}}, {}),  # it looks after a real page
    ],
)
def test_production_with_the_lead_only_on_the_dashboard_fails(
    tmp_path: Path, change: dict[str, Any] | None, env: dict[str, str]
) -> None:
    result = _check(tmp_path, change, **env)
    assert result.exit_code == 1, result.output
    assert "lead reachable: ONLY ON THE DASHBOARD" in result.output
    assert "alerts.accept_dashboard_only: true" in result.output


def test_a_trial_on_this_machine_only_warns(tmp_path: Path) -> None:
    result = _check(tmp_path)  # SQLite, in-process queue, no page connected
    assert result.exit_code == 0, result.output
    assert "lead reachable: ONLY ON THE DASHBOARD" in result.output


def test_production_passes_when_the_charity_accepts_the_dashboard_only(tmp_path: Path) -> None:
    result = _check(tmp_path, {"alerts": {"accept_dashboard_only": True}}, REDIS_URL="redis://x")
    assert result.exit_code == 0, result.output


def test_production_passes_when_the_lead_gets_a_text(tmp_path: Path) -> None:
    missing = _check(tmp_path, SMS_LEAD, REDIS_URL="redis://x")
    assert missing.exit_code == 1 and "HAVEN_SMS_ACCOUNT_SID" in missing.output
    result = _check(tmp_path, SMS_LEAD, REDIS_URL="redis://x", **SMS_SECRETS)
    assert result.exit_code == 0, result.output
    assert "sms on" in result.output and "lead reachable: yes" in result.output


def test_an_out_of_hours_template_that_does_not_exist_is_named(tmp_path: Path) -> None:
    wanted = {"acknowledge_messages": True, "acknowledgement_template": "closed_tonight"}
    change = {"alerts": {"out_of_hours": wanted}}
    result = _check(tmp_path, change)
    assert result.exit_code == 1
    assert "no private reply template 'closed_tonight'" in result.output


def test_ok_alone_means_nothing_is_missing(tmp_path: Path) -> None:
    result = _check(tmp_path, SMS_LEAD, **SMS_SECRETS)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: accounts [") and "warning:" not in result.output


def test_what_is_missing_but_optional_is_a_warning_line_and_exit_0(tmp_path: Path) -> None:
    # Without the app secret (an empty variable is unset) and with the lead on the dashboard only.
    result = _check(tmp_path, META_APP_SECRET="")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok with 2 warnings: ") and "app secret NOT SET" in lines[0]
    assert [line.split(":")[0:2] for line in lines[1:3]] == [
        ["warning", " app secret NOT SET"],
        ["warning", " alerts"],
    ]
    assert "ONLY ON THE DASHBOARD" in lines[2]
    assert lines[3].startswith("note: rota: ")  # the notes still follow


def test_one_warning_is_singular(tmp_path: Path) -> None:
    result = _check(tmp_path, SMS_LEAD, **SMS_SECRETS, META_VERIFY_TOKEN="")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok with 1 warning: ")
    assert "warning: verify token NOT SET: set META_VERIFY_TOKEN" in result.output
