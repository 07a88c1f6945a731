"""Take the README's screenshots from a real `haven demo` in Debian's Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo on a free port with its own instance folder, signs in as the demo's lead and
admin (password and second factor, as a person would), saves the main pages at desktop and
phone widths, and stops the demo. Every text in the demo is invented.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.browser.support: one way of starting Chromium everywhere

from tests.browser.support import chromium  # noqa: E402

PATTERNS = {
    "url": r"dashboard: (http://\S+)",
    "admin": r"login: admin / (\S+)",
    "lead": r"safeguarding lead .*: lead / (\S+)",
    "admin_key": r"second factor for admin: (\S+)",
    "lead_key": r"second factor for lead: (\S+)",
}


def start_demo(instance: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PORT=str(port), HAVEN_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1",
               HAVEN_CONFIG=str(ROOT / "config.yaml"))  # fmt: skip
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"], env=env, cwd=instance, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    found: dict[str, str] = {}
    deadline = time.monotonic() + 90
    assert demo.stdout is not None
    while time.monotonic() < deadline and len(found) < len(PATTERNS):
        line = demo.stdout.readline()
        if not line:
            break
        for key, pattern in PATTERNS.items():
            if match := re.match(pattern, line.strip()):
                found[key] = match.group(1).rstrip("/")
    if len(found) < len(PATTERNS):
        demo.kill()
        raise SystemExit(f"the demo did not print its logins (got {sorted(found)})")
    return demo, found


def sign_in(browser: Browser, demo: dict[str, str], user: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{demo['url']}/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(demo[user])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(demo[f"{user}_key"]).now())
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{demo['url']}/")
    return page


def check_a_post(page: Page, url: str) -> None:
    """A made-up draft post with a child's name, school and a phone number, checked."""
    page.goto(f"{url}/check")
    page.get_by_label("Draft post").fill(
        "Lovely to see Jake at Oakfield Primary on sports day! Call Sue on 07700 900123."
    )
    page.get_by_role("button", name="Check").click()
    page.wait_for_selector(".check-result")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        process, demo = start_demo(Path(instance))
        try:
            with chromium() as browser:
                lead = sign_in(browser, demo, "lead", 1280)
                # The demo's first case is Jo's support request, its second the safeguarding one.
                shots = {
                    "queue-lead": "/",
                    "cases": "/cases",
                    "case-support": "/cases/1",
                    "case-safeguarding": "/cases/2",
                    "alerts": "/alerts/",
                    "response-times": "/response-times",
                    "directory": "/directory",
                }
                for name, path in shots.items():
                    lead.goto(f"{demo['url']}{path}")
                    lead.screenshot(path=str(args.out / f"{name}.png"))
                check_a_post(lead, demo["url"])
                lead.screenshot(path=str(args.out / "check-a-post.png"))
                # A phone's width: concerns wrap, tables stack (tests/browser/test_page_walk.py).
                lead.set_viewport_size({"width": 360, "height": 800})
                lead.goto(f"{demo['url']}/alerts/")
                lead.screenshot(path=str(args.out / "alerts-phone.png"))
                admin = sign_in(browser, demo, "admin", 1280)
                admin.goto(f"{demo['url']}/privacy")  # data protection is for admins only
                admin.screenshot(path=str(args.out / "data-protection.png"))
                # The same session on a phone: a second sign-in would reuse the TOTP code.
                admin.set_viewport_size({"width": 360, "height": 900})
                admin.goto(f"{demo['url']}/")
                admin.screenshot(path=str(args.out / "queue-admin-phone.png"))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
