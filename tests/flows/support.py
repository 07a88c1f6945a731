"""What the flow tests (tests/flows/test_flows.py) add to the end-to-end harness: the charity's
config after its dry-run week, and the alert emails each role received."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.helpers import write_config
from tests.support.servers import Mail, SMTPServer, email_section

EMAILS = {
    "safeguarding_lead": "lead@example.org",
    "safeguarding_deputy": "deputy@example.org",
    "moderator": "mods@example.org",
    "admin": "admin@example.org",
}


def charity_config(tmp_path: Path, smtp_port: int) -> Path:
    """config.yaml as a charity has it after its dry-run week: sending on, alerts by email,
    personal details and harassment hidden, swearing only queued for review."""
    path = write_config(tmp_path, dry_run=False)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["alerts"].update(
        dashboard_url="https://haven.example.org",
        email=email_section(smtp_port),
        roles={
            role: {"email": [address], "channels": ["email"]} for role, address in EMAILS.items()
        },
    )
    config["rules"] = {
        "actions": {
            "pii": {"hide": True},
            "abusive.harassment": {"hide": True},
            "abusive.offensive": {"hide": False},
        }
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def mails_to(smtp: SMTPServer, role: str, subject_has: str, timeout: float = 20) -> list[Mail]:
    """The alert emails a role has received whose subject mentions this (a case)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in smtp.mails if EMAILS[role] in m.rcpt_tos and subject_has in m.subject]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no alert email to {role} about {subject_has!r}")
