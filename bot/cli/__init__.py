"""The `haven` command (also `python -m bot`): serve, worker, tick, demo and operator tools."""

from __future__ import annotations

import json
import logging
import os
import threading

import click
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.wording import phrases
from bot.cli.common import CONFIG_OPTION, DATABASE_OPTIONS, cli_engine, cli_settings
from bot.cli.privacy import retention, subject
from bot.cli.rules import classify, rules
from bot.cli.security import audit, keys
from bot.cli.users import users
from bot.config import Settings
from bot.config.alerts import Alerts
from bot.context import build_context, install
from bot.crypto import DataKeyError
from bot.db import make_engine, session_scope, upgrade
from bot.models import Finding, Item


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (may include message text).")
def main(verbose: bool) -> None:
    """Haven: safeguarding-first moderation for charity Facebook and Instagram pages."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@CONFIG_OPTION
def serve(config_path: str | None) -> None:
    """Webhooks and dashboard on 127.0.0.1:$PORT (plus queue and timers without REDIS_URL)."""
    from bot.cli.server import HavenServer

    settings = cli_settings(config_path, need_keys=True)
    _warn_at_start(settings)
    click.echo(f"Haven on http://127.0.0.1:{settings.port}/  ({settings.summary()})")
    HavenServer(settings).run()


@main.command()
@CONFIG_OPTION
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(config_path: str | None, burst: bool) -> None:
    """An rq worker for the jobs (needs REDIS_URL)."""
    import importlib

    from bot.tasks import run_rq_worker

    settings = cli_settings(config_path, need_keys=True)
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set; `haven serve` runs jobs in-process")
    _warn_at_start(settings)
    context = install(build_context(settings))
    # Compile the rules and import the jobs once per process. rq's default Worker forks a
    # child per job, which threw both away after every item (about one item a second) and
    # would share the parent's database sockets with the child; SimpleWorker runs jobs in
    # this process. A job that kills the process loses nothing: its item is still in the
    # database and the sweep hands it to the next worker.
    importlib.import_module("workers.jobs")
    _ = context.ruleset
    run_rq_worker(context.enqueuer.queue, burst=burst)  # type: ignore[attr-defined]


@main.command()
@CONFIG_OPTION
@click.option("--once", is_flag=True, help="Enqueue one tick and exit.")
def tick(config_path: str | None, once: bool) -> None:
    """Drive the database timers (sweep, deadlines) every few seconds."""
    from bot.ticker import run_ticks, tick_once

    settings = cli_settings(config_path, need_keys=True)
    _warn_at_start(settings)
    context = build_context(settings)
    if once:
        tick_once(context.enqueuer)
        return
    run_ticks(context.enqueuer, settings.config.queue.sweep_every_seconds, threading.Event())


@main.command("resume-sending")
@DATABASE_OPTIONS
@click.argument("account_id")
def resume_sending(config_path: str | None, account_id: str) -> None:
    """Send again on a page paused after Meta refused its token (renew the token first)."""
    from bot.actions import resume_account

    settings = cli_settings(config_path)
    with session_scope(cli_engine(settings)) as session:
        resumed = resume_account(session, account_id, actor="cli")
    click.echo(f"sending resumed on {account_id}" if resumed else f"{account_id} was not paused")


@main.command("check-config")
@CONFIG_OPTION
def check_config(config_path: str | None) -> None:
    """Validate config.yaml, the rules and the environment; print a one-line summary."""
    from rules import RuleError, load_ruleset

    settings = cli_settings(config_path)
    from bot.semantic import availability

    try:
        ruleset = load_ruleset(settings.config.rules)
        semantic = availability(settings.config.rules.semantic)
    except (RuleError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    alerts = settings.config.alerts
    for name in _out_of_hours_templates(alerts):
        if not ruleset.templates.get(name, {}).get("private"):
            raise click.ClickException(
                f"alerts.out_of_hours: the rule packs have no private reply template {name!r}"
            )
    missing = [name for name in alerts.env_names() if not os.environ.get(name)]
    if missing:
        raise click.ClickException(
            f"alerts: these environment variables are not set: {', '.join(missing)}"
        )
    summary = (
        f"{settings.summary()}; {len(ruleset.rules)} rules; "
        f"semantic stage {semantic.reason}; {alerts.summary()}"
    )
    if (
        not alerts.has_contacts("safeguarding_lead")
        and _in_production(settings)
        and not alerts.accept_dashboard_only
    ):
        # At 11pm nobody is watching the dashboard: risk must reach a person.
        raise click.ClickException(
            f"{summary}\nalerts: in production the safeguarding lead must be reachable "
            "beyond the dashboard: give alerts.roles.safeguarding_lead an email address, a "
            "phone number (alerts.sms) or a webhook, or set alerts.accept_dashboard_only: true"
        )
    from bot.config.voices import describe_pages, voice_warnings

    warnings = config_warnings(settings) + voice_warnings(settings.config, ruleset)
    # "ok" alone means nothing is missing; the warnings follow, one a line, and exit 0.
    count = len(warnings)
    status = f"ok with {count} warning{'s' if count > 1 else ''}" if warnings else "ok"
    click.echo(f"{status}: {summary}")
    for warning in warnings:
        click.echo(f"warning: {warning}")
    from bot.notify.duty import rota_notes

    for note in (*settings.config.notices, *rota_notes(alerts)):
        click.echo(f"note: {note}")
    # The effective settings of each page: its voice's, else the organisation's.
    for line in describe_pages(settings.config):
        click.echo(line)


def config_warnings(settings: Settings) -> list[str]:
    """What check-config warns about: optional settings missing, a lead only on the dashboard."""
    warnings = settings.warnings()
    if not settings.config.alerts.has_contacts("safeguarding_lead"):
        warnings.append(
            "alerts: the safeguarding lead is reachable ONLY ON THE DASHBOARD: give "
            "alerts.roles.safeguarding_lead an email address, a phone number or a webhook"
        )
    return warnings


def _warn_at_start(settings: Settings) -> None:
    """check-config's warnings, one a line on stderr, so a long-running process shows them too."""
    for warning in config_warnings(settings):
        click.echo(f"warning: {warning}", err=True)


