"""Debian's Chromium driven by Playwright, as every browser test and the screenshots use it.

Playwright never downloads a browser here: it drives /usr/bin/chromium.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.servers import POLL

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


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: Any, url: str, app: Any, name: str, key: str | None = None) -> Any:
    """A new page signed in as `name` (with its second factor when it has a key)."""
    import pyotp
    from sqlmodel import select

    from bot.db import session_scope
    from bot.models import User
    from tests.web.dashboard.support import PASSWORD

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if key is not None:
        page.wait_for_url("**/login/code")
        # Tests sign in anew within seconds; a real person's code is accepted once.
        with session_scope(app.extensions["haven"].engine) as db:
            db.exec(select(User).where(User.username == name)).one().totp_last_step = None
        page.get_by_label("6-digit code").fill(pyotp.TOTP(key).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{url}/")
    return page


def browser_or_skip() -> Iterator[Any]:
    """A module's browser fixture: Chromium, or a skip (a failure in CI) without it."""
    from tests.helpers import service_unavailable

    if not Path(CHROMIUM).exists():
        service_unavailable(f"Chromium at {CHROMIUM}")
    with chromium() as browser:
        yield browser


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on a real local server (CSRF on, as in production); yields its address."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@contextmanager
def live_with_lead(
    directory: Path, prepare: Callable[[Any], None] | None = None
) -> Iterator[dict[str, Any]]:
    """The app (settings in `directory`, `prepare`d) on a real local server, with a
    safeguarding lead: {"url", "app", "key" (the lead's second factor)}."""
    from bot.app import create_app
    from bot.tasks import LocalEnqueuer
    from tests.helpers import make_settings
    from tests.web.dashboard.support import add_user

    queue = LocalEnqueuer([0, 0, 0])
    app = create_app(make_settings(directory), enqueuer=queue)
    if prepare is not None:
        prepare(app)
    key = add_user(app, "lead", "safeguarding_lead")
    try:
        with served(app) as url:
            yield {"url": url, "app": app, "key": key}
    finally:
        queue.stop()
