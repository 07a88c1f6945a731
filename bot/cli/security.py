"""`haven keys ...` and `haven audit verify`: the data keys and the audit chain.

Plain click groups; bot/cli/__init__.py registers them on the `haven` group.
"""

from __future__ import annotations

import click
from sqlmodel import Session

from bot.cli.common import DATABASE_OPTIONS, cli_engine, cli_settings
from bot.crypto import ENV_NAME, DataKeyError, generate_key


@click.group()
def keys() -> None:
    """The Fernet keys that encrypt message texts at rest (HAVEN_DATA_KEYS)."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new key. Put it first in HAVEN_DATA_KEYS, then run `haven keys rotate`."""
    click.echo(generate_key())


@keys.command("rotate")
@DATABASE_OPTIONS
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
def keys_rotate(config_path: str | None, batch_size: int) -> None:
    """Re-encrypt every stored text with the first key; safe to run again. Audited."""
    from bot.crypto_rotate import rotate

    settings = cli_settings(config_path, need_keys=True)
    engine = cli_engine(settings)
    try:
        changed = rotate(engine, batch_size=batch_size)
    except DataKeyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    for table, count in changed.items():
        click.echo(f"{table}: {count} rows re-encrypted")
    click.echo(
        f"done: everything is sealed with the first key in {ENV_NAME}; "
        "the other keys can now be removed from it"
    )


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@DATABASE_OPTIONS
def audit_verify(config_path: str | None) -> None:
    """Walk the hash chain; exit 1 and name the first broken entry if it was tampered with."""
    from bot.audit.chain import verify

    settings = cli_settings(config_path, need_keys=False)
    engine = cli_engine(settings)
    try:
        with Session(engine) as session:
            verdict = verify(session)
    finally:
        engine.dispose()
    click.echo(f"audit log: {verdict.describe()}")
    if not verdict.ok:
        raise SystemExit(1)
