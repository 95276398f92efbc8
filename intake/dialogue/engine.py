"""The dialogue engine every channel calls: one incoming message in, the replies out, state kept in the database.

    handle(session, incoming, now=None) -> list[Reply]

It upserts the contact, applies opt-out, erasure and the other keywords, runs the current step and saves where
the conversation is. It neither stores the inbound message (the inbox does) nor commits (the caller does).

Keywords and answers (docs/dialogue.md): an opt-out word always wins; otherwise, when the message picks one of
the options the person was just offered, the option wins over a keyword that is the same word; else a keyword
acts, and anything else is the answer to the current step.

No step holds a person: a step whose question no longer applies (another person's action changed the case:
they joined, linked a sample, withdrew the case, cancelled the appointment) raises `StepGone`, from its flow's
guard, its question or its answer; the engine then says why (or a general line) and ends the flow, so keywords
and answers always get a real reply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from intake.dialogue import booking, erase, join, language, link, menu, mydata, report, volunteer
from intake.dialogue.keywords import Command, classify, is_pinyin, normalise
from intake.dialogue.status import contact_cases, say_status
from intake.dialogue.steps import END, Ctx, Flow, Option, StepGone, option_words, step_table
from intake.dialogue.types import Incoming, Reply
from intake.inbound.media import is_photo_type
from intake.labs.appointments import active_booking
from intake.models import (
    Attachment,
    Contact,
    Conversation,
    attach_to_case,
    attachments_of,
    audit,
    contact_for,
)
from intake.platform import clock
from intake.platform.errors import ReuniteError
from intake.platform.i18n import Msg, _

FLOWS: tuple[Flow, ...] = (
    menu.FLOW, report.FLOW, booking.FLOW, erase.FLOW, join.FLOW, link.FLOW, volunteer.FLOW,
)  # fmt: skip
PHOTO_STEPS = (report.DESCRIPTION, volunteer.DESCRIPTION)  # where a photo alone is the answer
STEPS = step_table(FLOWS)
GUARDS = {flow.name: flow.guard for flow in FLOWS if flow.guard is not None}
# What a step raises when what it was about is gone: StepGone, or a row it reads by id no longer there.
GONE = (StepGone, NoResultFound)
log = logging.getLogger(__name__)
STATE_KEY = "_engine"  # the engine's own state, kept beside the flow's data in the conversation row


@dataclass
class EngineState:
    """What the engine remembers between messages: a language pick in progress, and the last question's options."""

    picking_language: bool = False
    options: bool = False  # the last question offered options
    option_keywords: tuple[str, ...] = ()  # words of those options that are also keywords: the options win

    @classmethod
    def pop_from(cls, data: dict[str, Any]) -> EngineState:
        """Take the engine's state out of a conversation's data (a missing or old one reads as empty)."""
        raw = data.pop(STATE_KEY, None)
        if not isinstance(raw, dict):
            return cls()
        words = tuple(str(w) for w in raw.get("option_keywords", ()))
        return cls(bool(raw.get("picking_language")), bool(raw.get("options")), words)

    def offer(self, options: tuple[Option, ...], *, besides_the_question: bool = False) -> None:
        """Remember that `options` were offered (besides the question's own ones, or instead of them)."""
        keywords = {w for option in options for w in _keywords_among(option_words(option))} | (
            set(self.option_keywords) if besides_the_question else set()
        )
        self.options, self.option_keywords = bool(options), tuple(sorted(keywords))


@lru_cache(maxsize=4096)
def _keywords_among(words: frozenset[str]) -> frozenset[str]:
    """Return the option words (normalised) that are also keywords; the same options come back every message."""
    return frozenset(w for w in map(normalise, words) if classify(w))


def command_of(text: str, state: EngineState, *, free_text: bool = False) -> Command | None:
    """Return the keyword a message is, unless it answers the question just asked (opt-out words always count).

    `free_text` says the question asks for words, not options: there a pinyin keyword is read as the answer,
    since a child may well be called "Yu Yue" or "Yu Yan".
    """
    command = classify(text)
    if command is Command.OPT_OUT:
        return command
    if normalise(text) in state.option_keywords or (free_text and is_pinyin(text)):
        return None  # the answer wins: the step reads the message
    return command


