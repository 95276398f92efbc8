"""The `reunite` command: run the service, chat in the terminal, manage the database and the lab directory."""

from __future__ import annotations

import dataclasses
import logging
import threading
from importlib.metadata import entry_points

import click

from intake.cli.support import runtime_from_env
from intake.runtime import kinship_kernel

COMMAND_GROUP = "reunite.commands"
LOG_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


@click.group()
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
    rt = runtime_from_env(demo_labs=False)
    click.echo(f"database at {rt.engine.url.render_as_string()} is current")


def _register_commands() -> None:
    from intake.cli.backup import backup_commands
    from intake.cli.children import children
    from intake.cli.dialogue import dialogue_worker
    from intake.cli.keys import keys
    from intake.cli.kinship import kinship_lr
    from intake.cli.lab_keys import make_labs_group_with_keys
    from intake.cli.match import match_commands
    from intake.cli.officers import officers
    from intake.cli.power import power
    from intake.cli.retention import retention
    from intake.cli.synth import synth

    main.add_command(make_labs_group_with_keys(lambda: runtime_from_env(demo_labs=False).session_factory))
    main.add_command(kinship_lr)
    main.add_command(keys)
    main.add_command(children)
    main.add_command(dialogue_worker)
    main.add_command(officers)
    main.add_command(power)
    main.add_command(synth)
    main.add_command(retention)
    for command in (*match_commands, *backup_commands):
        main.add_command(command)
    # Adapters (the terminal chat, later Telegram, workers) add their commands through entry points.
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda ep: ep.name):
        main.add_command(ep.load())


_register_commands()