def _out_of_hours_templates(alerts: Alerts) -> list[str]:
    """The templates Haven sends from by itself out of hours, as config.yaml turns them on."""
    wanted = alerts.out_of_hours
    names = [alerts.office_hours.out_of_hours_template] if wanted.send_crisis_reply else []
    return names + ([wanted.acknowledgement_template] if wanted.acknowledge_messages else [])


def _in_production(settings: Settings) -> bool:
    """Haven looks after a real page, or runs on the production shape (PostgreSQL, Redis)."""
    return bool(
        settings.config.meta.accounts
        or settings.redis_url
        or settings.database_url.startswith("postgresql")
    )


@main.command("init-db")
@CONFIG_OPTION
def init_db(config_path: str | None) -> None:
    """Create or upgrade the database schema (run once per release in production)."""
    settings = cli_settings(config_path)
    upgrade(make_engine(settings.database_url))
    click.echo("database schema is up to date")


@main.command()
@DATABASE_OPTIONS
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=int, default=None, help="Only the newest N items.")
def items(config_path: str | None, as_json: bool, limit: int | None) -> None:
    """Every stored inbound item, oldest first: what arrived and what Haven found."""
    settings = cli_settings(config_path)
    engine = cli_engine(settings)
    try:
        _list_items(engine, as_json, limit)
    except DataKeyError as exc:
        raise click.ClickException(str(exc)) from None


def _list_items(engine: Engine, as_json: bool, limit: int | None) -> None:
    with Session(engine) as session:
        query = select(Item).order_by(Item.id.desc() if limit else Item.id)
        rows = session.exec(query.limit(limit) if limit else query).all()
        for item in reversed(rows) if limit else rows:
            categories = sorted(
                set(session.exec(select(Finding.category).where(Finding.item_id == item.id)).all())
            )
            if as_json:
                click.echo(json.dumps(_item_json(item, categories), ensure_ascii=False))
            else:
                # In words, as the dashboard says them; --json keeps the codes for scripts.
                found = "; ".join(phrases(categories)) or "-"
                click.echo(
                    f"{item.id:>6}  {item.channel:<10} {item.verb:<7} {item.status:<10} {found}"
                )


def _item_json(item: Item, categories: list[str]) -> dict[str, object]:
    return {
        "id": item.id,
        "platform": item.platform,
        "channel": item.channel,
        "verb": item.verb,
        "account_id": item.account_id,
        "external_id": item.external_id,
        "post_id": item.post_id,
        "parent_id": item.parent_id,
        "thread_id": item.thread_id,
        "author_id": item.author_id,
        "text": item.text,
        "attachments": item.attachments,
        "from_page": item.from_page,
        "is_echo": item.is_echo,
        "status": item.status,
        "categories": categories,
        "case_id": item.case_id,
        "created_at": item.created_at.isoformat(),
    }


@main.command()
@CONFIG_OPTION
def demo(config_path: str | None) -> None:
    """The embedded default with sample events, so there is something to look at."""
    from bot.demo.run import run_demo

    run_demo(config_path)


main.add_command(classify)
main.add_command(users)
main.add_command(rules)
main.add_command(keys)
main.add_command(audit)
main.add_command(subject)
main.add_command(retention)
