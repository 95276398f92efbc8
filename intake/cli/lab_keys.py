"""`reunite labs key LAB_ID [--name NAME] [--days N]` and `reunite labs revoke KEY_ID`: API keys of labs.

They join the `labs` group of `intake.cli.labs`: `reunite` builds that group with `make_labs_group_with_keys`.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.orm import Session, sessionmaker

from intake.cli.labs import make_labs_group
from intake.labs.keys import VALID_DAYS, issue_key, revoke_key
from intake.platform.errors import NotFoundError

SessionFactoryGetter = Callable[[], sessionmaker[Session]]


def make_key_commands(get_session_factory: SessionFactoryGetter) -> list[click.Command]:
    """Return the `key` and `revoke` commands, opening sessions from `get_session_factory()`."""

    @click.command("key")
    @click.argument("lab_id", type=int)
    @click.option("--name", default=None, help="A name to tell the key apart, e.g. the lab system using it.")
    @click.option(
        "--days",
        default=VALID_DAYS,
        show_default=True,
        type=click.IntRange(min=1),
        help="Days the key works.",
    )
    def key_command(lab_id: int, name: str | None, days: int) -> None:
        """Issue an API key for lab LAB_ID; it is printed once, alone on the last line, and never stored.

        To rotate a lab's key: issue a new one, let the lab switch to it, then revoke the old one.
        """
        with get_session_factory()() as session:
            try:
                key, secret = issue_key(session, lab_id, actor="cli", name=name, valid_days=days)
            except NotFoundError as exc:
                raise click.ClickException(str(exc)) from exc
            session.commit()
        click.echo(
            f"key {key.id} ({key.name}) for lab {lab_id}, created {key.created_at:%Y-%m-%d %H:%M} UTC,"
            f" expires {key.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        click.echo("Keep it secret: it is shown only now. Send it as Authorization: Bearer <key>.")
        click.echo(secret)

    @click.command("revoke")
    @click.argument("key_id", type=int)
    def revoke_command(key_id: int) -> None:
        """Revoke API key KEY_ID at once."""
        with get_session_factory()() as session:
            try:
                key = revoke_key(session, key_id, actor="cli")
            except NotFoundError as exc:
                raise click.ClickException(str(exc)) from exc
            session.commit()
        click.echo(f"key {key.id} of lab {key.lab_id} revoked at {key.revoked_at:%Y-%m-%d %H:%M} UTC")

    return [key_command, revoke_command]


def make_labs_group_with_keys(get_session_factory: SessionFactoryGetter) -> click.Group:
    """Return the `labs` group of `intake.cli.labs` with the key commands added."""
    group = make_labs_group(get_session_factory)
    for command in make_key_commands(get_session_factory):
        group.add_command(command)
    return group
