"""The issue's "done when", on the production stack: a risk comment through the signed webhook,
a real `haven worker` on Redis + PostgreSQL, and the lead's email in a local SMTP server within
seconds; ignored, it is re-escalated to the deputy and the pager; acknowledged, it stops."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import utcnow
from bot.models.alerts import Escalation
from tests.helpers import (
    page_comment,
    signed_post,
    write_config,
)
from tests.notify.conftest import (
    HOOK_SECRET,
    RISK_TEXT,
    AlertStack,
    alerts_config,
    assert_content_free,
)
from tests.support.servers import SMTPServer, WebhookReceiver
from tests.support.stack import run_tick, running_stack

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def production(
    tmp_path: Path,
    migrated_postgres_url: str,
    redis_url: str,
    smtp: SMTPServer,
    hook: WebhookReceiver,
) -> Iterator[tuple[AlertStack, Path]]:
    config = yaml.safe_load(write_config(tmp_path).read_text(encoding="utf-8"))
    config["alerts"] = alerts_config(smtp.port, hook.url)
    config_path = tmp_path / "alerts-config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with running_stack(
        "production",
        tmp_path,
        config_path,
        services=lambda: (migrated_postgres_url, redis_url),
        HOOK_SECRET=HOOK_SECRET,
    ) as running:
        yield AlertStack(running.app, running.settings), running.processes.logs / "worker0.log"


def _tick_and_wait(stack: AlertStack) -> None:
    run_tick(stack.app.extensions["haven"].enqueuer)


def test_risk_reaches_the_lead_at_once_is_re_escalated_and_stops_when_acknowledged(
    production: tuple[AlertStack, Path], smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    stack, log_path = production
    client = stack.app.test_client()
    posted = time.monotonic()
    comment = page_comment(RISK_TEXT, created_time=int(utcnow().timestamp()))
    assert signed_post(client, comment).status_code == 200

    (first,) = smtp.wait_for(1, timeout=30)
    assert time.monotonic() - posted < 15  # "within seconds", through Redis and a worker
    assert first.rcpt_tos == ["lead@example.org"] and "safeguarding escalation" in first.subject
    assert_content_free(first.everything)

    # Ignored: stand in for the ten minutes passing, then let the worker's tick find it.
    with session_scope(stack.engine) as session:
        session.exec(update(Escalation).values(next_step_at=utcnow() - timedelta(seconds=1)))
    _tick_and_wait(stack)
    mails = smtp.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in mails[1:]) == ["deputy@example.org", "lead@example.org"]
    (page,) = hook.wait_for(1)
    assert page.signature_ok is True and page.json["level"] == 1
    for sent in [*mails, page.body.decode()]:
        assert_content_free(sent if isinstance(sent, str) else sent.everything)

    # The lead follows the link in the first email, signs in, and confirms.
    lead = stack.client_as(stack.user("lead", "safeguarding_lead"))
    token = re.search(r"/alerts/ack\?t=([\w-]+)", first.body).group(1)
    assert lead.post("/alerts/ack", data={"t": token}).status_code == 302
    with Session(stack.engine) as session:
        escalation = session.exec(select(Escalation)).one()
    assert escalation.status == "acknowledged"

    # Long past the next step: nothing more is sent.
    with session_scope(stack.engine) as session:
        session.exec(update(Escalation).values(opened_at=utcnow() - timedelta(hours=2)))
    _tick_and_wait(stack)
    time.sleep(1)
    assert len(smtp.mails) == 3 and len(hook.received) == 1
    assert RISK_TEXT[:20].encode() not in log_path.read_bytes()  # never in the worker's log
