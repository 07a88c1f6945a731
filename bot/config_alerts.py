"""The `alerts:` section of config.yaml: who is told what, how, and when."""

from __future__ import annotations

from bot.config_section import Section


class Alerts(Section):
    """Notification channels, routing, escalation and office hours (see the README)."""
