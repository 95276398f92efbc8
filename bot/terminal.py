"""The terminal chat channel: the same intake dialogue on stdin/stdout, so anyone can try it without credentials."""

from __future__ import annotations

import getpass
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.types import Incoming
from intake.inbox import process, render_plain
from intake.models import Channel, utcnow


def chat(factory: sessionmaker[Session], stdin: TextIO, stdout: TextIO, *, address: str | None = None) -> int:
    """Run a conversation until end of input; return the number of messages handled."""
    address = address or f"terminal:{getpass.getuser()}"
    interactive = stdin.isatty()
    if interactive:
        stdout.write(
            "reunite terminal chat. Type a message (e.g. HELP, 帮助, REPORT, 报失); Ctrl-D to quit.\n"
        )
    handled = 0
    while True:
        if interactive:
            stdout.write("you> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        replies = process(factory, Incoming(Channel.TERMINAL, address, text, utcnow()))
        handled += 1
        for reply in replies:
            stdout.write("reunite> " + render_plain(reply).replace("\n", "\n         ") + "\n")
        stdout.flush()
    return handled
