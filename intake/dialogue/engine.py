"""The dialogue engine every channel calls: one incoming message in, the replies out, state kept in the database.

    handle(session, incoming, now=None) -> list[Reply]

It upserts the contact, applies opt-out and keywords, runs the current step and saves where the conversation is.
It neither stores the inbound message (the inbox does) nor commits (the caller does).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from intake.dialogue import booking, erase, menu, report
from intake.dialogue.keywords import Command, classify
from intake.dialogue.status import say_status
from intake.dialogue.steps import END, STEPS, Ctx, Option, register
from intake.dialogue.types import Incoming, Reply
from intake.errors import ReuniteError
from intake.i18n import CHINESE, ENGLISH, Msg, _, detect_language
from intake.models import Contact, Conversation, audit, utcnow

# The flows are registered here, explicitly (menu and erase still also register themselves on import).
for _flow in (menu.FLOW, report.FLOW, booking.FLOW, erase.FLOW):
    register(_flow)

# Language picking is a one-message overlay on whatever step is current, not a step of its own.
PICKING_LANGUAGE = "_picking_language"
LANGUAGE_OPTIONS = (
    Option("1", "中文", ("中文", "chinese", "zh")),
    Option("2", "English", ("en", "english", "英文")),
)


def _contact(session: Session, incoming: Incoming) -> Contact:
    query = sa.select(Contact).where(Contact.channel == incoming.channel, Contact.address == incoming.address)
    contact = session.scalars(query).first()
    if contact is not None:
        return contact
    try:  # two first messages at once: the second finds the contact the first created
        with session.begin_nested():
            contact = Contact(channel=incoming.channel, address=incoming.address)
            session.add(contact)
        return contact
    except IntegrityError:
        return session.scalars(query).one()


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


def handle(session: Session, incoming: Incoming, now: datetime | None = None) -> list[Reply]:
    """Answer one incoming message: return the replies to send (none to an opted-out contact)."""
    now = now or utcnow()
    contact = _contact(session, incoming)
    conversation = _conversation(session, contact)
    ctx = Ctx(session, contact, incoming, now, dict(conversation.data or {}))
    command = classify(incoming.text)
    if contact.opted_out:
        if command is Command.OPT_IN:
            _opt(ctx, out=False)
        return ctx.replies  # an opted-out contact hears nothing else
    if command is Command.OPT_OUT:
        _opt(ctx, out=True)
        _goto(ctx, conversation, END)
    else:
        if not contact.language_chosen and (lang := detect_language(incoming.text)) is not None:
            contact.language, contact.language_chosen = lang, True
        _dispatch(ctx, conversation, command)
    conversation.data = ctx.data
    flag_modified(conversation, "data")
    conversation.updated_at = now
    return ctx.replies


def _opt(ctx: Ctx, *, out: bool) -> None:
    ctx.contact.opted_out, ctx.contact.opted_out_at = out, ctx.now if out else None
    audit(ctx.session, ctx.actor, "contact.opt_out" if out else "contact.opt_in", "contact", ctx.contact.id)
    if out:
        ctx.say(_("You will get no more messages from reunite. Send START to receive them again."))
    else:
        ctx.say(_("Welcome back. Send HELP to see what you can do."))


def _dispatch(ctx: Ctx, conversation: Conversation, command: Command | None) -> None:
    step = conversation.step if conversation.step in STEPS else None
    if ctx.data.pop(PICKING_LANGUAGE, False) and command is None:
        # Anything but a language pick is read as an answer to the current step.
        with contextlib.suppress(ReuniteError):
            command = Command.CHINESE if ctx.choose(LANGUAGE_OPTIONS) == "1" else Command.ENGLISH
    if command in (Command.ENGLISH, Command.CHINESE):
        ctx.contact.language = ENGLISH if command is Command.ENGLISH else CHINESE
        ctx.contact.language_chosen = True
        _reask(ctx, step or menu.MAIN, conversation)
    elif command is Command.LANGUAGE:
        ctx.data[PICKING_LANGUAGE] = True
        ctx.say(_("Choose a language:"), LANGUAGE_OPTIONS)
    elif command in (Command.HELP, Command.STATUS, Command.OPT_IN):
        if command is Command.STATUS:
            say_status(ctx)
        else:
            ctx.say(menu.HELP)
        if step is not None:
            _reask(ctx, step, conversation)
    elif command is Command.REPORT or (command is Command.RESTART and step and step.startswith("report.")):
        _goto(ctx, conversation, report.start(ctx))
    elif command is Command.BOOK or (command is Command.RESTART and step and step.startswith("book.")):
        _goto(ctx, conversation, booking.start(ctx))
    elif command is Command.DELETE:
        _goto(ctx, conversation, erase.start(ctx))
    elif command is Command.CANCEL and step is not None and step != menu.MAIN:
        ctx.data.clear()
        ctx.say(_("Cancelled. Nothing more was saved. Send HELP to see what you can do."))
        _goto(ctx, conversation, END)
    elif command is Command.CANCEL:
        _goto(ctx, conversation, booking.start_cancel(ctx))
    elif step is None or command is Command.RESTART:
        _goto(ctx, conversation, menu.MAIN)
    else:
        _answer(ctx, conversation, step)


def _answer(ctx: Ctx, conversation: Conversation, name: str) -> None:
    step = STEPS[name]
    try:
        with ctx.session.begin_nested():  # a refused answer leaves nothing half-written
            target = step.answer(ctx)
    except ReuniteError as exc:
        _reask(ctx, name, conversation, reason=Msg(exc.message, exc.params))
        return
    if target not in step.next:
        raise RuntimeError(f"step {name} went to {target}, which its table does not allow")
    _goto(ctx, conversation, target)


def _reask(ctx: Ctx, name: str, conversation: Conversation, *, reason: Msg | None = None) -> None:
    question = STEPS[name].ask(ctx)
    ctx.say(question.text, question.options, prefix=reason)
    conversation.flow, conversation.step = STEPS[name].flow, name


def _goto(ctx: Ctx, conversation: Conversation, target: str) -> None:
    if target == END:
        conversation.flow = conversation.step = None
        ctx.data.clear()
        return
    _reask(ctx, target, conversation)
