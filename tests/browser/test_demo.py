"""`haven demo` as a new user meets it: real server, real signed deliveries, real Chromium.

The journeys of issue 6 by hand: sign in (password, then the code from the printed key),
approve a suggested reply, escalate and open a safeguarding case as the lead, and see it
refused as a moderator added with `haven users add`.
"""

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

import pyotp
import pytest
from playwright.sync_api import expect

from tests.helpers import REPO

pytestmark = [pytest.mark.browser, pytest.mark.stack]  # Chromium on `haven demo` processes


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
    while time.monotonic() < deadline and "key:lead" not in found:
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
        if match := re.match(r"second factor for (\S+): ([A-Z2-7]+)$", line.strip()):
            found[f"key:{match.group(1)}"] = match.group(2)
    try:
        assert {"url", "admin", "lead", "key:admin", "key:lead"} <= found.keys(), (
            "demo output:\n" + "".join(lines)
        )
        found["instance"] = str(instance)
        found["output"] = "".join(lines)
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _sign_in(browser, url: str, credentials: str, key: str | None = None):  # type: ignore[no-untyped-def]
    user, password = credentials.split(":", 1)
    page = browser.new_page()
    page.goto(f"{url}/")
    assert "/login" in page.url  # the dashboard is behind a login
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if key is not None:
        # Admins and leads: the 6-digit code from the key `haven demo` printed.
        page.wait_for_url("**/login/code")
        page.get_by_label("6-digit code").fill(pyotp.TOTP(key).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{url}/")
    return page


@pytest.fixture(scope="module")
def admin(demo: dict[str, str], browser):  # type: ignore[no-untyped-def]
    """The admin, signed in once (a code is accepted once): tests open pages beside it."""
    page = _sign_in(browser, demo["url"], demo["admin"], demo["key:admin"])
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def lead(demo: dict[str, str], browser):  # type: ignore[no-untyped-def]
    page = _sign_in(browser, demo["url"], demo["lead"], demo["key:lead"])
    yield page
    page.context.close()


def test_the_demo_reports_every_sample_delivered(demo: dict[str, str]) -> None:
    assert re.search(r"Sent 12 signed sample deliveries \(answers: \[200\]\)", demo["output"])
    processed = int(re.search(r"(\d+) items processed", demo["output"]).group(1))
    assert processed >= 11  # one delivery is a duplicate on purpose and adds nothing


def test_an_admin_sees_the_queue_but_not_safeguarding_details(
    admin,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    page = admin
    page.reload()
    items = page.locator("article.item")
    assert items.count() >= 8
    assert page.locator("mark").count() >= 3  # matched spans are highlighted
    restricted = page.get_by_text("Safeguarding case: details are for the safeguarding lead")
    assert restricted.count() >= 1
    assert "better off without me" not in page.content()
    page.screenshot(path=str(tmp_path / "queue-admin.png"), full_page=True)


def test_the_safeguarding_lead_sees_the_risk_first(lead) -> None:  # type: ignore[no-untyped-def]
    page = lead
    page.get_by_role("link", name="Queue").click()
    first = page.locator("article.item").first
    assert "Possible suicide risk" in first.locator(".concerns").inner_text()
    assert "risk." not in first.inner_text(), "the code stays behind why?"
    assert "better off without me" in page.content()
    page.get_by_role("link", name="Cases").click()
    page.wait_for_url("**/cases")
    assert page.locator("table.cases tbody tr").count() >= 4


def test_an_admin_approves_a_suggested_reply(admin) -> None:  # type: ignore[no-untyped-def]
    page = admin
    page.get_by_role("link", name="Queue").click()
    jo = page.locator("article.item").filter(has_text="failing")
    reply = jo.get_by_label(re.compile("Private reply text"))
    reply.fill("Hi Jo, thank you for writing. Could we message you privately?")
    jo.get_by_role("button", name="Approve and send").first.click()
    expect(
        page.get_by_role("status").filter(has_text="dry run: recorded, not sent")
    ).to_be_visible()
    jo = page.locator("article.item").filter(has_text="failing")
    assert "Could we message you privately?" in jo.inner_text()


def test_the_lead_escalates_a_case_and_opens_the_safeguarding_case(lead) -> None:  # type: ignore[no-untyped-def]
    page = lead
    page.get_by_role("link", name="Cases").click()
    page.get_by_label("Type").select_option("complaint")
    page.get_by_role("button", name="Show").click()
    # Until the filtered list has loaded, the table on screen is the unfiltered one.
    page.wait_for_url(re.compile(r"type=complaint"))
    page.locator("table.cases tbody a").first.click()
    page.get_by_text("Change status", exact=True).click()
    page.get_by_label("New status").select_option("escalated")
    page.get_by_label("Reason").fill("LH mentions feeling unsafe at home on the phone, 21 Nov")
    page.get_by_role("button", name="Save status").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "safeguarding · escalated" in heading
    assert "LH mentions feeling unsafe at home" in page.locator("ol.chronology").inner_text()
    page.get_by_role("link", name="Cases").click()
    page.get_by_label("Type").select_option("safeguarding")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"type=safeguarding"))
    assert page.locator("table.cases tbody tr").count() >= 2
    risky = page.locator("table.cases tbody tr").filter(has_text="Ana P.")
    risky.get_by_role("link").first.click()
    assert "better off without me" in page.locator("ol.chronology").inner_text()


def test_a_moderator_is_refused_the_safeguarding_case(demo: dict[str, str], browser) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(HAVEN_INSTANCE_PATH=str(Path(demo["instance"]) / "demo"),
               HAVEN_CONFIG=str(REPO / "config.yaml"))  # fmt: skip
    added = subprocess.run(
        [sys.executable, "-m", "bot", "users", "add", "mod", "--role", "moderator"],
        env=env, cwd=demo["instance"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    password = re.search(r"password: (\S+)", added.stdout).group(1)  # type: ignore[union-attr]
    page = _sign_in(browser, demo["url"], f"mod:{password}")  # no second factor for moderators
    assert page.get_by_text("Safeguarding case: details are for the safeguarding lead").count() >= 1
    page.get_by_role("link", name="Cases").click()
    restricted = page.locator("table.cases tbody tr").filter(has_text="restricted").first
    restricted.get_by_role("link").first.click()
    expect(page.get_by_text("your visit has been recorded")).to_be_visible()
    assert "better off without me" not in page.content()
    page.context.close()
