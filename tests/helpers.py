"""Helpers shared by the tests: settings for a temporary instance, signed deliveries, payloads."""

from __future__ import annotations

import copy
import functools
import json
import os
import secrets
import weakref
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.config import Settings, load_settings
from bot.context import JobContext
from rules.files import load_yaml
from webhooks.signature import sign

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP_SECRET = "test-app-secret-5f1c"
VERIFY_TOKEN = "test-verify-token-93ab"
PAGE_ID = "111222333444555"
IG_ID = "17841400000000000"
POSTGRES_ADMIN_URL = os.environ.get(
    "HAVEN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A fixed Fernet key for message texts at rest: tests read what other test processes wrote.
DATA_KEY = "CQHl6yWM4WFH5IX4PkvfKBwtjwCpNMZF4Qdcx6kREEA="


def _redis_test_url() -> str:
    """The Redis database of this test process: `HAVEN_TEST_REDIS` (default db 15) for a plain
    run; under pytest-xdist each worker counts down from it (gw0 -> 15, gw1 -> 14, ...), because
    the tests empty their database before and after each test."""
    base = os.environ.get("HAVEN_TEST_REDIS", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    server, _, db = base.rpartition("/")
    return f"{server}/{int(db) - int(worker[2:])}"


REDIS_TEST_URL = _redis_test_url()
TEST_ACCOUNTS = [
    {"id": PAGE_ID, "name": "Test page", "platform": "facebook", "token_env": "TEST_PAGE_TOKEN"},
    {"id": IG_ID, "name": "Test IG", "platform": "instagram", "token_env": "TEST_IG_TOKEN"},
]


def service_unavailable(what: str) -> None:
    """Skip on a developer's machine; fail in CI, where every service must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not reachable, and CI must not skip it", pytrace=False)
    pytest.skip(f"{what} is not reachable (run `make services`)")


def environ_for_tests(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a test's Haven; its SQLite database starts as a copy of the session's
    migrated template (a directory that does not exist gets none: some config tests pass one)."""
    if "DATABASE_URL" not in extra and tmp_path.is_dir():
        from tests.support.databases import copy_sqlite_template

        copy_sqlite_template(tmp_path / "haven.sqlite")
    return {
        "HAVEN_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'haven.sqlite'}",
        "SECRET_KEY": secrets.token_hex(16),
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "TEST_PAGE_TOKEN": "page-token-for-tests",
        "HAVEN_DATA_KEYS": DATA_KEY,
        **extra,
    }


@functools.cache
def _repo_config_file() -> dict[str, Any]:
    # Read once per test process: nearly every test builds settings from it.
    return load_yaml((REPO / "config.yaml").read_text(encoding="utf-8"))


def repo_config(*, crisis_reply_out_of_hours: bool = False) -> dict[str, Any]:
    """The repository's config.yaml as data. Tests pass at any hour, so the crisis reply it
    sends by itself out of hours is off unless a test asks for it (tests/*/test_out_of_hours.py)."""
    config = copy.deepcopy(_repo_config_file())
    config["alerts"]["out_of_hours"]["send_crisis_reply"] = crisis_reply_out_of_hours
    return config


def make_settings(tmp_path: Path, *, config: dict[str, Any] | None = None, **env: str) -> Settings:
    overrides = {
        "meta": {"accounts": TEST_ACCOUNTS},
        "dashboard": {"secure_cookies": False},
        "queue": {"retry_intervals": [0, 0, 0], "stuck_after_seconds": 60},
        "alerts": repo_config()["alerts"],
        **(config or {}),
    }
    return load_settings(
        REPO / "config.yaml", environ_for_tests(tmp_path, **env), overrides=overrides
    )


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "meta" / name).read_text(encoding="utf-8"))


def signed_post(client: FlaskClient, payload: Any, *, secret: str = APP_SECRET, **kwargs: Any):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": sign(body, secret), **kwargs.pop("headers", {})}
    return client.post(
        "/webhooks/meta", data=body, headers=headers, content_type="application/json", **kwargs
    )


def page_comment(
    text: str,
    *,
    comment: str = "7001",
    author: str = "6000000000000042",
    created_time: int = 1742667604,
) -> dict:
    """A Page feed comment delivery in the documented shape."""
    post_id = f"{PAGE_ID}_900000000000001"
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1742667607,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "post_id": post_id,
                            "comment_id": f"900000000000001_{comment}",
                            "parent_id": post_id,
                            "from": {"id": author, "name": "Jo Visitor"},
                            "message": text,
                            "created_time": created_time,
                        },
                    }
                ],
            }
        ],
    }


def use_production_services(env: dict[str, str], postgres_url: str, redis_url: str) -> None:
    """Point a test's environment at PostgreSQL and Redis, with the schema migrated, as
    `haven init-db` does before a production release."""
    from bot.db import make_engine, upgrade

    env.update(DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()


def die_with_parent() -> None:
    """For Popen's preexec_fn: if the test run itself is killed, Linux stops this worker too,
    so no worker is left listening on the shared test Redis for the next run."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def write_config(tmp_path: Path, **meta: Any) -> Path:
    """The repository's config.yaml with the test accounts (and `meta` overrides), on disk,
    for tests that start real processes which read HAVEN_CONFIG."""
    import yaml

    config = repo_config()
    config["meta"].update(accounts=TEST_ACCOUNTS, **meta)
    config["dashboard"]["secure_cookies"] = False
    config["queue"]["retry_intervals"] = [1, 1, 1]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


_JOB_CONTEXTS: weakref.WeakKeyDictionary[Flask, JobContext] = weakref.WeakKeyDictionary()


def job_context(app: Flask) -> JobContext:
    """What a job run for this app would get: its settings, database and queue, and a Graph
    client (one per app, so a dry run's recorded calls can be read back). Views never get one."""
    if app not in _JOB_CONTEXTS:
        ctx = app.extensions["haven"]
        _JOB_CONTEXTS[app] = JobContext(
            settings=ctx.settings, engine=ctx.engine, enqueuer=ctx.enqueuer
        )
    return _JOB_CONTEXTS[app]


def edited(payload: dict, text: str, at: int) -> dict:
    """The same feed comment delivered again as an edit to `text` at `at`."""
    edit = copy.deepcopy(payload)
    edit["entry"][0]["changes"][0]["value"].update(verb="edited", message=text, created_time=at)
    return edit


def removed(payload: dict, at: int) -> dict:
    """The same feed comment delivered again as removed at `at` (Meta sends no message)."""
    removal = copy.deepcopy(payload)
    value = removal["entry"][0]["changes"][0]["value"]
    value.update(verb="remove", created_time=at)
    value.pop("message")
    return removal
