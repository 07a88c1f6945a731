"""rq jobs for alerts: thin shells that find their context and call the plain functions in
bot/notify*.py, which the tests call directly with their own clock."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.context import JobContext, current
from bot.notify.delivery import deliver, dispatch
from bot.notify.digest import raise_partner_summaries, raise_weekly_digest
from bot.notify.escalation import step_escalations

log = logging.getLogger(__name__)


def deliver_alert(delivery_id: int) -> str:
    """Send one alert delivery (enqueued as bot.notify.delivery.DELIVER_ALERT)."""
    ctx = current()
    return deliver(ctx.engine, ctx.settings.config, delivery_id)


def dispatch_alerts() -> int:
    """Route new alerts and enqueue the deliveries that are due."""
    ctx = current()
    return dispatch(ctx.engine, ctx.enqueuer, ctx.settings.config.alerts)


def escalate() -> int:
    """Re-escalate every escalation nobody has acknowledged in time."""
    ctx = current()
    return step_escalations(ctx.engine, ctx.settings.config)


def digest() -> int:
    """Raise the weekly digest and partner summaries whose time has come."""
    ctx = current()
    config = ctx.settings.config
    return raise_weekly_digest(ctx.engine, config) + raise_partner_summaries(ctx.engine, config)


def dispatch_quietly(ctx: JobContext) -> None:
    """Dispatch after another job's commit. Its work is done and must not be retried because
    the queue or a table hiccupped here: the next tick dispatches whatever this missed."""
    try:
        dispatch(ctx.engine, ctx.enqueuer, ctx.settings.config.alerts)
    except Exception as exc:
        log.warning("could not dispatch alerts now (%s); the next tick will", type(exc).__name__)


def run_alert_timers() -> dict[str, int]:
    """The alert timers for `workers.jobs.tick`. Escalation goes first, and one timer failing
    never stops the others: a broken digest must not hold up a re-escalation."""
    timers: tuple[tuple[str, Callable[[], int]], ...] = (
        ("escalations", escalate),
        ("digests", digest),
        ("alert_deliveries", dispatch_alerts),
    )
    counts = {}
    for name, timer in timers:
        try:
            counts[name] = timer()
        except Exception:
            log.exception("alert timer %s failed; the next tick tries again", name)
            counts[name] = -1
    return counts