def _conversation(session: Session, contact: Contact) -> Conversation:
    # The row lock makes two quick messages of one person run one after the other on PostgreSQL.
    query = sa.select(Conversation).where(Conversation.contact_id == contact.id).with_for_update()
    conversation = session.scalars(query).first()
    if conversation is not None:
        return conversation
    try:
        with session.begin_nested():
            conversation = Conversation(contact_id=contact.id, data={})
            session.add(conversation)
        return conversation
    except IntegrityError:
        return session.scalars(query).one()


def handle(
    session: Session, incoming: Incoming, now: datetime | None = None, *, contact: Contact | None = None
) -> list[Reply]:
    """Answer one incoming message: return the replies to send (to an opted-out contact only OPT-IN and DELETE).

    `contact` is the sender's contact when the caller has it in this session already (the inbox does).
    """
    now = now or clock.now()
    contact = contact or contact_for(session, incoming.channel, incoming.address)
    conversation = _conversation(session, contact)
    data = dict(conversation.data or {})
    state = EngineState.pop_from(data)
    incoming, refused = _drop_files(session, incoming)
    ctx = Ctx(session, contact, incoming, now, data)
    if refused and not contact.opted_out:
        ctx.say(_("The file you sent (%(kind)s) was not kept: we keep only photos, as JPEG, PNG or WebP.",
                  kind=", ".join(dict.fromkeys(refused))))  # fmt: skip
        ctx.files_refused = True
    command = command_of(incoming.text, state, free_text=bool(conversation.step) and not state.options)
    # Free text at a question without options (a name, a place) does not tell the reader's language.
    language.follow(
        contact, incoming.text, says_something=bool(command or not conversation.step or state.options)
    )
    if contact.opted_out:
        _while_opted_out(ctx, state, conversation, command)
    elif command is Command.OPT_OUT:
        _opt(ctx, out=True, unfinished=_unfinished(conversation))  # the flow is kept for START
    else:
        _dispatch(ctx, state, conversation, command)
        _note_photos(ctx)
    conversation.data = ctx.data if state == EngineState() else {**ctx.data, STATE_KEY: asdict(state)}
    flag_modified(conversation, "data")
    conversation.updated_at = now
    return ctx.replies


def _while_opted_out(
    ctx: Ctx, state: EngineState, conversation: Conversation, command: Command | None
) -> None:
    # An opted-out person is asked nothing: START re-subscribes (and asks again the question where STOP came),
    # DELETE erases (with the case PIN on the same line when they have a case: there can be no question), and
    # everything else gets no answer.
    if command is Command.OPT_IN:
        unfinished = _unfinished(conversation)
        _opt(ctx, out=False, unfinished=unfinished)
        if unfinished is not None:
            _reask(ctx, state, conversation, unfinished)
    elif command is Command.DELETE:
        erase.while_opted_out(ctx)


def _unfinished(conversation: Conversation) -> str | None:
    """Return the step a flow stopped at (not the menu), which STOP keeps and START asks again."""
    step = conversation.step
    return step if step in STEPS and step != menu.MAIN else None


def _opt(ctx: Ctx, *, out: bool, unfinished: str | None = None) -> None:
    # STOP in the middle of a flow keeps its answers (an opt-out is no request to erase, and the messages that
    # gave them are kept too): the reply says so, and START goes on where it stopped (docs/dialogue.md).
    ctx.contact.opted_out, ctx.contact.opted_out_at = out, ctx.now if out else None
    audit(ctx.session, ctx.actor, "contact.opt_out" if out else "contact.opt_in", "contact", ctx.contact.id)
    report_unfinished = unfinished is not None and STEPS[unfinished].flow == report.FLOW.name
    if out and report_unfinished:
        ctx.say(_("You will get no more messages from reunite. Your unfinished report is kept but not sent: send "
                  "START to go on with it."))  # fmt: skip
    elif out and unfinished is not None:
        ctx.say(
            _("You will get no more messages from reunite. What you started is kept: send START to go on.")
        )
    elif out:
        ctx.say(_("You will get no more messages from reunite. Send START to receive them again."))
    elif report_unfinished:
        ctx.say(_("Welcome back. Your report is not sent yet: here is the question where you stopped. Send CANCEL "
                  "to drop it."))  # fmt: skip
    elif unfinished is not None:
        ctx.say(_("Welcome back. Here is the question where you stopped. Send CANCEL to drop it."))
    else:
        ctx.say(_("Welcome back. Send HELP to see what you can do."))


