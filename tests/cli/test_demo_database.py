"""Commands run after `haven demo` find the demo's database: asked (`--demo`), or by themselves
when the charity has no database of its own yet; stderr says which one is used."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.demo.where import record_where
from tests.helpers import REPO, environ_for_tests, write_config
from tests.support.databases import copy_sqlite_template

DEMO_NOTE = "using the demo's database at sqlite:///"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _haven_env(instance: Path) -> dict[str, str]:
    """A shell with no database or key of its own, as after `make demo` in a fresh checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "HAVEN_DATA_KEYS", "HAVEN_DATA_KEYS_FILE"}
    }
    env.update(
        HAVEN_INSTANCE_PATH=str(instance),
        HAVEN_CONFIG=str(REPO / "config.yaml"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _items(env: dict[str, str], cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "items", "--json", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.stack
def test_items_in_another_terminal_lists_the_running_and_the_finished_demos_items(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    env = _haven_env(instance)
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        env={**env, "PORT": str(_free_port())},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    processed = None
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 120
        while processed is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().endswith("items processed."):
                processed = int(line.split()[0])
        assert processed, "demo output:\n" + "".join(lines)
        running = _items(env, tmp_path)
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.communicate(timeout=30)
    assert running.returncode == 0, running.stderr
    listed = [json.loads(line) for line in running.stdout.splitlines()]
    assert len([i for i in listed if i["status"] == "processed"]) >= processed
    assert all(i["account_id"] for i in listed) and any(i["categories"] for i in listed)
    # The texts are the demo's own, readable with the key the demo made for its run.
    assert any("private message" in (i["text"] or "") or i["text"] for i in listed)
    assert DEMO_NOTE + str(instance / "demo") in running.stderr
    assert "no DATABASE_URL is set" in running.stderr
    assert not (instance / "haven.sqlite").exists()  # the charity's own: never made by accident

    finished = _items(env, tmp_path, "--demo")  # after the demo has stopped, and asked for
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == running.stdout and "(--demo)" in finished.stderr


def _run(env: dict[str, str | None], args: list[str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _env(tmp_path: Path, **extra: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = dict(environ_for_tests(tmp_path))
    base.update(DATABASE_URL=None, HAVEN_CONFIG=str(write_config(tmp_path)), **extra)
    return base


def _recorded_demo(tmp_path: Path) -> Path:
    database = copy_sqlite_template(tmp_path / "instance" / "demo" / "haven.sqlite")
    record_where(database.parent, f"sqlite:///{database}", None)
    return database


def test_asked_for_a_demo_that_never_ran_says_so_and_creates_nothing(tmp_path: Path) -> None:
    result = _run(_env(tmp_path), ["users", "list", "--demo"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no demo has run here (")
    assert "start one with `haven demo`" in result.output and len(result.output.splitlines()) == 1
    assert not (tmp_path / "instance").exists()


def test_without_a_database_of_its_own_a_command_uses_the_demos_and_says_so(
    tmp_path: Path,
) -> None:
    database = _recorded_demo(tmp_path)
    result = _run(_env(tmp_path), ["users", "list"])
    assert result.exit_code == 0, result.output
    assert f"{DEMO_NOTE}{database} (no DATABASE_URL is set" in result.output
    assert "no users yet" in result.output
    assert not (tmp_path / "instance" / "haven.sqlite").exists()


def test_the_charitys_own_database_wins_over_the_demos_unless_asked(tmp_path: Path) -> None:
    _recorded_demo(tmp_path)
    own = tmp_path / "instance" / "haven.sqlite"
    env = _env(tmp_path)
    assert _run(env, ["init-db"]).exit_code == 0 and own.exists()  # init-db makes the charity's
    added = _run(env, ["users", "add", "sam", "--role", "moderator"])
    assert added.exit_code == 0 and "demo" not in added.output, added.output
    assert "sam\tmoderator" in _run(env, ["users", "list"]).output
    in_demo = _run(env, ["users", "list", "--demo"])
    assert "sam" not in in_demo.output and "(--demo)" in in_demo.output
    named = _run({**env, "DATABASE_URL": f"sqlite:///{own}"}, ["users", "list"])
    assert "sam\tmoderator" in named.output and "demo" not in named.output


def test_the_demos_key_is_kept_owner_only_and_dropped_when_a_run_brings_its_own(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "instance" / "demo"
    record_where(folder, "sqlite:///demo.sqlite", "a-key-made-for-this-run")
    key_file = folder / "data-key"
    assert key_file.read_text() == "a-key-made-for-this-run"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert json.loads((folder / "where.json").read_text())["data_keys_file"] == str(key_file)
    record_where(folder, "sqlite:///demo.sqlite", None)  # run with the operator's own key
    assert not key_file.exists()
    assert json.loads((folder / "where.json").read_text())["data_keys_file"] is None
