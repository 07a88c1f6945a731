"""Sign-in checks under real concurrency (issue 17, row 4), on SQLite and on PostgreSQL.

Threads, each with its own browser session, are released together against one app and one
database: a TOTP code sent from eight sessions at once signs in once, and thirty wrong passwords
at once get no more checks than the limit allows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from bot.app import create_app
from bot.tasks import LocalEnqueuer
from tests.helpers import make_settings
from tests.web.dashboard.support import PASSWORD, add_user

AppMaker = Callable[..., Flask]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_app(
    request: pytest.FixtureRequest, tmp_path: Path, enqueuer: LocalEnqueuer
) -> Iterator[AppMaker]:
    """Build the app on this test's database, with these `dashboard:` settings."""
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("migrated_postgres_url")
    built: list[Flask] = []

    def make(**dashboard: Any) -> Flask:
        config = {"dashboard": {"secure_cookies": False, **dashboard}}
        app = create_app(make_settings(tmp_path, config=config, **env), enqueuer=enqueuer)
        app.config["WTF_CSRF_ENABLED"] = False
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["haven"].engine.dispose()


def _at_once(count: int, action: Callable[[int], TestResponse]) -> list[TestResponse]:
    """Run action(0..count-1) in threads released at the same moment."""
    start = threading.Barrier(count)

    def run(number: int) -> TestResponse:
        start.wait()
        return action(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_one_code_sent_from_eight_sessions_at_once_signs_in_once(make_app: AppMaker) -> None:
    # A limit high enough that only the code's single use can stop the other seven.
    app = make_app(login_failures_per_user=100, login_failures_per_ip=100)
    key = add_user(app, "lead", "safeguarding_lead")
    assert key is not None
    sessions = [app.test_client() for _ in range(8)]
    for browser in sessions:
        response = browser.post("/login", data={"username": "lead", "password": PASSWORD})
        assert response.headers["Location"] == "/login/code"
    code = pyotp.TOTP(key).now()
    answers = _at_once(8, lambda n: sessions[n].post("/login/code", data={"code": code}))
    signed_in = [a for a in answers if a.status_code == 302 and a.headers["Location"] == "/"]
    assert len(signed_in) == 1, [a.status_code for a in answers]
    assert sum(browser.get("/").status_code == 200 for browser in sessions) == 1


def test_thirty_wrong_passwords_at_once_get_only_the_limits_checks(make_app: AppMaker) -> None:
    app = make_app()  # the default: 5 failures for a username, then waits
    add_user(app, "lead", "safeguarding_lead")

    def guess(number: int) -> TestResponse:
        data = {"username": "lead", "password": f"wrong guess {number}"}
        return app.test_client().post("/login", data=data)

    answers = _at_once(30, guess)
    checked = [a for a in answers if "do not match" in a.get_data(as_text=True)]
    assert len(checked) == 5, [a.status_code for a in answers]
    assert sorted(a.status_code for a in answers) == [200] * 5 + [429] * 25