def _dispatch(ctx: Ctx, state: EngineState, conversation: Conversation, command: Command | None) -> None:
    step = conversation.step if conversation.step in STEPS else None
    flow = STEPS[step].flow if step else None
    if state.picking_language and command is None:
        state.picking_language = False
        # Anything but a language pick is read as an answer to the current step.
        with contextlib.suppress(ReuniteError):
            command = Command.CHINESE if ctx.choose(language.OPTIONS) == "1" else Command.ENGLISH
    state.picking_language = False
    if command in language.CHOSEN:
        language.choose(ctx.contact, language.CHOSEN[command])
        _reask(ctx, state, conversation, step or menu.MAIN)
    elif command is Command.LANGUAGE:
        state.picking_language = True
        ctx.say(_("Choose a language:"), language.OPTIONS)
        state.offer(language.OPTIONS, besides_the_question=True)  # an answer to the question still counts
    elif command in (Command.HELP, Command.STATUS, Command.OPT_IN, Command.CHILDREN, Command.MYDATA):
        if command is Command.STATUS:
            say_status(ctx)
        elif command is Command.MYDATA:
            mydata.say_my_data(ctx)
        elif command is Command.CHILDREN:
            volunteer.say_children(ctx)
        else:
            ctx.say(menu.HELP)
            if volunteer.is_volunteer(ctx, flow):  # FOUND, NEXT, CHILDREN
                ctx.say(volunteer.HELP)
        if step is not None:
            _reask(ctx, state, conversation, step)
    elif command is Command.REPORT or (command is Command.RESTART and flow == report.FLOW.name):
        _goto(ctx, state, conversation, report.start(ctx))
    elif command is Command.BOOK or (command is Command.RESTART and flow == booking.FLOW.name):
        _goto(ctx, state, conversation, booking.start(ctx))
    elif command is Command.FOUND or (command is Command.RESTART and flow == volunteer.FLOW.name):
        _goto(ctx, state, conversation, volunteer.start(ctx))
    elif command is Command.NEXT:
        _goto(ctx, state, conversation, volunteer.start_next(ctx))
    elif command is Command.DELETE:
        _goto(ctx, state, conversation, erase.start(ctx))
    elif command is Command.JOIN:
        _goto(ctx, state, conversation, join.start(ctx))
    elif command is Command.LINK:
        _goto(ctx, state, conversation, link.start(ctx))
    elif command is Command.CANCEL and step is not None and step != menu.MAIN:
        _say_cancelled(ctx, flow)
        _goto(ctx, state, conversation, END)
    elif command is Command.CANCEL:
        _goto(ctx, state, conversation, booking.start_cancel(ctx))
    elif command is None and step is None and (intent := menu.intent(ctx)) is not None:
        # A run-on first message ("我要报失我儿子叫王小明", "我想预约") is an intent (at the menu: menu.on_main).
        _goto(ctx, state, conversation, menu.start_intent(ctx, intent))
    elif step is None or command is Command.RESTART:
        _goto(ctx, state, conversation, menu.MAIN)
    elif ctx.incoming.media and step not in PHOTO_STEPS:
        # A photo answers only the description. Elsewhere it is kept (see _note_photos) with the report or the
        # registration in progress, and its text (a caption) is a note on the photo, never an answer: not even
        # to "who is the child safe with now?".
        _keep_with_flow(ctx, step)
        note = _("A message with a photo is not taken as an answer. Please answer on its own.")
        _reask(ctx, state, conversation, step, reason=note if ctx.text else None)
    elif not ctx.text and not ctx.incoming.location and not ctx.incoming.media:
        _reask(
            ctx,
            state,
            conversation,
            step,
            reason=None if ctx.files_refused else _("Your message was empty."),
        )
    else:
        _answer(ctx, state, conversation, step)


def _keep_with_flow(ctx: Ctx, step: str) -> None:
    """Keep photos sent at any step of a report or registration with it (an album's later photos), and those sent
    once its case exists or while booking for a case with that case."""
    photos = attachments_of(ctx.session, ctx.incoming.channel, ctx.incoming.provider_id)
    if not photos:
        return
    case_id, kept = ctx.data.get("case_id"), ctx.data.get("attachments")
    if isinstance(case_id, int) and STEPS[step].flow in (report.FLOW.name, booking.FLOW.name):
        attach_to_case(ctx.session, photos, case_id)  # the case just reported, or the one being booked for
    elif isinstance(
        kept, list
    ):  # the report's or the registration's photos, linked to the case on confirmation
        ctx.data["attachments"] = [*kept, *photos]


