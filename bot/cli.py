"""The `reunite chat` command: the intake dialogue in this terminal (registered through an entry point)."""

from __future__ import annotations

import sys

import click

from intake.cli.support import runtime_from_env


@click.command("chat")
@click.option(
    "--as", "address", default=None, help="Who you are in the conversation (default: your user name)."
)
def chat(address: str | None) -> None:
    """Talk to the intake dialogue in this terminal, as a parent would by SMS."""
    from bot.terminal import chat as run_chat

    rt = runtime_from_env()
    run_chat(rt.session_factory, sys.stdin, sys.stdout, address=address)
