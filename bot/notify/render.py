"""What an alert says, for every channel: built from the alert row alone.

The renderer is never given an item, a draft or a person, only the alert (kind, category,
severity, time, case number, counts), so no message text, name or handle can reach an email,
a Slack channel or a webhook, even by mistake: a lost phone or a forwarded email leaks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.cases.wording import SEVERITY_WORDS, phrase, phrases
from bot.config import HavenConfig
from bot.models.alerts import Alert
from bot.notify.hours import local

FOOTER = (
    "Haven never puts what was written, or who wrote it, in an alert. "
    "Sign in to the dashboard to read it."
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    lines: list[str]
    link: str | None
    ack_url: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The plain-text body: emails, and the Slack message."""
        parts = [*self.lines]
        if self.link:
            parts += ["", f"Open: {self.link}"]
        if self.ack_url:
            parts += [f"Acknowledge (sign in, then confirm): {self.ack_url}"]
        return "\n".join([*parts, "", FOOTER])


def render(alert: Alert, config: HavenConfig, *, ack_url: str | None = None) -> Rendered:
    base = config.alerts.dashboard_url
    org = config.organisation.name
    when = _when(alert.created_at, config)
    case_link = f"{base}/cases/{alert.case_id}" if alert.case_id else None
    ref = f"case {alert.case_id}" if alert.case_id else "no case"
    label = concern_label(alert)
    hours = " (out of office hours)" if alert.out_of_hours else ""
    if alert.kind == "escalation":
        if alert.level == 0:
            subject = f"URGENT Haven: safeguarding escalation, {ref}"
            first = f"A safeguarding concern on {org}'s page needs the safeguarding lead now."
        else:
            subject = f"URGENT Haven: re-escalation {alert.level}, not yet acknowledged, {ref}"
            first = (
                f"Still not acknowledged: re-escalation {alert.level} of a safeguarding concern."
            )
        lines = [first, "", f"Concern: {label}", f"Raised: {when}{hours}"]
        if raised_by := alert.facts.get("raised_by"):
            lines.append(f"Escalated by: {raised_by}, on the dashboard")
        return _done(alert, subject, lines, case_link, ack_url, config)
    if alert.kind == "partner":
        subject = f"{org}: a safeguarding concern about someone connected with {alert.partner}"
        lines = [
            f"A safeguarding concern ({label.lower()}) was raised on {when} about someone who is "
            f"connected with {alert.partner}.",
            f"Our reference: {org} {ref}. Our safeguarding lead will contact you today so "
            "that you can follow up locally; a written summary follows today.",
            "This message deliberately contains no personal details.",
        ]
        return _done(alert, subject, lines, None, None, config)
    if alert.kind == "partner_task":
        subject = f"Haven: tell {alert.partner} today, {ref}"
        lines = [
            f"A safeguarding concern ({label.lower()}) on {ref} is about someone connected with "
            f"{alert.partner}.",
            "Our procedure: their key contact is told the same day, and it is confirmed in "
            "writing. The case page has a draft to send and records who told them, when and how.",
            f"Raised: {when}{hours}",
        ]
        return _done(alert, subject, lines, case_link, None, config)
    if alert.kind == "partner_summary":
        return _partner_summary(alert, config)
    if alert.kind == "digest":
        return _digest(alert, config)
    if alert.kind == "account_paused":
        subject = f"Haven: sending paused on page {alert.account_id}"
        lines = [
            f"Meta refused the access token for page or account {alert.account_id} "
            f"(error {alert.facts.get('code')}) on {when}. Haven has paused sending on it.",
            "Renew the token (see docs/guide-install.md, 'Connecting a Facebook Page'), then "
            f"resume sending with: haven resume-sending {alert.account_id}",
        ]
        return _done(alert, subject, lines, f"{base}/alerts", None, config)
    if alert.kind == "reply_deadline":
        subject = f"Haven: a private reply closes within a day, {ref}"
        lines = [
            f"A private reply drafted for {ref} has not been sent. Meta stops allowing it "
            "7 days after the comment, which is within a day.",
            f"Raised: {when}",
        ]
        return _done(alert, subject, lines, case_link or f"{base}/", None, config)
    if alert.kind == "hold_review":
        count = int(alert.facts.get("count", 0))
        cases = ", ".join(str(c) for c in alert.facts.get("cases", []))
        subject = f"Haven: {count} safeguarding hold{'s' if count != 1 else ''} due for review"
        lines = [
            "Messages on these cases are kept beyond the retention period for safeguarding. "
            "Each hold is due for review: extend it, with a new date and a reason, or release "
            "it, with a reason, so its messages follow normal retention.",
            f"Cases: {cases}",
            f"Raised: {when}",
        ]
        return _done(alert, subject, lines, f"{base}/holds", None, config)
    if alert.kind == "follow_up":
        subject = f"Haven: a follow-up is due, {ref}"
        lines = [
            f"It is time to check in with the person on {ref}, as the matching procedure asks.",
            "Record how they are and the outcome on the case, or move the follow-up on.",
            f"Due: {when}",
        ]
        return _done(alert, subject, lines, case_link or f"{base}/", None, config)
    subject = f"Haven: {label}, {ref}"
    others = [c for c in alert.facts.get("categories", []) if c != alert.category]
    lines = [f"Concern: {label}", f"Raised: {when}{hours}"]
    lines += [f"Also found: {'; '.join(phrases(others))}"] if others else []
    return _done(alert, subject, lines, case_link or f"{base}/", None, config)


