"""`haven users`: dashboard accounts (add, list, new password, second-factor reset, role)."""

from __future__ import annotations

import secrets
import sys

import click

from bot.cli.common import DATABASE_OPTIONS, cli_engine, cli_session, cli_settings
from bot.db import session_scope
from bot.models import ROLES


@click.group()
def users() -> None:
    """Dashboard users."""


PASSWORD_STDIN_OPTION = click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin instead of making one."
)


def _new_password(from_stdin: bool) -> str:
    """The password typed on stdin, or a strong one made here (printed once by the caller)."""
    return sys.stdin.readline().rstrip("\n") if from_stdin else secrets.token_urlsafe(12)


def _show_made_password(password: str, from_stdin: bool) -> None:
    """Print a password this command made, once; one typed on stdin is never echoed."""
    if not from_stdin:
        click.echo(f"password: {password}")


@users.command("add")
@DATABASE_OPTIONS
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@PASSWORD_STDIN_OPTION
def users_add(config_path: str | None, name: str, role: str, password_stdin: bool) -> None:
    """Add a user; without --password-stdin a strong password is made and printed once."""
    from bot.web.auth.login import create_user

    settings = cli_settings(config_path)
    password = _new_password(password_stdin)
    with cli_session(settings) as session:
        create_user(session, name, password, role)
    click.echo(f"added {name} as {role}")
    _show_made_password(password, password_stdin)


@users.command("reset-password")
@DATABASE_OPTIONS
@click.argument("name")
@PASSWORD_STDIN_OPTION
def users_reset_password(config_path: str | None, name: str, password_stdin: bool) -> None:
    """Give a user a new password (printed once unless read from stdin); ends their sessions."""
    from bot.web.auth.login import find_user, set_password

    settings = cli_settings(config_path)
    password = _new_password(password_stdin)
    with cli_session(settings) as session:
        user = find_user(session, name)
        if user is None:
            raise ValueError(f"there is no user called {name!r}")
        set_password(session, user, password)
    click.echo(f"new password set for {name}")
    _show_made_password(password, password_stdin)


@users.command("reset-totp")
@DATABASE_OPTIONS
@click.argument("name")
def users_reset_totp(config_path: str | None, name: str) -> None:
    """Forget a user's second factor (a lost phone) and end their sessions; prints the one-time
    code (and link) they need to set up a new one."""
    from bot.web.auth.login import find_user
    from bot.web.auth.totp import ENROL_CODE_VALID, reset

    settings = cli_settings(config_path)
    with session_scope(cli_engine(settings)) as session:
        user = find_user(session, name)
        if user is None:
            raise click.ClickException(f"there is no user called {name!r}")
        code = reset(session, user, actor="cli")
    link = f"{settings.config.alerts.dashboard_url.rstrip('/')}/login/enrol?reset={code}"
    click.echo(f"second factor cleared for {name}, and their sessions ended.")
    click.echo(
        f"Give them, by a different route than their password, within {ENROL_CODE_VALID.days} "
        "days (they need it to set up a new one; it works once):"
    )
    click.echo(f"one-time enrolment code: {code}")
    click.echo(f"or the link: {link}")


@users.command("set-role")
@DATABASE_OPTIONS
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
def users_set_role(config_path: str | None, name: str, role: str) -> None:
    """Give a user another role; their sessions end."""
    from bot.web.auth.login import find_user, set_role

    with session_scope(cli_engine(cli_settings(config_path))) as session:
        user = find_user(session, name)
        if user is None:
            raise click.ClickException(f"there is no user called {name!r}")
        set_role(session, user, role)
    click.echo(f"{name} is now {role}; their sessions have ended")


@users.command("list")
@DATABASE_OPTIONS
def users_list(config_path: str | None) -> None:
    """Every dashboard user: name, role, whether active, whether a second factor is set up."""
    from sqlmodel import select

    from bot.models import User

    with cli_session(cli_settings(config_path)) as session:
        rows = session.exec(select(User).order_by(User.username)).all()
        for user in rows:
            state = "active" if user.active else "inactive"
            factor = "second factor set up" if user.totp_confirmed_at else "no second factor"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{factor}")
    if not rows:
        click.echo("no users yet: add one with `haven users add NAME --role ROLE`")
