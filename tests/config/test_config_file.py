"""config.yaml and the environment: validated at start, errors that name the key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    dashboard_secret_key,
    load_settings,
    normalise_database_url,
)
from rules import load_ruleset
from tests.helpers import REPO


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HAVEN_INSTANCE_PATH": str(tmp_path / "instance"), **extra}


def test_the_repository_config_loads_with_its_rules(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.yaml", _env(tmp_path))
    assert settings.config.meta.graph_api_version >= "v24.0"
    assert settings.config.meta.dry_run is True
    assert len(load_ruleset(settings.config.rules).rules) > 0


def test_an_unknown_key_is_named_with_its_path_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta:\n  dry_run: true\n  acounts: []\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, _env(tmp_path))
    assert f"{path}:3: meta.acounts: unknown key" in str(error.value)


def test_a_bad_value_inside_a_list_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "meta:\n  accounts:\n    - id: 1\n      name: p\n      platform: myspace\n"
        "      token_env: PAGE_TOKEN\n",
    )
    with pytest.raises(ConfigError, match=r"config.yaml:5: meta.accounts\[0\].platform"):
        load_settings(path, _env(tmp_path))


def test_an_old_graph_version_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta:\n  graph_api_version: v20.0\n")
    with pytest.raises(ConfigError, match="meta.graph_api_version"):
        load_settings(path, _env(tmp_path))


def test_a_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "meta:\n  app_secret: abc123\n")
    with pytest.raises(ConfigError, match="meta.app_secret: secrets belong in the environment"):
        load_settings(path, _env(tmp_path))


def test_placeholder_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(REPO / "config.yaml", _env(tmp_path, SECRET_KEY="changethis"))


def test_secrets_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "app_secret"
    secret_file.write_text("from-a-file\n", encoding="utf-8")
    path = _write(
        tmp_path,
        "meta:\n  accounts:\n"
        "    - {id: '42', name: p, platform: facebook, token_env: PAGE_TOKEN}\n",
    )
    settings = load_settings(
        path, _env(tmp_path, META_APP_SECRET_FILE=str(secret_file), PAGE_TOKEN="page-token-xyz")
    )
    assert settings.app_secrets() == ["from-a-file"]
    assert settings.tokens["42"].get_secret_value() == "page-token-xyz"
    assert "from-a-file" not in settings.summary() and "page-token-xyz" not in repr(settings)


def test_a_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.yaml", _env(tmp_path))
    assert settings.secret_key is None
    assert not (tmp_path / "instance" / "secret_key").exists()  # nothing written by loading
    first = dashboard_secret_key(settings)
    second = dashboard_secret_key(load_settings(REPO / "config.yaml", _env(tmp_path)))
    assert first == second and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_database_urls_are_normalised_to_psycopg() -> None:
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_without_database_url_the_sqlite_file_lives_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.yaml", _env(tmp_path))
    assert settings.database_url == f"sqlite:///{(tmp_path / 'instance' / 'haven.sqlite')}"
    assert settings.embedded


def test_check_config_prints_a_summary_or_the_fault(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner()
    good = runner.invoke(
        main, ["check-config", "--config", str(REPO / "config.yaml")], env=_env(tmp_path)
    )
    assert good.exit_code == 0, good.output
    # No Meta secrets, data keys or lead contacts in this environment: "ok" only with warnings.
    assert good.output.startswith("ok with 4 warnings: ") and "rules" in good.output
    assert "lead reachable: ONLY ON THE DASHBOARD" in good.output  # no channel set up yet
    assert "warning: app secret NOT SET: set META_APP_SECRET" in good.output
    bad = runner.invoke(
        main, ["check-config", "--config", str(_write(tmp_path, "queue: 3\n"))], env=_env(tmp_path)
    )
    assert bad.exit_code == 1
    assert "queue" in bad.output


def test_check_config_names_a_missing_alert_secret(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    path = _write(
        tmp_path,
        "alerts:\n  email: {enabled: true, host: smtp.example.org, username: haven,"
        " password_env: HAVEN_SMTP_PASSWORD}\n",
    )
    result = CliRunner().invoke(main, ["check-config", "--config", str(path)], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "HAVEN_SMTP_PASSWORD" in result.output


def test_how_long_haven_waits_for_meta_is_the_configs(tmp_path: Path) -> None:
    from bot.context import JobContext
    from tests.helpers import TEST_ACCOUNTS, make_settings

    meta = {"accounts": TEST_ACCOUNTS, "timeout_seconds": 2.5}
    settings = make_settings(tmp_path, config={"meta": meta})
    graph = JobContext(settings=settings, engine=None, enqueuer=None).graph  # type: ignore[arg-type]
    assert graph.timeout == 2.5
    assert make_settings(tmp_path).config.meta.timeout_seconds == 10
    config = _write(tmp_path, "meta:\n  timeout_seconds: 0\n")
    with pytest.raises(ConfigError, match="timeout_seconds"):
        load_settings(str(config), _env(tmp_path))
