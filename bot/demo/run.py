"""`haven demo`: the embedded default, filled with sample events sent through the real webhook.

Uses its own database under instance/demo so it never mixes with a charity's real data, signs
every sample with the app secret exactly as Meta would, and serves until stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import requests
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import record
from bot.cli.server import HavenServer
from bot.config import DEFAULT_INSTANCE_PATH, Settings, load_settings
from bot.crypto import ENV_NAME as KEYS_ENV
from bot.crypto import generate_key
from bot.db import make_engine, session_scope, upgrade
from bot.demo.consent import play_consent_step, signed_poster
from bot.demo.events import DEMO_IG_ID, DEMO_PAGE_ID, demo_deliveries
from bot.demo.where import record_where
from bot.models import Item, User
from bot.models.directory import SupportResource
from bot.web.auth.login import create_user, find_user, set_password
from bot.web.auth.totp import enrol

DEMO_USERS = (("admin", "admin"), ("lead", "safeguarding_lead"))
# The demo's support directory: made up, and saying so, so nobody mistakes it for real contacts.
DEMO_DIRECTORY: tuple[dict[str, Any], ...] = (
    {"kind": "peer_supporter", "name": "K. (example kinship carer)",
     "topics": ["kinship_care", "special_guardianship"], "area": "East Suffolk (example)",
     "capacity": 2, "contact_route": "example: email via the peer support coordinator",
     "availability": "weekday evenings"},
    {"kind": "peer_supporter", "name": "J. (example adoptive parent)",
     "topics": ["adoption", "send", "parenting"], "area": "online (example)", "capacity": 3,
     "contact_route": "example: message via the coordinator", "availability": "weekends"},
    {"kind": "peer_supporter", "name": "L. (example foster carer, full)",
     "topics": ["fostering"], "capacity": 1, "load": 1,
     "contact_route": "example: email via the coordinator", "availability": "mornings"},
    {"kind": "group", "name": "Example bereavement circle (online)",
     "topics": ["bereavement", "mental_health"], "area": "online (example)", "capacity": 12,
     "contact_route": "example: the group leader, via the coordinator",
     "availability": "every other Tuesday, 7pm"},
    {"kind": "service", "name": "Example family law advice line",
     "topics": ["legal", "kinship_care", "special_guardianship"],
     "contact_route": "example: https://example.org/family-law (fictional)",
     "availability": "weekdays 9am to 5pm"},
    {"kind": "service", "name": "Example domestic abuse helpline",
     "topics": ["domestic_abuse", "family_crisis"],
     "contact_route": "example: https://example.org/helpline (fictional)",
     "availability": "24 hours"},
)  # fmt: skip


def demo_settings(config_path: str | None, environ: dict[str, str] | None = None) -> Settings:
    """The charity's config.yaml with demo accounts, a demo secret and its own database."""
    env = dict(os.environ if environ is None else environ)
    for name in ("DATABASE_URL", "REDIS_URL"):  # the demo is the embedded default, always
        env.pop(name, None)
    env.setdefault("META_APP_SECRET", secrets.token_hex(16))
    if not _has_data_keys(env):
        # A key for this run only, kept nowhere: run_demo starts the demo database afresh.
        env[KEYS_ENV] = generate_key()
    # A dry run still wants a token per account (so a missing one shows in a charity's first
    # week); the demo's pages are made up, and so are their tokens. Nothing reaches Meta.
    env["DEMO_PAGE_TOKEN"] = env["DEMO_IG_TOKEN"] = "demo-token-not-sent-anywhere"
    env["HAVEN_INSTANCE_PATH"] = str(
        Path(env.get("HAVEN_INSTANCE_PATH", DEFAULT_INSTANCE_PATH)) / "demo"
    )
    base = load_settings(config_path, env)
    meta = base.config.meta.model_dump()
    meta["accounts"] = [
        {
            "id": DEMO_PAGE_ID,
            "name": "Demo page",
            "platform": "facebook",
            "token_env": "DEMO_PAGE_TOKEN",
        },
        {
            "id": DEMO_IG_ID,
            "name": "Demo Instagram",
            "platform": "instagram",
            "token_env": "DEMO_IG_TOKEN",
        },
    ]
    meta["dry_run"] = True
    dashboard = {**base.config.dashboard.model_dump(), "secure_cookies": False}
    # Links in the demo's alerts point at the demo itself, whatever port it runs on.
    alerts = {**base.config.alerts.model_dump(), "dashboard_url": f"http://127.0.0.1:{base.port}"}
    # The sample photo's URL is made up, and the demo contacts nothing of Meta's: not fetched.
    photos = {**base.config.photos.model_dump(), "fetch": False}
    overrides = {"meta": meta, "dashboard": dashboard, "alerts": alerts, "photos": photos}
    return load_settings(config_path, env, overrides=overrides)


