"""Channel senders: SMTP (STARTTLS or TLS), SMS through a Twilio-compatible API, a
Slack-compatible webhook, a signed webhook.

Each sends one rendered, content-free message and raises `DeliveryError` on any failure; the
caller records the attempt and retries with back-off. Secrets (the SMTP password, the SMS
account and token, a Slack URL, a signing secret) are read from the environment only here, at
the moment of sending.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import requests

from bot.cases.wording import phrase
from bot.config.alerts import EMAIL, SMS, Alerts, EmailChannel, SmsChannel, WebhookChannel
from bot.notify.render import Rendered

SIGNATURE_HEADER = "X-Haven-Signature"


class DeliveryError(Exception):
    """A message could not be handed over; the text says why, without any secret."""


def env_value(environ: Mapping[str, str], name: str | None) -> str | None:
    """NAME, or the file named by NAME_FILE: the same convention as the rest of config."""
    if not name:
        return None
    if value := environ.get(name, "").strip():
        return value
    if file_name := environ.get(f"{name}_FILE"):
        try:
            return Path(file_name).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise DeliveryError(f"{name}_FILE cannot be read ({exc.strerror})") from None
    return None


def send(
    alerts: Alerts,
    channel: str,
    recipient: str,
    message: Rendered,
    environ: Mapping[str, str],
) -> None:
    """Hand one message to one channel; raises DeliveryError."""
    if channel == EMAIL:
        send_email(alerts.email, recipient, message, environ)
        return
    if channel == SMS:
        send_sms(alerts.sms, recipient, message, environ)
        return
    hook = alerts.webhook(channel)
    if hook is None:
        raise DeliveryError(f"no channel called {channel!r} in config.yaml any more")
    if hook.kind == "slack":
        post_slack(hook, message, environ)
    else:
        post_signed(hook, message, environ)


def send_email(
    settings: EmailChannel, to: str, message: Rendered, environ: Mapping[str, str]
) -> None:
    if not settings.enabled:
        raise DeliveryError("email is switched off in config.yaml (alerts.email.enabled)")
    mail = EmailMessage()
    mail["From"] = settings.from_address
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
    # No out-of-office replies back to Haven's address (RFC 3834).
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    password = env_value(environ, settings.password_env)
    if settings.password_env and password is None:
        raise DeliveryError(f"{settings.password_env} is not set")
    context = ssl.create_default_context(cafile=settings.ca_file)
    try:
        if settings.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, password or "")
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {settings.host}:{settings.port}: {_reason(exc)}") from None


def sms_text(message: Rendered) -> str:
    """What fits a text: the subject (kind and case), the concern in words, and the links."""
    category = message.payload.get("category")
    words = phrase(category) if category else None
    parts = [message.subject + (f" ({words})" if words and words not in message.subject else "")]
    if message.link:
        parts.append(f"Open: {message.link}")
    if message.ack_url:
        parts.append(f"Acknowledge: {message.ack_url}")
    return "\n".join(parts)


def send_sms(settings: SmsChannel, to: str, message: Rendered, environ: Mapping[str, str]) -> None:
    """POST the form Twilio's Messages API takes, with the account id and token as basic auth."""
    if not settings.enabled:
        raise DeliveryError("SMS is switched off in config.yaml (alerts.sms.enabled)")
    sid = env_value(environ, settings.account_sid_env)
    token = env_value(environ, settings.auth_token_env)
    for name, value in ((settings.account_sid_env, sid), (settings.auth_token_env, token)):
        if value is None:
            raise DeliveryError(f"{name} is not set")
    url = f"{settings.api_url}/2010-04-01/Accounts/{sid}/Messages.json"
    form = {"To": to, "From": settings.from_number or "", "Body": sms_text(message)}
    try:
        response = requests.post(
            url, data=form, auth=(sid or "", token or ""), timeout=settings.timeout_seconds
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"SMS provider: {type(exc).__name__}") from None
    with response:
        if not 200 <= response.status_code < 300:
            # The provider's error code (e.g. 21211, an invalid 'To') says why; never the body.
            code = _json_field(response, "code")
            raise DeliveryError(
                f"SMS provider: HTTP {response.status_code}" + (f" (code {code})" if code else "")
            )


def _json_field(response: requests.Response, name: str) -> object:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer.get(name) if isinstance(answer, dict) else None


def post_slack(hook: WebhookChannel, message: Rendered, environ: Mapping[str, str]) -> None:
    """Slack's incoming-webhook format (`{"text": ...}`), which Mattermost and Teams' Slack
    connectors accept too."""
    lines = [f"*{message.subject}*", *message.lines]
    if message.link:
        lines.append(f"<{message.link}|Open in Haven>")
    if message.ack_url:
        lines.append(f"<{message.ack_url}|Acknowledge>")
    body = json.dumps({"text": "\n".join(lines)}).encode()
    _post(hook, body, {"Content-Type": "application/json"}, environ)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": the receiver checks it and refuses old times."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post_signed(hook: WebhookChannel, message: Rendered, environ: Mapping[str, str]) -> None:
    secret = env_value(environ, hook.secret_env)
    if secret is None:
        raise DeliveryError(f"{hook.secret_env} is not set")
    body = json.dumps(message.payload, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, str(int(time.time())), body),
    }
    _post(hook, body, headers, environ)


def _post(
    hook: WebhookChannel, body: bytes, headers: dict[str, str], environ: Mapping[str, str]
) -> None:
    url = hook.url or env_value(environ, hook.url_env)
    if not url:
        raise DeliveryError(f"{hook.url_env} is not set")
    try:
        response = requests.post(url, data=body, headers=headers, timeout=hook.timeout_seconds)
    except requests.RequestException as exc:
        # The URL may itself be a secret (Slack's are): name the channel, not the address.
        raise DeliveryError(f"webhook {hook.name}: {type(exc).__name__}") from None
    with response:
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook {hook.name}: HTTP {response.status_code}")


def _reason(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text}"[:300]
