"""The `reunite` command: run the service, chat in the terminal, manage the database and the lab directory."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import click

COMMAND_GROUP = "reunite.commands"
LOG_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
# The core's commands: name -> "module:attribute" (a command, or a tuple of commands holding it), imported only
# when that command runs (or `--help` lists them), so `reunite match` does not load the web stack, the gazetteer
# or Telegram's library first. Adapters' commands are entry points, loaded the same way (COMMAND_GROUP).
CORE_COMMANDS = {
    "backup": "intake.cli.backup:backup_commands",
    "restore": "intake.cli.backup:backup_commands",
    "children": "intake.cli.children:children",
    "dialogue-worker": "intake.cli.dialogue:dialogue_worker",
    "keys": "intake.cli.keys:keys",
    "kinship-lr": "intake.cli.kinship:kinship_lr",
    "labs": "intake.cli.labs_with_keys:labs",
    "match": "intake.cli.match:match_commands",
    "match-worker": "intake.cli.match:match_commands",
    "candidates": "intake.cli.match:match_commands",
    "flags": "intake.cli.match:match_commands",
    "officers": "intake.cli.officers:officers",
    "power": "intake.cli.power:power",
    "retention": "intake.cli.retention:retention",
    "synth": "intake.cli.synth:synth",
}


def _loader(name: str, target: str) -> Callable[[], click.Command]:
    module, attribute = target.split(":")

    def load() -> click.Command:
        found = getattr(importlib.import_module(module), attribute)
        for command in found if isinstance(found, tuple | list) else (found,):
            if command.name == name:
                return command  # type: ignore[no-any-return]
        raise LookupError(f"{target} holds no command {name!r}")

    return load


class LazyGroup(click.Group):
    """A group whose commands are imported when one is asked for (`lazy`: name -> loader), not at start."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, Callable[[], click.Command]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name](), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.option(
    "-v", "--verbose", count=True, help="Log more: -v for progress (migrations, requests), -vv to debug."
)
def main(verbose: int) -> None:
    """reunite: intake, sampling appointments and kinship matching for missing children."""
    # Warnings only by default, so a command's own output is not buried under migration and server chatter.
    logging.basicConfig(
        level=LOG_LEVELS[min(verbose, len(LOG_LEVELS) - 1)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web processes. 1: one waitress process; more: gunicorn pre-forks them (production: about one per core).",
)
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(min=1), help="Threads per process."
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the web service (SMS and Telegram webhooks, lab API, officers' console, health check)."""
    from intake.cli.support import runtime_from_env
    from intake.runtime import kinship_kernel
    from intake.web import create_app

    rt = runtime_from_env()
    click.echo(
        f"reunite listening on http://{host}:{port} with {workers} process(es) x {threads} threads"
        f" (database: {rt.engine.url.render_as_string()})"
    )
    if not rt.settings.twilio.auth_token:
        click.echo("SMS webhook disabled until TWILIO_AUTH_TOKEN is set; try `reunite chat` meanwhile.")
    if kinship_kernel() != "numba":
        click.echo(
            "warning: numba is not available: kinship scans use the numpy path (5-10x slower).", err=True
        )
    if workers > 1:
        from intake.web.prefork import serve_prefork

        settings = rt.settings
        if rt.engine.dialect.name == "sqlite" and settings.reply_mode == "spool":
            # The spool's worker runs in the one process that may write SQLite: several web processes answer inline
            click.echo(
                "SQLite with several web processes: webhooks answer inline (the spool needs PostgreSQL)."
            )
            settings = dataclasses.replace(settings, reply_mode="inline")
        rt.engine.dispose()  # no pooled connection may cross the fork into the workers
        serve_prefork(
            settings, lambda worker_rt: create_app(rt=worker_rt), host=host, port=port, workers=workers,
            threads=threads,
        )  # fmt: skip
        return

    from waitress import create_server

    try:
        server = create_server(create_app(rt=rt), host=host, port=port, threads=threads, ident="reunite")
    except OSError as exc:  # the address is in use, or not one of this machine's
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if rt.engine.dialect.name == "sqlite":
        # One writer: the dialogue worker and the sending of its replies run here (docs/architecture.md)
        from intake.cli.dialogue import start_embedded

        start_embedded(rt, threading.Event())
    server.run()


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the configured database to the current schema."""
    from intake.cli.support import runtime_from_env

    rt = runtime_from_env(demo_labs=False)
    click.echo(f"database at {rt.engine.url.render_as_string()} is current")


def _register_commands() -> None:
    assert isinstance(main, LazyGroup)
    for name, target in CORE_COMMANDS.items():
        main.lazy[name] = _loader(name, target)
    # Adapters (the terminal chat, Telegram, the workers) add their commands through entry points.
    for ep in entry_points(group=COMMAND_GROUP):
        main.lazy[ep.name] = ep.load


_register_commands()
