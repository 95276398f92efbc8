"""The terminal chat channel: the same intake dialogue on stdin/stdout, so anyone can try it without credentials.

At a terminal the prompt has line editing (readline: arrow keys, Home/End, in-memory history) and Ctrl-D or
Ctrl-C ends the chat with a goodbye line. Piped input is read line by line, without prompt or goodbye.
"""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.models import Channel, utcnow

PROMPT = "you> "
WELCOME = "reunite terminal chat. Type a message (e.g. HELP, 帮助, REPORT, 报失); Ctrl-D or Ctrl-C to quit.\n"
GOODBYE = "Goodbye. 再见。\n"


def _terminal_reader() -> Callable[[], str | None]:
    """Return a reader that prompts on the terminal with line editing; None means the person quit."""
    # Importing readline is what gives input() line editing. Its history stays in memory and is never written
    # to a file: messages hold children's names. Windows has no readline; input() still works, without editing.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401

    def read() -> str | None:
        try:
            return input(PROMPT)
        except EOFError:  # Ctrl-D
            return None

    return read


def _stream_reader(stdin: TextIO) -> Callable[[], str | None]:
    def read() -> str | None:
        line = stdin.readline()
        return line.rstrip("\r\n") if line else None

    return read


def chat(factory: sessionmaker[Session], stdin: TextIO, stdout: TextIO, *, address: str | None = None) -> int:
    """Run a conversation until end of input (or Ctrl-C at a terminal); return the number of messages handled."""
    address = address or f"terminal:{getpass.getuser()}"
    # input() and readline work on the process's own terminal only; any other stream is read as a file.
    interactive = stdin is sys.stdin and stdout is sys.stdout and stdin.isatty() and stdout.isatty()
    read = _terminal_reader() if interactive else _stream_reader(stdin)
    if interactive:
        stdout.write(WELCOME)
    handled = 0
    try:
        while (text := read()) is not None:
            if not text.strip():
                continue
            replies = process(factory, Incoming(Channel.TERMINAL, address, text, utcnow()))
            handled += 1
            for reply in replies:
                stdout.write("reunite> " + render_plain(reply).replace("\n", "\n         ") + "\n")
            stdout.flush()
    except KeyboardInterrupt:  # Ctrl-C ends the chat; a message being handled is rolled back by its session
        pass
    if interactive:
        # input() leaves the cursor after the prompt on Ctrl-D and Ctrl-C: end that line first.
        stdout.write("\n" + GOODBYE)
        stdout.flush()
    return handled
