"""Debian's Chromium driven by Playwright, as every browser test and the screenshots use it.

Playwright never downloads a browser here: it drives /usr/bin/chromium.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from bot.tasks import LocalEnqueuer

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


@contextmanager
def serving(app: Flask, queue: LocalEnqueuer) -> Iterator[str]:
    """The app behind a real threaded server (CSRF on, as in production): its base URL. The
    server and then the app's queue are stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        queue.stop()