def concern_label(alert: Alert) -> str:
    """The concern in words with its severity ("Possible suicide risk (urgent)"); never the code.

    The machine-readable category stays in the webhook payload for whoever automates on it.
    """
    severity = SEVERITY_WORDS.get(alert.severity, alert.severity).lower()
    what = phrase(alert.category) if alert.category else alert.kind.replace("_", " ")
    return f"{what} ({severity})"


def _partner_summary(alert: Alert, config: HavenConfig) -> Rendered:
    org = config.organisation.name
    cases = alert.facts.get("cases", [])
    subject = f"{org}: written summary for {alert.partner}, {alert.facts.get('date')}"
    lines = [
        f"Written confirmation from {org} of the safeguarding concerns raised today about "
        f"people connected with {alert.partner}:",
        "",
    ]
    for entry in cases:
        raised = _when(datetime.fromisoformat(entry["raised_at"]), config)
        taken = "with our safeguarding lead"
        if acknowledged := entry.get("acknowledged_at"):
            at = _when(datetime.fromisoformat(acknowledged), config)
            taken = f"taken on by our safeguarding lead at {at}"
        lines.append(
            f"- {org} case {entry['case']}: {phrase(entry['category'])}, raised {raised}; {taken}."
        )
    lines += [
        "",
        "Please follow up locally under your safeguarding policy.",
        "This summary deliberately contains no personal details.",
    ]
    return _done(alert, subject, lines, None, None, config)


def _digest(alert: Alert, config: HavenConfig) -> Rendered:
    facts = alert.facts
    subject = f"Haven: weekly digest for {config.organisation.page_name}, {facts.get('week')}"
    lines = [f"The week to {_when(alert.created_at, config)}.", "", "Found, by category:"]
    by_category = facts.get("findings_by_category", {})
    lines += [f"  {phrase(c)}: {n}" for c, n in sorted(by_category.items())] or ["  nothing"]
    lines += ["", "Still open:"]
    lines += [f"  {t} cases: {n}" for t, n in sorted(facts.get("open_cases", {}).items())]
    lines += [f"  replies waiting for approval: {facts.get('drafts_waiting', 0)}"]
    lines += ["", "Deadlines missed:"]
    lines += [f"  private replies not sent within Meta's 7 days: {facts.get('replies_missed', 0)}"]
    lines += [f"  escalations not acknowledged in time: {facts.get('escalations_late', 0)}"]
    lines += [f"  alert deliveries that failed: {facts.get('deliveries_failed', 0)}"]
    return _done(alert, subject, lines, f"{config.alerts.dashboard_url}/", None, config)


def _done(
    alert: Alert,
    subject: str,
    lines: list[str],
    link: str | None,
    ack_url: str | None,
    config: HavenConfig,
) -> Rendered:
    payload = {
        "alert_id": alert.id,
        "kind": alert.kind,
        "category": alert.category,
        "severity": alert.severity,
        "level": alert.level,
        "case_id": alert.case_id,
        "created_at": alert.created_at.isoformat(),
        "out_of_hours": alert.out_of_hours,
        "organisation": config.organisation.name,
        "subject": subject,
        "link": link,
        "ack_url": ack_url,
    }
    if alert.kind in ("digest", "partner_summary"):
        payload["facts"] = alert.facts
    return Rendered(subject=subject, lines=lines, link=link, ack_url=ack_url, payload=payload)


def _when(moment: datetime, config: HavenConfig) -> str:
    here = local(moment, config.organisation.timezone)
    return f"{here:%a %d %b %Y %H:%M} ({here.tzname()})"