def reset_demo_users(settings: Settings) -> dict[str, str]:
    """Create the demo users, or give them new passwords; returns name -> password."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    passwords = {}
    with session_scope(engine) as session:
        for name, role in DEMO_USERS:
            passwords[name] = secrets.token_urlsafe(12)
            existing = session.exec(select(User).where(User.username == name)).first()
            if existing is None:
                create_user(session, name, passwords[name], role)
            else:
                set_password(session, existing, passwords[name])
    return passwords


def seed_directory(engine: Engine) -> int:
    """Fill an empty support directory with the demo's made-up entries; returns how many."""
    with session_scope(engine) as session:
        if session.exec(select(SupportResource.id).limit(1)).first() is not None:
            return 0
        for entry in DEMO_DIRECTORY:
            session.add(SupportResource(**entry))
        record(session, "demo", "directory.seeded", "support_resource", None,
               entries=len(DEMO_DIRECTORY))  # fmt: skip
    return len(DEMO_DIRECTORY)


def enrol_demo_second_factors(settings: Settings) -> dict[str, str]:
    """A new TOTP key for each demo user (admins and leads need one); returns name -> key."""
    keys = {}
    with session_scope(make_engine(settings.database_url)) as session:
        for name, _role in DEMO_USERS:
            user = find_user(session, name)
            if user is not None:
                keys[name] = enrol(session, user, actor="demo")
    return keys


def post_samples(base_url: str, app_secret: str, *, now: int | None = None) -> list[int]:
    """POST every sample delivery, signed, to the webhook; returns the HTTP statuses."""
    statuses = []
    for delivery in demo_deliveries(now or int(time.time())):
        body = json.dumps(delivery).encode()
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        response = requests.post(
            f"{base_url}/webhooks/meta",
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )
        statuses.append(response.status_code)
    return statuses


def wait_until_processed(settings: Settings, timeout: float = 60) -> int:
    """Wait for the in-process worker to finish the samples; returns how many are done."""
    engine = make_engine(settings.database_url)
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            pending = session.exec(
                select(func.count()).where(Item.status.in_(("received", "processing")))
            ).one()
            done = session.exec(select(func.count()).where(Item.status == "processed")).one()
        if not pending or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


def _wait_for_server(base_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {base_url} within {timeout:.0f}s")


def _load_and_announce(settings: Settings, passwords: dict[str, str], keys: dict[str, str]) -> None:
    base_url = f"http://127.0.0.1:{settings.port}"
    try:
        _wait_for_server(base_url)
        secret = settings.app_secrets()[0]
        statuses = post_samples(base_url, secret)
        done = wait_until_processed(settings)
    except Exception as exc:  # say what went wrong; the server keeps running
        click.echo(f"demo: could not load the sample events: {exc}", err=True)
        return
    click.echo("")
    click.echo(f"Sent {len(statuses)} signed sample deliveries (answers: {sorted(set(statuses))});")
    click.echo(f"{done} items processed.")
    click.echo(f"dashboard: {base_url}/")
    click.echo(f"login: admin / {passwords['admin']}")
    click.echo(f"safeguarding lead (sees safeguarding cases): lead / {passwords['lead']}")
    click.echo("After the password, admins and leads give a 6-digit code (new keys every run):")
    for name, key in keys.items():
        click.echo(f"second factor for {name}: {key}")
    click.echo(
        "Add a key to an authenticator app, or print its current code with: "
        f"{sys.executable} -c \"import pyotp; print(pyotp.TOTP('KEY').now())\""
    )
    click.echo("Stop with Ctrl-C.")
    # Once someone approves Jo's private reply, Jo answers "yes please" (bot/demo/consent.py).
    consent = play_consent_step(settings, signed_poster(base_url, secret))
    click.echo(f"demo: Jo answered the private reply in Messenger; consent {consent}.")


def _has_data_keys(env: Mapping[str, str]) -> bool:
    return bool(env.get(KEYS_ENV) or env.get(f"{KEYS_ENV}_FILE"))


def _start_afresh(settings: Settings) -> None:
    """Remove the last run's demo database: it was sealed with a key that no longer exists."""
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def run_demo(config_path: str | None) -> None:
    settings = demo_settings(config_path)
    if not _has_data_keys(os.environ):
        _start_afresh(settings)
    passwords = reset_demo_users(settings)
    seed_directory(make_engine(settings.database_url))
    # Commands in another terminal (`haven items --json`) find this database through this.
    run_key = None if _has_data_keys(os.environ) else settings.data_keys[0].get_secret_value()
    record_where(Path(settings.instance_path), settings.database_url, run_key)
    keys = enrol_demo_second_factors(settings)
    threading.Thread(
        target=_load_and_announce, args=(settings, passwords, keys), name="haven-demo", daemon=True
    ).start()
    HavenServer(settings).run()
