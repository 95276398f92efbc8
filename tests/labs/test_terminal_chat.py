"""The terminal chat: line editing at a real (pseudo-)terminal, a clean goodbye on Ctrl-D and Ctrl-C, and pipes."""

from __future__ import annotations

import io
import os
import select
import signal
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.terminal import GOODBYE, PROMPT, chat
from intake.models import Direction, Message
from intake.platform.db import make_engine

pty = pytest.importorskip("pty")  # POSIX only
termios = pytest.importorskip("termios")

LEFT_ARROW = b"\x1b[D"


class Terminal:
    """`reunite chat` running on a pseudo-terminal, as a person starts it in a shell."""

    def __init__(self, data_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(REUNITE_DATA_DIR=str(data_dir), TERM="xterm", REUNITE_DEMO_LABS="0")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the chat, with the pty as its controlling terminal
            argv = [sys.executable, "-c", "from intake.cli import main; main()", "chat", "--as", "tester"]
            # As a shell starts it: SIGINT at its default and unblocked. An ignored or blocked signal survives
            # exec, and an earlier test in the same pytest process (a worker, a cluster) may have left either.
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                os.execve(sys.executable, argv, env)
            finally:
                os._exit(127)  # never go on running the test suite in the child
        self.output = b""

    def read_until(self, marker: bytes, count: int = 1, timeout: float = 60) -> bytes:
        """Read what the chat writes until `marker` appeared `count` times (or the chat ended); return it all."""
        deadline = time.monotonic() + timeout
        while self.output.count(marker) < count and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the chat has exited and closed the terminal
                    break
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def type(self, keys: bytes) -> None:
        """Type `keys` once readline reads keys one by one (a key typed before it does could be lost: Ctrl-D)."""
        deadline = time.monotonic() + 30
        while termios.tcgetattr(self.fd)[3] & termios.ICANON and time.monotonic() < deadline:
            time.sleep(0.05)
        os.write(self.fd, keys)

    def exit_status(self) -> int:
        """Wait (a bounded time) for the chat to end and return its exit code; a chat still running is killed."""
        self.read_until(b"\x00never", timeout=10)  # drain until the terminal closes
        for _ in range(50):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.2)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        return -1


def _inbound(data_dir: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{data_dir / 'reunite.sqlite3'}")
    with engine.connect() as conn:
        rows = (
            conn.execute(sa.select(Message.body).where(Message.direction == Direction.INBOUND))
            .scalars()
            .all()
        )
    engine.dispose()
    return [str(body) for body in rows]


@pytest.mark.parametrize(("key", "name"), [(b"\x04", "Ctrl-D"), (b"\x03", "Ctrl-C")])
def test_the_prompt_edits_lines_and_quits_with_a_goodbye(tmp_path, key, name):
    term = Terminal(tmp_path / "data")
    assert PROMPT.encode() in term.read_until(PROMPT.encode()), term.output
    term.type(b"HEP" + LEFT_ARROW + b"L\r")  # the arrow key moves the cursor back: the message is HELP
    # The reply, then the next prompt: only then is the chat waiting for a key (a key typed earlier would race).
    assert term.read_until(PROMPT.encode(), count=2).count(PROMPT.encode()) == 2, term.output
    term.type(key)
    goodbye = GOODBYE.strip().encode()  # the terminal writes "\r\n" where the chat writes "\n"
    output = term.read_until(goodbye, timeout=5)
    for _ in range(5):  # the fresh-clone suite (2 processes, a loaded machine) once lost the first three
        if goodbye in output:
            break
        # CPython's readline notices a SIGINT only when it interrupts its select(); one that lands between two
        # select() calls (a loaded machine deschedules the chat there) waits for the next key, so press it again,
        # as a person would. Ctrl-D is a key and is never lost this way.
        term.type(key)
        output = term.read_until(goodbye, timeout=10)
    assert term.exit_status() == 0, f"{name}: {output!r}"
    text = output.decode("utf-8", errors="replace")
    assert GOODBYE.strip() in text and "Aborted" not in text and "Traceback" not in text, text
    # The terminal itself may echo each Ctrl-C pressed again as "^C" once the chat has left (one per retry above);
    # the chat writes nothing after its goodbye.
    last = text.rstrip()
    while last.endswith("^C"):
        last = last.removesuffix("^C").rstrip()
    assert last.endswith(GOODBYE.strip()), f"{name}: the goodbye must be on its own, last line"
    assert _inbound(tmp_path / "data") == ["HELP"]


def test_piped_input_is_read_line_by_line_without_prompt_or_goodbye(session_factory):
    out = io.StringIO()
    handled = chat(session_factory, io.StringIO("HELP\n\n帮助\r\n"), out, address="terminal:pipe")
    assert handled == 2
    assert PROMPT not in out.getvalue() and GOODBYE not in out.getvalue()
    assert out.getvalue().count("reunite> ") >= 2


class _Interrupted(io.StringIO):
    def readline(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_an_interrupt_ends_the_chat_quietly(session_factory):
    out = io.StringIO()
    assert chat(session_factory, _Interrupted(), out, address="terminal:pipe") == 0
    assert out.getvalue() == ""
