"""The issue's "done when" for escalation, on the production shape: PostgreSQL, Redis, a real
`haven worker`, a local SMTP server and the Meta stand-in. However a case is escalated (a rule's
finding, a moderator, an admin, a lead), the lead on duty is emailed within a minute, has the
case, sees it first in their queue, and is paged again until someone acknowledges.

One stack serves the four ways (starting one costs seconds); each way uses a person of its own.
The rota names Pat as lead, but Pat is away and Sam covers: the rota and its cover decide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import select

from bot.db import session_scope
from bot.models import Case, Item, User, utcnow
from bot.models.alerts import Alert, Escalation
from bot.notify.hours import local
from tests.helpers import REDIS_TEST_URL, write_config
from tests.support import databases
from tests.support.meta_standin import MetaStandIn
from tests.support.servers import Mail, SMTPServer
from tests.support.stack import HavenStack, run_tick, running_stack

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

RISK = "I cannot go on any more, I want to kill myself tonight"
HELP = "I really need someone to talk to about our adoption, it's been so hard lately"
PII = "So proud! Call me on 07700 900123, she goes to St Mary's Primary School"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass
class Escalating:
    stack: HavenStack
    smtp: SMTPServer
    clients: dict[str, FlaskClient]

    def user_id(self, name: str) -> int:
        return self.stack.wait_for(
            lambda s: s.exec(select(User.id).where(User.username == name)).first()
        )

    def mail(self, to: str, case_id: int, level: int = 0, timeout: float = 60) -> Mail:
        """The page about this case (at this level) sent to `to`, once it has arrived."""
        subject = "safeguarding escalation" if level == 0 else f"re-escalation {level},"

        def found() -> Mail | None:
            return next((m for m in self.smtp.mails if _about(m, to, case_id, subject)), None)

        deadline = time.monotonic() + timeout
        while (mail := found()) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mail is not None, f"no {subject!r} mail to {to} about case {case_id}"
        return mail


def _about(mail: Mail, to: str, case_id: int, subject: str) -> bool:
    return (
        mail.rcpt_tos == [to]
        and subject in mail.subject
        and mail.subject.endswith(f"case {case_id}")
    )


def _config(tmp_path: Path, smtp: SMTPServer) -> Path:
    config = yaml.safe_load(write_config(tmp_path, dry_run=False).read_text(encoding="utf-8"))
    today = local(utcnow(), config["organisation"]["timezone"]).date()
    config["alerts"] = {
        "dashboard_url": "https://haven.example.org",
        "email": {"enabled": True, "host": "127.0.0.1", "port": smtp.port, "security": "none",
                  "from_address": "haven@example.org", "timeout_seconds": 5},
        # Only a gap in the rota would page these: nobody here should be emailed.
        "roles": {"safeguarding_lead": {"email": ["every-lead@example.org"]},
                  "safeguarding_deputy": {"email": ["every-deputy@example.org"]}},
        "people": {name: {"email": [f"{name}@example.org"]} for name in ("pat", "sam", "alex")},
        "rota": {
            "shifts": [{"days": EVERY_DAY, "from": "00:00", "to": "00:00", "lead": "pat",
                        "deputy": "alex"}],
            "cover": [{"away": "pat", "from": str(today - timedelta(days=1)),
                       "until": str(today + timedelta(days=1)), "by": "sam"}],
        },
        "escalation": {"acknowledge_within_minutes": 10, "repeat_every_minutes": 10},
        "delivery": {"retry_minutes": [0.1, 0.1]},
    }  # fmt: skip
    path = tmp_path / "escalation-config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def escalating(
    tmp_path_factory: pytest.TempPathFactory, postgres_template: str
) -> Iterator[Escalating]:
    import redis

    tmp_path = tmp_path_factory.mktemp("escalation")
    smtp, meta = SMTPServer().start(), MetaStandIn().start()
    queue = redis.Redis.from_url(REDIS_TEST_URL)
    queue.flushdb()
    try:
        with (
            databases.postgres_database(template=postgres_template) as postgres_url,
            running_stack(
                "production",
                tmp_path,
                _config(tmp_path, smtp),
                services=lambda: (postgres_url, REDIS_TEST_URL),
                secrets_in_log=(RISK[:30], HELP[:30], PII[:30]),
                META_GRAPH_URL=meta.url,
            ) as stack,
        ):
            staff = (("pat", "safeguarding_lead"), ("sam", "safeguarding_lead"),
                     ("kim", "safeguarding_lead"), ("alex", "safeguarding_deputy"),
                     ("mo", "moderator"), ("ad", "admin"))  # fmt: skip
            clients = {name: stack.staff(name, role) for name, role in staff}
            yield Escalating(stack, smtp, clients)
    finally:
        smtp.stop()
        meta.stop()
        queue.flushdb()
        queue.close()


def _escalate(way: str, run: Escalating, author: str) -> int:
    """Escalate a new person's case the way named; returns the case's id."""
    stack, clients = run.stack, run.clients
    if way == "rule":
        return stack.comment(RISK, author=author).case_id  # type: ignore[return-value]
    if way == "lead":
        # Kim, a lead who is not on duty, opens a safeguarding case from the queue.
        item = stack.comment(PII, author=author)
        answer = clients["kim"].post(f"/items/{item.id}/case", data={"case_type": "safeguarding"})
        assert answer.status_code == 302
        return stack.rows(Item, Item.id == item.id)[0].case_id
    case_id = stack.comment(HELP, author=author).case_id
    by = {"moderator": "mo", "admin": "ad"}[way]
    form = {"status": "escalated", "reason": "JW: says things are not safe at home"}
    assert clients[by].post(f"/cases/{case_id}/status", data=form).status_code == 302
    return case_id  # type: ignore[return-value]


def _acknowledge(way: str, run: Escalating, case_id: int, escalation_id: int, first: Mail) -> Any:
    """From the alert's link, the alerts inbox, or the case page, as each way's lead might."""
    sam = run.clients["sam"]
    if way == "moderator":
        return sam.post(f"/alerts/escalations/{escalation_id}/acknowledge")
    if way == "admin":
        return sam.post(f"/cases/{case_id}/acknowledge")
    token = re.search(r"/alerts/ack\?t=([\w-]+)", first.body).group(1)  # type: ignore[union-attr]
    return sam.post("/alerts/ack", data={"t": token})


def _set(stack: HavenStack, escalation_id: int, **values: Any) -> None:
    """Stand in for time passing: move the escalation's clock, as the tick will read it."""
    with session_scope(stack.engine) as session:
        session.exec(update(Escalation).where(Escalation.id == escalation_id).values(**values))


