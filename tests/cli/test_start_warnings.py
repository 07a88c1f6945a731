"""`haven serve`, `haven worker` and `haven tick` say check-config's warnings as they start:
one line each on stderr, so a missing secret is seen where the process runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import environ_for_tests, write_config

pytestmark = pytest.mark.stack  # real `haven` processes

WARNINGS = (
    "warning: app secret NOT SET: set META_APP_SECRET before Meta sends webhooks",
    "warning: verify token NOT SET: set META_VERIFY_TOKEN before subscribing the webhook",
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, **environ_for_tests(tmp_path, HAVEN_CONFIG=str(write_config(tmp_path)))}
    for name in ("META_APP_SECRET", "META_VERIFY_TOKEN", "REDIS_URL"):
        env.pop(name, None)
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def _assert_warned(stderr: str) -> None:
    lines = _warning_lines(stderr)
    for expected in WARNINGS:
        assert sum(line.startswith(expected) for line in lines) == 1, stderr


def _haven(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_tick_says_the_warnings(tmp_path: Path) -> None:
    done = _haven(["tick", "--once"], _env(tmp_path))
    assert done.returncode == 0, done.stderr
    _assert_warned(done.stderr)
    assert not _warning_lines(done.stdout)  # stdout stays for what the command produces


@pytest.mark.redis
def test_worker_says_the_warnings(tmp_path: Path) -> None:
    redis_url = os.environ.get("HAVEN_TEST_REDIS", "redis://127.0.0.1:6379/15")
    done = _haven(["worker", "--burst"], _env(tmp_path, REDIS_URL=redis_url))
    assert done.returncode == 0, done.stderr
    _assert_warned(done.stderr)


def test_serve_says_the_warnings_before_it_serves(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=_env(tmp_path, PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # printed after the warnings
        assert first.startswith(f"Haven on http://127.0.0.1:{port}/"), first
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    _assert_warned(stderr)
