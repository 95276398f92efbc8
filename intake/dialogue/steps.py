"""What a flow is made of (steps with their questions and options) and the context a step handler works with.

A step asks a Question and reads the answer; the answer handler returns the name of the next step (or END) and
may only go where its `next` table says, so the drawings in docs/dialogue.md are generated from the same table.
Each flow module defines one `FLOW`; the engine builds its step table from the flows it lists (`step_table`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from intake.dialogue.types import Choice, Incoming, Option, Question, Reply
from intake.dialogue.vocabulary import YES_NO, number_of
from intake.models import Contact, contact_actor
from intake.platform import clock
from intake.platform.errors import InputError
from intake.platform.i18n import ENGLISH, LANGUAGES, Msg, render
from intake.platform.text import fold

__all__ = [
    "END", "YES_NO", "Ctx", "Flow", "Option", "Question", "Step", "StepGone", "fold", "option_words", "step_table",
]  # fmt: skip

END = "end"


class StepGone(RuntimeError):
    """A step's question no longer applies: what it was about changed since it was asked (another person joined,
    the case was withdrawn, the appointment was cancelled...). The engine then says `reason` (or a general line)
    and ends the flow, so the person is never held at a question that cannot be answered."""

    def __init__(self, reason: Msg | None = None) -> None:
        super().__init__("the question of this step no longer applies")
        self.reason = reason


def option_words(option: Option) -> frozenset[str]:
    """Return every folded word that picks `option`: its key, its label in each language and its aliases."""
    label = option.label
    if isinstance(label, Msg) and label.params:
        return _option_words(option.key, label, option.aliases)  # filled in per message: fold afresh
    # The same options are offered and read again on every message, and their words never change: fold once.
    if isinstance(label, Msg):
        return _cached_option_words(option.key, label.msgid, True, option.aliases)
    return _cached_option_words(option.key, label, False, option.aliases)


def _option_words(key: str, label: Msg | str, aliases: tuple[str, ...]) -> frozenset[str]:
    words = {key, *aliases}
    if isinstance(label, Msg):
        words |= {label.msgid, *(str(render(lang, label)) for lang in LANGUAGES)}
    else:
        words.add(label)
    return frozenset(folded for folded in map(fold, words) if folded)  # an empty label picks nothing


@lru_cache(maxsize=4096)
def _cached_option_words(key: str, label: str, translated: bool, aliases: tuple[str, ...]) -> frozenset[str]:
    return _option_words(key, Msg(label) if translated else label, aliases)


@dataclass
class Ctx:
    """Everything a step handler needs: the database session, the contact, the flow data and the replies so far."""

    session: Session
    contact: Contact
    incoming: Incoming
    now: datetime
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    photos_noted: bool = False  # a step told the person what became of the photos sent with this message
    files_refused: bool = False  # the message brought a file that is no photo; the person was told so

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
        return clock.today_in_china(self.now)

    @property
    def actor(self) -> str:
        """Name the person for the audit log by contact id, never by address (see intake.models.audit)."""
        return contact_actor(self.contact.id)

    def t(self, message: Msg | str) -> str:
        """Return `message` in the contact's language."""
        return str(render(self.lang, message))

    def say(
        self,
        message: Msg | str,
        options: tuple[Option, ...] = (),
        *,
        prefix: Msg | None = None,
        code: str | None = None,
    ) -> None:
        """Add a reply (with an optional first line, such as the reason for asking again, and a code to show)."""
        text = self.t(message) if prefix is None else f"{self.t(prefix)}\n{self.t(message)}"
        self.replies.append(Reply(text, tuple(Choice(o.key, self.t(o.label)) for o in options), code))

    def choose(self, options: tuple[Option, ...]) -> str:
        """Return the key of the option the message picks (by key, numeral, label in either language, or alias).

        An empty message picks nothing: a photo without text is no answer.
        """
        answer = number_of(fold(self.text))
        if answer:
            for option in options:
                if answer in option_words(option):
                    return option.key
        raise InputError("Please reply with one of the numbers shown.")


Ask = Callable[[Ctx], Question]
Answer = Callable[[Ctx], str]
# Checks, before a step of the flow asks or reads an answer, that what the flow is about still stands (raises
# StepGone with the reason when it does not): given the step's name.
Guard = Callable[[Ctx, str], None]


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
    guard: Guard | None = None


def step_table(flows: Iterable[Flow]) -> dict[str, Step]:
    """Return the steps of `flows` by name; refuse two steps of one name."""
    table: dict[str, Step] = {}
    for flow in flows:
        for step in flow.steps:
            if step.name in table:
                raise ValueError(f"two steps are named {step.name}")
            table[step.name] = step
    return table


def is_english(ctx: Ctx) -> bool:
    """Tell whether the contact reads English."""
    return ctx.lang == ENGLISH
