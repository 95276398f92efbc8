"""The step table every flow registers into, and the context a step handler works with.

A step asks a Question and reads the answer; the answer handler returns the name of the next step (or END) and
may only go where its `next` table says, so the drawings in docs/dialogue.md are generated from the same table.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from intake.dialogue.types import Choice, Incoming, Reply
from intake.errors import InputError
from intake.i18n import ENGLISH, Msg, _, render
from intake.models import contact_actor

END = "end"
CHINA = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Option:
    """One offered choice: the key to reply, its label, and other words that mean it (any language)."""

    key: str
    label: Msg | str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """What a step asks, with the options it offers (maybe none, for free text)."""

    text: Msg | str
    options: tuple[Option, ...] = ()


@dataclass
class Ctx:
    """Everything a step handler needs: the database session, the contact, the flow data and the replies so far."""

    session: Session
    contact: Any  # intake.models.Contact; Any keeps this module free of the model import cycle
    incoming: Incoming
    now: datetime
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)

    @property
    def lang(self) -> str:
        """Return the contact's language."""
        return str(self.contact.language)

    @property
    def text(self) -> str:
        """Return the message text, trimmed."""
        return self.incoming.text.strip()

    @property
    def today(self) -> date:
        """Return today's date in China, where the families and the labs are."""
        return self.now.astimezone(CHINA).date()

    @property
    def actor(self) -> str:
        """Name the person for the audit log by contact id, never by address (see intake.models.audit)."""
        return contact_actor(self.contact.id)

    def t(self, message: Msg | str) -> str:
        """Return `message` in the contact's language."""
        return str(render(self.lang, message))

    def say(self, message: Msg | str, options: tuple[Option, ...] = (), *, prefix: Msg | None = None) -> None:
        """Add a reply (with an optional first line, such as the reason for asking again)."""
        text = self.t(message) if prefix is None else f"{self.t(prefix)}\n{self.t(message)}"
        self.replies.append(Reply(text, tuple(Choice(o.key, self.t(o.label)) for o in options)))

    def choose(self, options: tuple[Option, ...]) -> str:
        """Return the key of the option the message picks (by key, label in either language, or alias)."""
        answer = fold(self.text)
        for option in options:
            words = {option.key, *option.aliases}
            if isinstance(option.label, Msg):
                words |= {option.label.msgid, str(render(self.lang, option.label))}
            else:
                words.add(option.label)
            if answer in {fold(w) for w in words}:
                return option.key
        raise InputError("Please reply with one of the numbers shown.")


def fold(text: str) -> str:
    """Return `text` folded for comparing answers: full-width to ASCII, case, spaces and end punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip().rstrip(".!。！")
    return "".join(folded.split())


Ask = Callable[[Ctx], Question]
Answer = Callable[[Ctx], str]


@dataclass(frozen=True)
class Step:
    """One step of a flow: how it asks, how it reads the answer, and where it may go next (target -> why)."""

    name: str
    ask: Ask
    answer: Answer
    next: Mapping[str, str]

    @property
    def flow(self) -> str:
        """Return the flow this step belongs to (the part of its name before the dot)."""
        return self.name.split(".", 1)[0]

    @property
    def doc(self) -> str:
        """Return the one-line description of the step (its answer handler's docstring)."""
        return (self.answer.__doc__ or "").strip().splitlines()[0]


@dataclass(frozen=True)
class Flow:
    """A named flow, where it is entered from (step -> by what), and its steps."""

    name: str
    entries: Mapping[str, str]
    steps: tuple[Step, ...]


STEPS: dict[str, Step] = {}
FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    """Add a flow and its steps to the step table."""
    FLOWS[flow.name] = flow
    for step in flow.steps:
        STEPS[step.name] = step
    return flow


YES_NO = (
    Option("1", _("Yes"), ("y", "yes", "ok", "是", "是的", "好", "对", "同意", "可以", "要")),
    Option("2", _("No"), ("n", "no", "否", "不", "不是", "不同意", "不要", "不用")),
)


def is_english(ctx: Ctx) -> bool:
    """Tell whether the contact reads English."""
    return ctx.lang == ENGLISH
