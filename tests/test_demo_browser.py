"""`haven demo` as a new user meets it: real server, real signed deliveries, real Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO, service_unavailable

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic is refused on this closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start `python -m bot demo` and read the URL and logins it prints."""
    instance = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PORT=str(_free_port()),
        HAVEN_INSTANCE_PATH=str(instance),
        HAVEN_CONFIG=str(REPO / "config.yaml"),
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        env=env,
        cwd=instance,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: dict[str, str] = {}
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline and "lead" not in found:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if match := re.match(r"dashboard: (http://\S+)", line):
            found["url"] = match.group(1).rstrip("/")
        if match := re.match(r"login: (\S+) / (\S+)$", line.strip()):
            found["admin"] = f"{match.group(1)}:{match.group(2)}"
        if match := re.match(r"safeguarding lead .*: (\S+) / (\S+)$", line.strip()):
            found["lead"] = f"{match.group(1)}:{match.group(2)}"
    try:
        assert {"url", "admin", "lead"} <= found.keys(), "demo output:\n" + "".join(lines)
        found["output"] = "".join(lines)
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        service_unavailable(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(browser, url: str, credentials: str):  # type: ignore[no-untyped-def]
    user, password = credentials.split(":", 1)
    page = browser.new_page()
    page.goto(f"{url}/")
    assert "/login" in page.url  # the dashboard is behind a login
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    return page


def test_the_demo_reports_every_sample_delivered(demo: dict[str, str]) -> None:
    assert re.search(r"Sent 12 signed sample deliveries \(answers: \[200\]\)", demo["output"])
    processed = int(re.search(r"(\d+) items processed", demo["output"]).group(1))
    assert processed >= 11  # one delivery is a duplicate on purpose and adds nothing


def test_an_admin_sees_the_queue_but_not_safeguarding_details(
    demo: dict[str, str],
    browser,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    page = _sign_in(browser, demo["url"], demo["admin"])
    items = page.locator("article.item")
    assert items.count() >= 8
    assert page.locator("mark").count() >= 3  # matched spans are highlighted
    restricted = page.get_by_text("Safeguarding case: details are for the safeguarding lead")
    assert restricted.count() >= 1
    assert "better off without me" not in page.content()
    page.screenshot(path=str(tmp_path / "queue-admin.png"), full_page=True)
    page.close()


def test_the_safeguarding_lead_sees_the_risk_first(
    demo: dict[str, str],
    browser,  # type: ignore[no-untyped-def]
) -> None:
    page = _sign_in(browser, demo["url"], demo["lead"])
    first = page.locator("article.item").first
    assert "risk." in first.inner_text()
    assert "better off without me" in page.content()
    page.get_by_role("link", name="Cases").click()
    assert page.locator("table.cases tbody tr").count() >= 4
    page.close()
