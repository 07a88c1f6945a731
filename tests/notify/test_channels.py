"""Every channel against a real receiver: SMTP with STARTTLS and credentials from the
environment, SMTP over TLS, a signed webhook whose HMAC the receiver checks, a Slack-style
webhook; failures retried with back-off, shown in the inbox, and never blocking the pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.models import AuditEntry
from bot.models.alerts import Alert, AlertDelivery
from bot.notify.delivery import deliver, route_alerts
from rules import CATEGORIES
from tests.notify.conftest import (
    PII_TEXT,
    RISK_TEXT,
    SLACK_ENV,
    AlertStack,
    alerts_config,
    assert_content_free,
    make_stack,
)
from tests.support.servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    SMTPServer,
    WebhookReceiver,
    free_port,
    self_signed_cert,
)

# aiosmtpd itself touches its deprecated Session.login_data on every successful AUTH.
LOGIN_DATA_WARNING = "ignore:Session.login_data is deprecated:DeprecationWarning"


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    made = self_signed_cert(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


@pytest.fixture
def secure_smtp(cert: tuple[Path, Path]) -> Iterator[Callable[[str], SMTPServer]]:
    """Start an SMTP server speaking `mode` ("starttls" or "tls") with the test certificate."""
    started: list[SMTPServer] = []

    def start(mode: str) -> SMTPServer:
        started.append(SMTPServer(mode, cert).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def email_stack(tmp_path: Path, hook: WebhookReceiver) -> Iterator[Callable[..., AlertStack]]:
    """An alert stack mailing `server`, its email settings changed by the keywords given."""
    made: list[AlertStack] = []

    def make(server: SMTPServer, **email: str) -> AlertStack:
        config = alerts_config(server.port, hook.url)
        config["email"].update(email)
        made.append(make_stack(tmp_path, config)[0])
        return made[-1]

    yield make
    for stack in made:
        stack.engine.dispose()


@pytest.mark.filterwarnings(LOGIN_DATA_WARNING)
def test_email_over_starttls_with_credentials_from_the_environment(
    cert: tuple[Path, Path],
    secure_smtp: Callable[[str], SMTPServer],
    email_stack: Callable[..., AlertStack],
) -> None:
    server = secure_smtp("starttls")
    stack = email_stack(
        server,
        security="starttls",
        username=SMTP_USER,
        password_env="HAVEN_SMTP_PASSWORD",
        ca_file=str(cert[0]),
    )
    stack.environ["HAVEN_SMTP_PASSWORD"] = SMTP_PASSWORD
    stack.comment(RISK_TEXT)
    assert stack.send_all() == ["sent"]
    (mail,) = server.wait_for(1)
    assert mail.authenticated_as == SMTP_USER  # AUTH happened, and only after STARTTLS
    assert mail.mail_from == "haven@example.org"
    assert_content_free(mail.everything, SMTP_PASSWORD)


def test_email_over_implicit_tls(
    cert: tuple[Path, Path],
    secure_smtp: Callable[[str], SMTPServer],
    email_stack: Callable[..., AlertStack],
) -> None:
    server = secure_smtp("tls")
    stack = email_stack(server, security="tls", ca_file=str(cert[0]))
    stack.comment(RISK_TEXT)
    assert stack.send_all() == ["sent"]
    assert_content_free(server.wait_for(1)[0].everything)


def test_an_untrusted_certificate_is_refused_and_retried_with_back_off(
    secure_smtp: Callable[[str], SMTPServer], email_stack: Callable[..., AlertStack]
) -> None:
    server = secure_smtp("tls")
    stack = email_stack(server, security="tls")  # no ca_file: the self-signed cert is not trusted
    stack.comment(RISK_TEXT)
    (delivery,) = stack.rows(AlertDelivery)
    now = delivery.created_at
    assert deliver(stack.engine, stack.config, delivery.id, now=now) == "pending"
    (delivery,) = stack.rows(AlertDelivery)
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert server.mails == []


@pytest.fixture
def dead_smtp_stack(tmp_path: Path, hook: WebhookReceiver) -> Iterator[AlertStack]:
    # A port with nothing listening on it.
    stack, _queue = make_stack(tmp_path, alerts_config(free_port(), hook.url))
    yield stack
    stack.engine.dispose()


def test_a_dead_mail_server_blocks_nothing_and_fails_visibly_after_the_retries(
    dead_smtp_stack: AlertStack,
) -> None:
    stack = dead_smtp_stack
    started = time.monotonic()
    stack.comment(RISK_TEXT)  # the item is processed and the escalation committed regardless
    assert time.monotonic() - started < 5
    (delivery,) = stack.rows(AlertDelivery)
    t0 = delivery.created_at
    # Attempt 1 fails; back-off 1 minute; asking early does nothing; then 5 minutes; then gives up.
    assert deliver(stack.engine, stack.config, delivery.id, now=t0) == "pending"
    assert deliver(stack.engine, stack.config, delivery.id, now=t0 + timedelta(seconds=30)) == (
        "pending"
    )
    assert stack.rows(AlertDelivery)[0].attempts == 1
    assert deliver(stack.engine, stack.config, delivery.id, now=t0 + timedelta(minutes=1)) == (
        "pending"
    )
    assert stack.rows(AlertDelivery)[0].next_attempt_at == t0 + timedelta(minutes=6)
    assert deliver(stack.engine, stack.config, delivery.id, now=t0 + timedelta(minutes=6)) == (
        "failed"
    )
    (delivery,) = stack.rows(AlertDelivery)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in delivery.last_error
    failed = stack.rows(AuditEntry, AuditEntry.action == "alert.delivery_failed")
    assert len(failed) == 1 and failed[0].subject_type == "case"
    # Visible on the dashboard: the lead sees which alert, an admin only that one failed.
    lead = stack.client_as(stack.user("lead", "safeguarding_lead"))
    page = lead.get("/alerts/").text
    assert "failed for good" in page and "ConnectionRefusedError" in page
    assert "Possible suicide risk" in page
    admin = stack.client_as(stack.user("boss", "admin"))
    page = admin.get("/alerts/").text
    assert "failed for good" in page and "a safeguarding alert" in page
    assert "risk.suicide" not in page


def test_a_missing_smtp_password_is_named_and_nothing_secret_is_recorded(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    config = alerts_config(smtp.port, hook.url)
    config["email"].update(username=SMTP_USER, password_env="HAVEN_SMTP_PASSWORD")
    stack, _queue = make_stack(tmp_path, config)
    stack.comment(RISK_TEXT)
    (delivery,) = stack.rows(AlertDelivery)
    assert deliver(stack.engine, stack.config, delivery.id, environ={}) == "pending"
    assert stack.rows(AlertDelivery)[0].last_error == "HAVEN_SMTP_PASSWORD is not set"
    stack.engine.dispose()


def test_a_moderator_alert_reaches_email_and_a_slack_webhook_without_content(
    stack: AlertStack, smtp: SMTPServer, tmp_path: Path
) -> None:
    slack = WebhookReceiver().start()
    try:
        stack.environ[SLACK_ENV] = slack.url
        stack.comment(PII_TEXT)
        (alert,) = stack.rows(Alert)
        assert (alert.kind, alert.category, alert.roles) == ("finding", "pii.phone", ["moderator"])
        assert sorted(stack.send_all()) == ["sent", "sent"]
        (mail,) = smtp.wait_for(1)
        assert mail.rcpt_tos == ["mods@example.org"] and "Gives a phone number" in mail.subject
        assert_content_free(mail.everything)
        (post,) = slack.wait_for(1)
        assert set(post.json) == {"text"} and "Gives a phone number" in post.json["text"]
        # Personal details open no case: the link is to the queue, where the comment waits.
        assert alert.case_id is None
        assert "<https://haven.example.org/|Open in Haven>" in post.json["text"]
        assert_content_free(post.body.decode())
    finally:
        slack.stop()


def test_the_signed_webhook_is_checked_by_the_receiver_and_a_wrong_secret_fails(
    stack: AlertStack, hook: WebhookReceiver
) -> None:
    from bot.config.alerts import WebhookChannel
    from bot.notify.channels import post_signed
    from bot.notify.render import Rendered

    message = Rendered("subject", ["line"], None, payload={"kind": "escalation"})
    hook_config = WebhookChannel(name="pager", kind="signed", url=hook.url, secret_env="S")
    post_signed(hook_config, message, {"S": "not-the-secret-the-receiver-knows"})
    post_signed(hook_config, message, {"S": hook.secret or ""})
    first, second = hook.wait_for(2)
    assert (first.signature_ok, second.signature_ok) == (False, True)
    assert second.json == {"kind": "escalation"}


def test_a_webhook_answering_500_is_retried_and_its_secret_url_is_not_recorded(
    stack: AlertStack,
) -> None:
    broken = WebhookReceiver(status=500).start()
    try:
        stack.environ[SLACK_ENV] = broken.url
        stack.comment(PII_TEXT)
        route_alerts(stack.engine, stack.config.alerts)
        (chat,) = stack.rows(AlertDelivery, AlertDelivery.channel == "team-chat")
        assert deliver(stack.engine, stack.config, chat.id, environ=stack.environ) == "pending"
        (chat,) = stack.rows(AlertDelivery, AlertDelivery.channel == "team-chat")
        assert chat.last_error == "webhook team-chat: HTTP 500"
        assert len(broken.received) == 1
    finally:
        broken.stop()


def test_the_same_delivery_is_never_sent_twice(stack: AlertStack, smtp: SMTPServer) -> None:
    stack.comment(RISK_TEXT)
    route_alerts(stack.engine, stack.config.alerts)
    route_alerts(stack.engine, stack.config.alerts)  # a second dispatcher routes nothing new
    (delivery,) = stack.rows(AlertDelivery)
    assert deliver(stack.engine, stack.config, delivery.id) == "sent"
    assert deliver(stack.engine, stack.config, delivery.id) == "sent"  # a redelivered job
    assert len(smtp.wait_for(1)) == 1


def test_a_follow_up_reminder_says_what_to_do_and_nothing_about_the_person() -> None:
    from bot.config import HavenConfig
    from bot.models.alerts import Alert
    from bot.notify.render import render

    config = HavenConfig()
    alert = Alert(kind="follow_up", category="follow_up", severity="medium", case_id=42)
    rendered = render(alert, config)
    assert rendered.subject == "Haven: a follow-up is due, case 42"
    assert "check in with the person on case 42" in rendered.text
    assert rendered.text.count(f"{config.alerts.dashboard_url}/cases/42") == 1


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_an_alert_names_the_concern_in_words_never_the_code(category: str) -> None:
    from bot.cases.wording import phrase
    from bot.config import HavenConfig
    from bot.notify.channels import sms_text
    from bot.notify.render import render

    alert = Alert(kind="finding", category=category, severity="high", case_id=7)
    rendered = render(alert, HavenConfig())
    said = f"{rendered.subject}\n{rendered.text}\n{sms_text(rendered)}"
    assert phrase(category) in rendered.subject and "(high)" in rendered.subject
    assert "." not in category or category not in said
    # Those who automate on alerts still get the code, in the webhook payload.
    assert rendered.payload["category"] == category
