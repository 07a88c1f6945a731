"""`haven subject ...` (subject access and erasure) and `haven retention ...` (report, purge)."""

from __future__ import annotations

import json
import os

import click
from sqlmodel import Session

from bot.cli.common import DATABASE_OPTIONS, cli_engine, cli_session, cli_settings
from bot.db import session_scope
from bot.privacy.retention import purge_expired
from bot.privacy.retention_report import build_report
from bot.privacy.subject import PLATFORMS, erase_subject, export_subject, to_json

PLATFORM_OPTION = click.option(
    "--platform", type=click.Choice(PLATFORMS), required=True, help="Where the person wrote."
)
USER_OPTION = click.option(
    "--user", "user_id", required=True, help="Meta's id for the person (see `haven items --json`)."
)


@click.group()
def subject() -> None:
    """Subject access and erasure for one platform user (audited, without personal data)."""


@subject.command("export")
@DATABASE_OPTIONS
@PLATFORM_OPTION
@USER_OPTION
@click.option(
    "--output", type=click.Path(dir_okay=False), help="Write the JSON here (mode 0600), not stdout."
)
def subject_export(
    config_path: str | None, platform: str, user_id: str, output: str | None
) -> None:
    """Everything Haven holds about the person, as JSON."""
    with cli_session(cli_settings(config_path)) as session:
        data = export_subject(session, platform, user_id, actor="cli", source="cli")
    text = to_json(data)
    if output is None:
        click.echo(text)
        return
    # The export is the person's data: readable by this account only.
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in data["data"].items())
    click.echo(f"written to {output}: {counts}", err=True)


@subject.command("erase")
@DATABASE_OPTIONS
@PLATFORM_OPTION
@USER_OPTION
@click.option("--yes", "confirmed", is_flag=True, help="Confirm: this cannot be undone.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def subject_erase(
    config_path: str | None, platform: str, user_id: str, confirmed: bool, as_json: bool
) -> None:
    """Remove or blank everything about the person, except what a safeguarding hold keeps."""
    if not confirmed:
        raise click.ClickException(
            "erasure cannot be undone: export first if needed, then run again with --yes"
        )
    with cli_session(cli_settings(config_path)) as session:
        result = erase_subject(session, platform, user_id, actor="cli", source="cli")
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
        return
    if result.total:
        changed = ", ".join(f"{n} {name}" for name, n in result.changed.items() if n)
        click.echo(f"erased: {changed}")
    else:
        click.echo("nothing left to erase (already erased, or nothing held)")
    for kept in result.kept:
        click.echo(f"kept: {kept.what}: {kept.reason}")


@click.group()
def retention() -> None:
    """Retention of message texts: the report, and purging now instead of at the next tick."""


@retention.command("report")
@DATABASE_OPTIONS
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def retention_report(config_path: str | None, as_json: bool) -> None:
    """What was purged, what is held and why, and what is due next."""
    settings = cli_settings(config_path)
    with Session(cli_engine(settings)) as session:
        report = build_report(session, settings.config.data_protection)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(report.lines()))


@retention.command("purge")
@DATABASE_OPTIONS
def retention_purge(config_path: str | None) -> None:
    """Remove every expired text now, batch after batch, as the tick would."""
    from bot.config.voices import retention_by_account  # each page's own period (its voice)

    settings = cli_settings(config_path)
    engine = cli_engine(settings)
    totals = {"items": 0, "inbound_events": 0, "reply_drafts": 0}
    while True:
        with session_scope(engine) as session:
            counts = purge_expired(
                session,
                settings.config.data_protection,
                days_by_account=retention_by_account(settings.config),
            )
        for name, count in counts.items():
            totals[name] += count
        if not any(counts.values()):
            break
    click.echo("purged: " + ", ".join(f"{n} {name}" for name, n in totals.items()))
