"""`reunite officers add|list|disable|enable|unlock|reset-password|set-role`: console accounts. The first admin is made here, on the server's command line.

The password is asked twice at the terminal (never an option, so it stays out of shell history and `ps`), or
read from the first line of standard input when that is not a terminal (`--password-stdin`, for scripts).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.cli.support import runtime_from_env
from intake.models import Officer, OfficerRole
from intake.models.officers import (
    create_officer,
    locked_addresses,
    reset_password,
    set_active,
    set_role,
    unlock,
)
from intake.platform.errors import ReuniteError
from intake.platform.i18n import ENGLISH, translate

ROLES = [r.value for r in OfficerRole]
CLI_ACTOR = "officer:cli"


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def make_officers_group(get_session_factory: Callable[[], sessionmaker[Session]]) -> click.Group:
    """Return the `officers` group, opening sessions from `get_session_factory()`."""

    @click.group("officers")
    def officers() -> None:
        """Console accounts of officers, supervisors and admins."""

    @officers.command("add")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option(
        "--province", default=None, help="The province whose cases they see (admins: none, national)."
    )
    @click.option("--name", "display_name", default=None, help="The name shown in the console.")
    @click.option("--alert-channel", type=click.Choice(["email", "sms", "telegram"]), default=None)
    @click.option("--alert-address", default=None, help="Where alerts of new candidates go.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
    def add(
        username: str, role: str, province: str | None, display_name: str | None, alert_channel: str | None,
        alert_address: str | None, password_stdin: bool,
    ) -> None:  # fmt: skip
        """Create a console account; the password is prompted (or read from stdin)."""
        password = _password(password_stdin)
        with get_session_factory()() as session:
            try:
                officer = create_officer(
                    session, username=username, display_name=display_name or username, role=OfficerRole(role),
                    province=province, password=password, actor=CLI_ACTOR, alert_channel=alert_channel,
                    alert_address=alert_address,
                )  # fmt: skip
            except ReuniteError as exc:
                raise click.ClickException(translate(ENGLISH, exc.message, **exc.params)) from exc
            session.commit()
            click.echo(f"officer {officer.id} {officer.username} ({officer.role.value}, "
                       f"{officer.province or 'all provinces'}) created")  # fmt: skip

    @officers.command("list")
    def list_() -> None:
        """Show every account: id, username, role, province, state."""
        with get_session_factory()() as session:
            for o in session.scalars(sa.select(Officer).order_by(Officer.username)):
                state = "active" if o.active else "disabled"
                if locked := locked_addresses(session, o.username):
                    state += f", logins locked from {locked} address{'es' if locked > 1 else ''}"
                click.echo(
                    f"{o.id}\t{o.username}\t{o.role.value}\t{o.province or '-'}\t{o.display_name}\t{state}"
                )

    def change(
        username: str, what: Callable[[Session, Officer], Any], said: Callable[[Officer, Any], str]
    ) -> None:
        """Apply `what` to the account `username` in one transaction (audited by `what`), then say what it did:
        `said` of the account and what `what` returned."""
        with get_session_factory()() as session:
            officer = session.scalars(
                sa.select(Officer).where(Officer.username == username.strip().lower())
            ).first()
            if officer is None:
                raise click.ClickException(f"there is no account {username!r}")
            try:
                done = what(session, officer)
            except ReuniteError as exc:
                raise click.ClickException(translate(ENGLISH, exc.message, **exc.params)) from exc
            session.commit()
            click.echo(f"{officer.username}: {said(officer, done)}")

    @officers.command("disable")
    @click.argument("username")
    def disable(username: str) -> None:
        """Disable an account (a departed officer): no login, its session ends at once."""
        change(username, lambda s, o: set_active(s, o, False, CLI_ACTOR), lambda _o, _done: "disabled")

    @officers.command("enable")
    @click.argument("username")
    def enable(username: str) -> None:
        """Enable a disabled account again."""
        change(username, lambda s, o: set_active(s, o, True, CLI_ACTOR), lambda _o, _done: "enabled")

    @officers.command("unlock")
    @click.argument("username")
    def unlock_(username: str) -> None:
        """Forget the account's failed logins (from every address): it can log in again at once."""
        change(
            username,
            lambda s, o: unlock(s, o, CLI_ACTOR),
            lambda _o, n: f"unlocked ({n} failed logins forgotten)",
        )

    @officers.command("reset-password")
    @click.argument("username")
    @click.option(
        "--password-stdin", is_flag=True, help="Read the new password from the first line of stdin."
    )
    def reset_password_(username: str, password_stdin: bool) -> None:
        """Give an account a new password (prompted twice, or from stdin); its session ends."""
        password = _password(password_stdin)
        change(
            username,
            lambda s, o: reset_password(s, o, password, CLI_ACTOR),
            lambda _o, _done: "password reset",
        )

    @officers.command("set-role")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option(
        "--province", default=None, help="The province whose cases they see (admins: none, national)."
    )
    def set_role_(username: str, role: str, province: str | None) -> None:
        """Change an account's role and province."""
        change(
            username,
            lambda s, o: set_role(s, o, OfficerRole(role), province, CLI_ACTOR),
            lambda o, _done: f"{role}, {o.province or 'all provinces'}",
        )

    return officers


officers = make_officers_group(lambda: runtime_from_env(demo_labs=False).session_factory)
