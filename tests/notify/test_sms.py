"""The SMS channel: a Twilio-compatible Messages API (simulated with `responses`), numbers
checked with `phonenumbers`, credentials from the environment, content-free texts, and failed
sends retried with the same back-off as every other channel."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from pydantic import ValidationError

from bot.config.alerts import Alerts
from bot.models import AuditEntry, utcnow
from bot.models.alerts import AlertDelivery
from bot.notify.channels import DeliveryError, send_sms
from bot.notify.delivery import deliver, route_alerts
from bot.notify.render import Rendered
from tests.notify.conftest import (
    RISK_TEXT,
    AlertStack,
    alerts_config,
    assert_content_free,
    make_stack,
)
from tests.support.servers import SMTPServer, WebhookReceiver

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "sms-auth-token-for-tests-5e1"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
LEAD_PHONE = "+447400123456"
SMS_ENV = {"HAVEN_SMS_ACCOUNT_SID": SID, "HAVEN_SMS_AUTH_TOKEN": TOKEN}


def _sms_alerts(**roles: Any) -> dict[str, Any]:
    return {
        "sms": {"enabled": True, "from_number": "+44 7400 123000"},
        "roles": roles
        or {"safeguarding_lead": {"phones": ["+44 7400 123456"], "channels": ["sms"]}},
    }


def _form(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def test_numbers_are_checked_and_kept_in_international_form() -> None:
    alerts = Alerts.model_validate(_sms_alerts())
    assert alerts.roles["safeguarding_lead"].phones == (LEAD_PHONE,)
    assert alerts.sms.from_number == "+447400123000"
    assert alerts.has_contacts("safeguarding_lead")
    assert "sms on" in alerts.summary() and "lead reachable: yes" in alerts.summary()
    assert alerts.env_names() == ["HAVEN_SMS_ACCOUNT_SID", "HAVEN_SMS_AUTH_TOKEN"]


@pytest.mark.parametrize(
    ("config", "fault"),
    [
        # A national number could be anywhere: refused rather than guessed.
        (_sms_alerts(safeguarding_lead={"phones": ["07700 900123"]}), "international format"),
        (_sms_alerts(safeguarding_lead={"phones": ["+44 123"]}), "international format"),
        ({"sms": {"enabled": True}}, "needs from_number"),
        ({"sms": {"api_url": "http://api.example.org"}}, "https://"),
        ({"webhooks": [{"name": "sms", "kind": "slack", "url_env": "X"}]}, "built-in channel"),
        ({"partners": [{"name": "P", "channels": ["sms"]}]}, "no channel called 'sms'"),
    ],
)
def test_a_bad_sms_setting_is_refused(config: dict[str, Any], fault: str) -> None:
    with pytest.raises(ValidationError, match=fault):
        Alerts.model_validate(config)


def test_the_lead_with_sms_switched_off_is_not_reachable_by_it() -> None:
    config = _sms_alerts()
    config["sms"]["enabled"] = False
    assert not Alerts.model_validate(config).has_contacts("safeguarding_lead")


@responses.activate
def test_a_text_is_the_providers_form_with_basic_auth_and_no_content() -> None:
    responses.post(MESSAGES, json={"sid": "SM1", "status": "queued"}, status=201)
    settings = Alerts.model_validate(_sms_alerts()).sms
    message = Rendered(
        subject="URGENT Haven: safeguarding escalation, case 12",
        lines=["Concern: Possible suicide risk (urgent)"],
        link="https://haven.example.org/cases/12",
        ack_url="https://haven.example.org/alerts/ack?t=abc",
        payload={"category": "risk.suicide"},
    )
    send_sms(settings, LEAD_PHONE, message, SMS_ENV)
    (call,) = responses.calls
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"
    form = _form(call)
    assert (form["To"], form["From"]) == (LEAD_PHONE, "+447400123000")
    assert form["Body"] == (
        "URGENT Haven: safeguarding escalation, case 12 (Possible suicide risk)\n"
        "Open: https://haven.example.org/cases/12\n"
        "Acknowledge: https://haven.example.org/alerts/ack?t=abc"
    )


def test_missing_credentials_are_named_and_nothing_is_sent() -> None:
    settings = Alerts.model_validate(_sms_alerts()).sms
    message = Rendered(subject="s", lines=[], link=None)
    with responses.RequestsMock() as provider, pytest.raises(DeliveryError, match="AUTH_TOKEN"):
        send_sms(settings, LEAD_PHONE, message, {"HAVEN_SMS_ACCOUNT_SID": SID})
    assert not provider.calls


def test_an_escalation_texts_the_lead_and_a_failed_text_is_retried(
    tmp_path: Path, smtp: SMTPServer, hook: WebhookReceiver
) -> None:
    config = alerts_config(smtp.port, hook.url)
    config["sms"] = _sms_alerts()["sms"]
    config["roles"]["safeguarding_lead"] = {"phones": ["+44 7400 123456"], "channels": ["sms"]}
    stack: AlertStack
    stack, _queue = make_stack(tmp_path, config)
    stack.environ.update(SMS_ENV)
    try:
        stack.comment(RISK_TEXT)
        now = utcnow()
        route_alerts(stack.engine, stack.config.alerts, now=now)
        (delivery,) = stack.rows(AlertDelivery, AlertDelivery.channel == "sms")
        assert (delivery.recipient, delivery.role) == (LEAD_PHONE, "safeguarding_lead")
        with responses.RequestsMock() as provider:
            provider.post(MESSAGES, json={"code": 20500, "message": "Internal error"}, status=500)
            assert deliver(stack.engine, stack.config, delivery.id, now=now,
                           environ=stack.environ) == "pending"  # fmt: skip
            # Not due again until the first back-off step (config: retry_minutes [1, 5]).
            assert deliver(stack.engine, stack.config, delivery.id, now=now,
                           environ=stack.environ) == "pending"  # fmt: skip
            assert len(provider.calls) == 1
        (retrying,) = stack.rows(AlertDelivery, AlertDelivery.id == delivery.id)
        assert retrying.last_error == "SMS provider: HTTP 500 (code 20500)"
        assert retrying.next_attempt_at == now + timedelta(minutes=1)
        later = now + timedelta(minutes=2)
        with responses.RequestsMock() as provider:
            provider.post(MESSAGES, json={"sid": "SM2", "status": "queued"}, status=201)
            assert deliver(stack.engine, stack.config, delivery.id, now=later,
                           environ=stack.environ) == "sent"  # fmt: skip
            body = _form(provider.calls[0])["Body"]
        assert body.startswith("URGENT Haven: safeguarding escalation, case ")
        assert "Possible suicide risk" in body and "/alerts/ack?t=" in body
        assert_content_free(body, TOKEN)
        delivered = stack.rows(AuditEntry, AuditEntry.action == "alert.delivered")
        assert [e.detail["channel"] for e in delivered] == ["sms"]
    finally:
        stack.engine.dispose()