@pytest.mark.parametrize(
    ("way", "author"),
    [("rule", "6100000000000001"), ("moderator", "6100000000000002"),
     ("admin", "6100000000000003"), ("lead", "6100000000000004")],
)  # fmt: skip
def test_every_way_of_escalating_pages_the_lead_on_duty_until_acknowledged(
    escalating: Escalating, way: str, author: str
) -> None:
    run, stack = escalating, escalating.stack
    started = time.monotonic()
    case_id = _escalate(way, run, author)

    first = run.mail("sam@example.org", case_id)
    assert time.monotonic() - started < 60  # the lead on duty, within a minute
    run.mail("alex@example.org", case_id)  # and the deputy on duty
    # Not Pat (away), and not everyone: the rota has nobody missing.
    others = {"pat@example.org", "every-lead@example.org", "every-deputy@example.org"}
    assert not [m for m in run.smtp.mails if m.rcpt_tos[0] in others]
    if way != "rule":
        assert "Escalated by: a" in first.body and "on the dashboard" in first.body

    (case,) = stack.rows(Case, Case.id == case_id)
    assert (case.case_type, case.status, case.assignee_id) == (
        "safeguarding", "escalated", run.user_id("sam"))  # fmt: skip
    queue = run.clients["sam"].get("/").text
    first_item = int(re.search(r'data-item="(\d+)"', queue).group(1))  # type: ignore[union-attr]
    assert stack.rows(Item, Item.id == first_item)[0].case_id == case_id

    # Ignored: stand in for the ten minutes passing, and let the worker's tick find it.
    (escalation,) = stack.rows(Escalation, Escalation.case_id == case_id)
    _set(stack, escalation.id, next_step_at=utcnow() - timedelta(seconds=1))
    run_tick(stack.enqueuer)
    run.mail("sam@example.org", case_id, level=1)

    answer = _acknowledge(way, run, case_id, escalation.id, first)
    assert answer.status_code == 302
    (escalation,) = stack.rows(Escalation, Escalation.id == escalation.id)
    assert escalation.status == "acknowledged" and escalation.acknowledged_by == run.user_id("sam")
    # Long past any next step: the tick pages nobody again.
    _set(stack, escalation.id, opened_at=utcnow() - timedelta(hours=2))
    run_tick(stack.enqueuer)
    levels = [a.level for a in stack.rows(Alert, Alert.escalation_id == escalation.id)]
    assert sorted(levels) == [0, 1]