def _drop_files(session: Session, incoming: Incoming) -> tuple[Incoming, list[str]]:
    """Drop what is no photo (a PDF, a video) from the message and its stored attachments; return their types."""
    refused = [m for m in incoming.media if not is_photo_type(m.content_type)]
    if not refused:
        return incoming, []
    stored = attachments_of(session, incoming.channel, incoming.provider_id)
    if len(stored) == len(incoming.media):
        gone = [a for a, m in zip(stored, incoming.media, strict=True) if not is_photo_type(m.content_type)]
        session.execute(sa.delete(Attachment).where(Attachment.id.in_(gone)))
    kept = tuple(m for m in incoming.media if is_photo_type(m.content_type))
    return dataclasses.replace(incoming, media=kept), [m.content_type for m in refused]


def _note_photos(ctx: Ctx) -> None:
    # A photo sent at any step is stored with its message (intake.inbound.inbox); say so first, unless the step did.
    if ctx.incoming.media and not ctx.photos_noted:
        ctx.say(_("Thank you, we received your photo and kept it with your message."))
        ctx.replies.insert(0, ctx.replies.pop())


def _say_cancelled(ctx: Ctx, flow: str | None) -> None:
    # "Cancelled" in the middle of moving an appointment would read as if the appointment were cancelled.
    if flow == erase.FLOW.name:
        ctx.say(_("OK, nothing was deleted."))
    elif flow == booking.FLOW.name and volunteer.booking_found_child(ctx):
        ctx.say(_("Stopped. The child stays registered: send BOOK to book the sampling later."))
    elif flow == booking.FLOW.name and any(active_booking(ctx.session, case) for case in contact_cases(ctx)):
        ctx.say(_("Stopped. Your appointment was not changed. Send HELP to see what you can do."))
    else:
        ctx.say(_("Cancelled. Nothing more was saved. Send HELP to see what you can do."))


def _guard(ctx: Ctx, name: str) -> None:
    """Raise StepGone when what the step's flow is about no longer stands (its flow's guard says why)."""
    guard = GUARDS.get(STEPS[name].flow)
    if guard is not None:
        guard(ctx, name)


def _answer(ctx: Ctx, state: EngineState, conversation: Conversation, name: str) -> None:
    step = STEPS[name]
    try:
        _guard(ctx, name)  # it only reads: outside the savepoint, which costs two statements when used
        with ctx.session.begin_nested():  # a refused answer leaves nothing half-written
            target = step.answer(ctx)
    except ReuniteError as exc:
        _reask(ctx, state, conversation, name, reason=Msg(exc.message, exc.params))
        return
    except GONE as exc:
        _moved_on(ctx, state, conversation, name, exc)
        return
    if target not in step.next:
        raise RuntimeError(f"step {name} went to {target}, which its table does not allow")
    _goto(ctx, state, conversation, target)


def _reask(
    ctx: Ctx,
    state: EngineState,
    conversation: Conversation,
    name: str,
    *,
    reason: Msg | None = None,
    guarded: bool = True,
) -> None:
    # `guarded=False`: the step was just entered by this message, so nothing can have changed since (no guard).
    try:
        if guarded:
            _guard(ctx, name)
        question = STEPS[name].ask(ctx)
    except GONE as exc:
        _moved_on(ctx, state, conversation, name, exc)
        return
    ctx.say(question.text, question.options, prefix=reason)
    state.offer(question.options)
    conversation.flow, conversation.step = STEPS[name].flow, name


def _moved_on(
    ctx: Ctx, state: EngineState, conversation: Conversation, name: str, exc: StepGone | NoResultFound
) -> None:
    """End a flow whose step no longer applies, saying why: the person is answered, never held at the step."""
    reason = exc.reason if isinstance(exc, StepGone) else None
    log.info("step %s of contact %s no longer applies: %r", name, ctx.contact.id, exc)
    audit(ctx.session, ctx.actor, "dialogue.step_gone", "contact", ctx.contact.id, step=name)
    ctx.say(reason or _("That question no longer applies: your case changed since we asked it. Send STATUS to "
                        "see your case, or HELP for what you can do."))  # fmt: skip
    _goto(ctx, state, conversation, END)


def _goto(ctx: Ctx, state: EngineState, conversation: Conversation, target: str) -> None:
    if target == END:
        conversation.flow = conversation.step = None
        ctx.data.clear()
        state.offer(())
        return
    _reask(ctx, state, conversation, target, guarded=False)
