"""The sample conversations of docs/dialogue.md, read as golden transcripts: every reply line must match exactly.

A conversation is a fenced block of lines: "> message" from the person, "< reply" from reunite, and lines
indented by two spaces continuing the reply above (its choices). "> [father] message" comes from another phone,
the one named; "= lab: walk-in sample of the father, link code K7QX-M2PD-4F7" is the lab registering a walk-in
sample. "> [chat] message" is the first parent again, from a chat on another channel than the one under test
(sent through the inbox). Only what is random each time is normalised: case references (MC- and FC-), PINs, sample codes and the time a lock ends; in the messages a
person sends, the case reference, PIN and link code printed are replaced by the real ones of the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.labs.walkins import register_walk_in
from intake.models import Channel, Lab, Role, SampleSource, Sex
from intake.platform import clock

DOC = Path(__file__).parents[2] / "docs" / "dialogue.md"
SECTION = "## Sample conversations"
_FENCE = re.compile(r"^```\n(.*?)^```", re.DOTALL | re.MULTILINE)
_RANDOM = (
    (re.compile(r"MC-\d{4}-[2-9A-Z]{6}"), "MC-YYYY-REFERENCE"),
    (re.compile(r"(?<![\d-])\d{6}(?!\d)"), "PIN"),
    (re.compile(r"(?<![A-Z0-9])[2-9A-HJ-NP-TV-Z]{4}-[2-9A-HJ-NP-TV-Z]{4}(?![A-Z0-9])"), "SAMPLE-CODE"),
    (re.compile(r"FC-\d{4}-[2-9A-Z]{6}"), "FC-YYYY-REFERENCE"),
    # When a PIN lock ends (pins.say_locked) depends on the clock the conversation is played on.
    (re.compile(r"(?:\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}(?= \(Beijing time\))"), "HH:MM"),
    (re.compile(r"(?:\d{1,2}月\d{1,2}日)?\d{2}:\d{2}(?=（北京时间）)"), "HH:MM"),
)


_SENDER = re.compile(r"\[(\w+)\] (.*)")
_WALK_IN = re.compile(r"= lab: walk-in sample of the (\w+), link code ([0-9A-Z-]+)")
ADDRESSES = {"": "+8613800138000", "father": "+8613900000002", "stranger": "+8613700000009"}
ELSEWHERE = {"chat": "+8613800138000"}  # the same parent, on another channel than the one played


@dataclass(frozen=True)
class Exchange:
    """One message and the exact replies it gets (or a lab's walk-in sample, when `walk_in` names its role)."""

    message: str
    replies: tuple[str, ...]
    sender: str = ""  # "" is the parent at PHONE; else a name in ADDRESSES
    walk_in: str | None = (
        None  # the role of a walk-in sample the lab registers here, its link code in `message`
    )


class Secrets:
    """The real case reference, PIN and link codes of a run, put into the messages in place of the printed ones."""

    def __init__(self) -> None:
        self.reference: str | None = None
        self.pin: str | None = None
        self.link_codes: dict[str, str] = {}

    def learn(self, replies: list[str]) -> None:
        """Remember the case reference and PIN a reply told."""
        for reply in replies:
            if m := _RANDOM[0][0].search(reply):
                self.reference = m.group(0)
            if m := _RANDOM[1][0].search(reply):
                self.pin = m.group(0)

    def message(self, text: str) -> str:
        """Return the message with the printed reference, PIN and link codes replaced by the real ones."""
        for printed, real in self.link_codes.items():
            text = text.replace(printed, real)
        if self.reference:
            text = _RANDOM[0][0].sub(self.reference, text)
        if self.pin:
            text = _RANDOM[1][0].sub(self.pin, text)
        return text


def normalise(text: str) -> str:
    """Return `text` with the random codes replaced by placeholders."""
    for pattern, placeholder in _RANDOM:
        text = pattern.sub(placeholder, text)
    return text


def parse(block: str) -> list[Exchange]:
    """Return the exchanges of one conversation block."""
    exchanges: list[tuple[str, list[str]]] = []
    walk_ins: dict[int, str] = {}
    for line in block.splitlines():
        if line.startswith("> "):
            exchanges.append((line[2:], []))
        elif m := _WALK_IN.fullmatch(line):
            walk_ins[len(exchanges)] = m.group(1)
            exchanges.append((m.group(2), []))
        elif line.startswith("< "):
            exchanges[-1][1].append(line[2:])
        elif line.startswith("  "):
            replies = exchanges[-1][1]
            replies[-1] += "\n" + line[2:]
        elif line.strip():
            raise ValueError(f"not a transcript line: {line!r}")
    return [_exchange(message, replies, walk_ins.get(n)) for n, (message, replies) in enumerate(exchanges)]


def _exchange(message: str, replies: list[str], walk_in: str | None) -> Exchange:
    m = _SENDER.fullmatch(message)
    sender, message = (m.group(1), m.group(2)) if m else ("", message)
    return Exchange(message, tuple(replies), sender, walk_in)


def conversations() -> list[list[Exchange]]:
    """Return every sample conversation of docs/dialogue.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    return [parse(block) for block in _FENCE.findall(section)]


def walk_in(factory: sessionmaker[Session], role: str) -> str:
    """Register a walk-in sample of `role` at the first lab, as the lab API does; return its link code."""
    with factory() as session:
        lab = session.scalars(sa.select(Lab).order_by(Lab.id)).first()
        assert lab is not None, "the demo labs are loaded"
        sex = Sex.FEMALE if role == "mother" else Sex.MALE
        _sample, code = register_walk_in(
            session,
            lab_id=lab.id,
            actor="labkey:1",
            source=SampleSource.REPORTING_PARENT,
            role=Role(role),
            sex=sex,
        )
        session.commit()
    return code


def elsewhere(factory: sessionmaker[Session], channel: Channel) -> Callable[[str, str], list[str]]:
    """Return a `send` on another channel than `channel`, through the inbox as any adapter does."""
    other = Channel.SMS if channel is not Channel.SMS else Channel.TELEGRAM
    sent = iter(range(1, 10_000))

    def send(address: str, text: str) -> list[str]:
        incoming = Incoming(other, address, text, clock.now(), provider_id=f"elsewhere-{next(sent)}")
        return [render_plain(r) for r in process(factory, incoming)]

    return send


def play(
    exchanges: list[Exchange],
    send: Callable[[str, str], list[str]],
    factory: sessionmaker[Session],
    channel: Channel = Channel.SMS,
) -> None:
    """Play a conversation: `send(address, text)` returns the replies; compare each exactly (normalised).

    `channel` is the one `send` uses: "[chat]" messages go through another one.
    """
    secrets = Secrets()
    other = elsewhere(factory, channel)
    for number, exchange in enumerate(exchanges, 1):
        if exchange.walk_in is not None:
            secrets.link_codes[exchange.message] = walk_in(factory, exchange.walk_in)
            continue
        if exchange.sender in ELSEWHERE:
            replies = other(ELSEWHERE[exchange.sender], secrets.message(exchange.message))
        else:
            replies = send(ADDRESSES[exchange.sender], secrets.message(exchange.message))
        secrets.learn(replies)
        expected = [normalise(r) for r in exchange.replies]
        assert [normalise(r) for r in replies] == expected, f"message {number} {exchange.message!r}"
