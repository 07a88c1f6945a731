"""The end-to-end tests' starter runs the `haven` command as `python -m bot` would: with the
test's arguments, environment and log, its exit code, and nothing left behind when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, environ_for_tests, use_production_services, write_config
from tests.support.stack import wait_until
from tests.support.warm_start import WarmProcess, WarmStarter

pytestmark = pytest.mark.stack


def _start(args: list[str], env: dict[str, str], log: Path) -> WarmProcess:
    """`haven *args` from the starter, in the test's environment as the stack harness runs it."""
    return WarmStarter.shared().start(args, {**os.environ, **env}, log)


def _started(args: list[str], env: dict[str, str], log: Path) -> tuple[int, str]:
    code = _start(args, env, log).wait(timeout=60)
    return code, log.read_text(encoding="utf-8")


def _production(tmp_path: Path, postgres_url: str, redis_url: str) -> dict[str, str]:
    env = environ_for_tests(tmp_path, HAVEN_CONFIG=str(write_config(tmp_path)))
    use_production_services(env, postgres_url, redis_url)
    return env


def test_a_command_gets_its_arguments_environment_and_exit_code_as_from_python_m_bot(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["alerts"]["accept_dashboard_only"] = True
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = environ_for_tests(tmp_path, HAVEN_CONFIG=str(config), TEST_IG_TOKEN="ig-token")
    code, output = _started(["check-config"], env, tmp_path / "good.log")
    cold = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (code, output) == (cold.returncode, cold.stdout + cold.stderr) == (0, output)
    assert "missing tokens []" in output  # TEST_IG_TOKEN: the test's environment, not the starter's

    env["HAVEN_CONFIG"] = str(tmp_path / "missing.yaml")
    code, output = _started(["check-config"], env, tmp_path / "bad.log")
    assert code != 0 and "missing.yaml" in output


def _group(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.postgres
@pytest.mark.redis
def test_a_killed_worker_reports_the_signal_and_its_scheduler_is_stopped_with_its_group(
    tmp_path: Path, migrated_postgres_url: str, redis_url: str
) -> None:
    env = _production(tmp_path, migrated_postgres_url, redis_url)
    worker = _start(["worker"], env, tmp_path / "w.log")
    try:
        # rq starts its scheduler, a child process in the worker's group.
        wait_until(lambda: len(_group(worker.pid)) >= 2, 60, "the worker's scheduler")
        assert worker.poll() is None
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
        assert _group(worker.pid), "the scheduler outlives the worker a drill kills"
    finally:
        worker.kill_group()
    wait_until(lambda: not _group(worker.pid), 10, "the group to be gone")


@pytest.mark.postgres
@pytest.mark.redis
def test_sigterm_ends_a_command_that_does_not_catch_it_as_in_a_fresh_python(
    tmp_path: Path, migrated_postgres_url: str, redis_url: str
) -> None:
    log = tmp_path / "tick.log"
    tick = _start(["tick"], _production(tmp_path, migrated_postgres_url, redis_url), log)
    try:
        wait_until(lambda: log.exists() and log.stat().st_size > 0, 60, "the tick to start")
        tick.send_signal(signal.SIGTERM)  # the starter's own handler would exit with 0
        assert tick.wait(timeout=10) == -signal.SIGTERM
    finally:
        tick.kill_group()
