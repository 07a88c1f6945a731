"""Commands that need the database say so in one line, and create nothing, when it is missing
or older than this version; `haven init-db` still creates and upgrades it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.db import head_revision, make_engine, upgrade
from tests.helpers import PAGE_ID, environ_for_tests, write_config

# Every `haven` command that reads or writes the database but must not create it.
DATABASE_COMMANDS = [
    ["items"],
    ["users", "add", "sam", "--role", "moderator"],
    ["users", "list"],
    ["users", "reset-password", "sam"],
    ["users", "reset-totp", "sam"],
    ["users", "set-role", "sam", "--role", "admin"],
    ["audit", "verify"],
    ["retention", "report"],
    ["retention", "purge"],
    ["subject", "export", "--platform", "facebook", "--user", "123"],
    ["subject", "erase", "--platform", "facebook", "--user", "123", "--yes"],
    ["keys", "rotate"],
    ["resume-sending", PAGE_ID],
]


def _run(tmp_path: Path, database_url: str, args: list[str]) -> Result:
    env = environ_for_tests(
        tmp_path, DATABASE_URL=database_url, HAVEN_CONFIG=str(write_config(tmp_path))
    )
    return CliRunner().invoke(main, args, env=env)


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_without_a_database_each_command_says_run_init_db_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    path = tmp_path / "not-yet" / "haven.sqlite"
    result = _run(tmp_path, f"sqlite:///{path}", args)
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: there is no Haven database at sqlite:///{path} yet: run `haven init-db` first\n"
    )
    assert not path.parent.exists()


def test_an_empty_file_left_by_an_earlier_run_is_no_database_either(tmp_path: Path) -> None:
    path = tmp_path / "haven.sqlite"
    path.touch()
    result = _run(tmp_path, f"sqlite:///{path}", ["audit", "verify"])
    assert result.exit_code == 1
    assert "there is no Haven database" in result.output and "Traceback" not in result.output
    assert path.stat().st_size == 0


def test_init_db_still_creates_the_database_and_then_the_commands_work(tmp_path: Path) -> None:
    path = tmp_path / "new" / "haven.sqlite"
    created = _run(tmp_path, f"sqlite:///{path}", ["init-db"])
    assert created.exit_code == 0 and path.exists(), created.output
    listed = _run(tmp_path, f"sqlite:///{path}", ["audit", "verify"])
    assert listed.exit_code == 0 and listed.output.startswith("audit log: "), listed.output


def _old_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    upgrade(engine, "0010")
    engine.dispose()
    return url


@pytest.mark.parametrize(
    "engine_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
@pytest.mark.parametrize("args", [["items"], ["users", "add", "sam", "--role", "admin"]])
def test_a_database_migrated_by_an_older_version_is_named_as_behind(
    request: pytest.FixtureRequest, tmp_path: Path, engine_name: str, args: list[str]
) -> None:
    if engine_name == "sqlite":
        url = _old_sqlite(tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        upgrade(engine, "0010")
        engine.dispose()
    result = _run(tmp_path, url, args)
    assert result.exit_code == 1
    assert result.output.endswith(
        f"is behind this version (revision 0010, wanted {head_revision()}): "
        "run `haven init-db` to upgrade it\n"
    )
    assert "added" not in result.output and len(result.output.splitlines()) == 1


@pytest.mark.postgres
def test_an_empty_postgresql_database_says_run_init_db(postgres_url: str, tmp_path: Path) -> None:
    result = _run(tmp_path, postgres_url, ["retention", "report"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: there is no Haven database at postgresql")
    assert "run `haven init-db` first" in result.output


@pytest.mark.postgres
def test_a_database_that_cannot_be_opened_is_named_without_its_password(
    postgres_url: str, tmp_path: Path
) -> None:
    missing = postgres_url.rsplit("/", 1)[0].replace("://postgres@", "://postgres:s3cret-pw@")
    result = _run(tmp_path, f"{missing}/haven_does_not_exist", ["items"])
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
    assert "cannot open the database at" in result.output and "***" in result.output
    assert "s3cret-pw" not in result.output and "haven_does_not_exist" in result.output


@pytest.mark.parametrize(
    "args", [["check-config"], ["keys", "generate"]], ids=lambda a: " ".join(a[:2])
)
def test_commands_that_need_no_database_create_none(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "not-yet" / "haven.sqlite"
    result = _run(tmp_path, f"sqlite:///{path}", args)
    # check-config may refuse the test accounts' alerts (exit 1); never for want of a database.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "database" not in result.output.split("\n", 1)[-1] and "init-db" not in result.output
    assert not path.parent.exists()
