"""Every channel's inbound path: store the message, run the dialogue once, store and return the replies.

A delivery is one transaction: the message is inserted first, keyed by (channel, provider id) with a unique
constraint, then the dialogue runs and its replies are stored, and one commit makes all of it visible at once
before the channel is answered. A retried or simultaneous duplicate delivery fails on the unique key (on
PostgreSQL it waits there until the first delivery commits), gets the first delivery's replies and changes
nothing. When the dialogue fails, its work is rolled back and a second transaction stores what is needed to
answer the person later: the message (FAILED, with the error), its sender's contact (created there on a first
message), its media references and the apology sent; the sender is taken out of the step that failed, so their
next message is read afresh (no step holds a person, docs/dialogue.md). One transaction per delivery is what keeps the webhook
fast (docs/reliability.md, "Where the time of one SMS delivery goes"): a single connection checkout, one commit
and no second look-up of the contact or the message.

The database unreachable (an `OperationalError`) is not the dialogue's failure: it propagates, the channel
answers 5xx and the provider retries, so nothing is acknowledged that was not stored and answered (see "Load and
faults" in docs/reliability.md). A message found stored but still RECEIVED (left by a release that committed
the message before processing it, and died in between) is processed by the retry that finds it, under its row
lock, so it is answered once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.types import Incoming, Reply
from intake.inbound.media import is_fetched_later
from intake.models import (
    MAX_ADDRESS_CHARS,
    MAX_CONTENT_TYPE_CHARS,
    MAX_PROVIDER_ID_CHARS,
    Attachment,
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    contact_for,
)
from intake.outbox import queue as outbox
from intake.platform import clock
from intake.platform.errors import InputError

log = logging.getLogger(__name__)

Handler = Callable[[Session, Incoming, datetime], list[Reply]]


def _fallback_reply(lang: str) -> list[Reply]:
    from intake.platform.i18n import translate

    return [
        Reply(
            translate(
                lang,
                "Sorry, something went wrong on our side. Your message is saved and we will look at it. "
                "Please try again later.",
            )
        )
    ]


def _stored_replies(session: Session, inbound_id: int) -> list[Reply]:
    rows = session.scalars(
        sa.select(Message).where(Message.in_reply_to_id == inbound_id).order_by(Message.id)
    ).all()
    return [Reply(m.body) for m in rows]


def check_incoming(incoming: Incoming) -> None:
    """Refuse what the database would refuse (over-long or control characters), before it is stored."""
    if not incoming.address.strip() or len(incoming.address) > MAX_ADDRESS_CHARS:
        raise InputError("The sender address is empty or longer than %(n)s characters.", n=MAX_ADDRESS_CHARS)
    if incoming.provider_id is not None and (
        len(incoming.provider_id) > MAX_PROVIDER_ID_CHARS or not incoming.provider_id.isprintable()
    ):
        raise InputError(
            "The message id is longer than %(n)s characters or unprintable.", n=MAX_PROVIDER_ID_CHARS
        )
    if any("\x00" in text for text in (incoming.address, *(m.url for m in incoming.media))):
        raise InputError("The sender address or a media URL holds a NUL character.")
    if any(len(m.content_type) > MAX_CONTENT_TYPE_CHARS for m in incoming.media):
        raise InputError("A media content type is longer than %(n)s characters.", n=MAX_CONTENT_TYPE_CHARS)


def store_inbound(
    session: Session, incoming: Incoming, status: MessageStatus = MessageStatus.RECEIVED
) -> tuple[Contact, Message]:
    """Add the inbound message, its sender's contact and its media to the session; return the contact and message.

    The caller flushes (a duplicate provider id fails there) and commits.
    """
    check_incoming(incoming)
    contact = contact_for(session, incoming.channel, incoming.address)
    message = Message(
        channel=incoming.channel,
        direction=Direction.INBOUND,
        contact_id=contact.id,
        provider_id=incoming.provider_id,
        body=incoming.text,
        status=status,
        created_at=incoming.received_at,
    )
    session.add(message)
    if incoming.media:
        session.flush()
    session.add_all(
        Attachment(
            message_id=message.id,
            position=i,
            url=m.url,
            content_type=m.content_type,
            # a provider's link (MMS) is downloaded by the fetch job (intake.inbound.media), from now on
            fetch_after=incoming.received_at if is_fetched_later(m.url) else None,
        )  # fmt: skip
        for i, m in enumerate(incoming.media)
    )
    return contact, message


def _default_handler(
    session: Session, incoming: Incoming, now: datetime, contact: Contact | None = None
) -> list[Reply]:
    """The dialogue engine (imported here: the engine imports this module's helpers)."""
    from intake.dialogue.engine import handle

    return handle(session, incoming, now, contact=contact)


def _locked_delivery(session: Session, channel: Channel, provider_id: str) -> Message:
    """Return the stored delivery of this provider id, locked until the session ends (PostgreSQL's FOR UPDATE;
    SQLite's BEGIN IMMEDIATE serialises whole transactions), so of its retries only one may process it."""
    return session.scalars(
        sa.select(Message)
        .where(Message.channel == channel, Message.provider_id == provider_id)
        .with_for_update()
    ).one()


def process(
    factory: sessionmaker[Session],
    incoming: Incoming,
    *,
    handler: Handler | None = None,
    now: datetime | None = None,
    replies_of_duplicate: bool = True,
    queue_replies: bool = False,
) -> list[Reply]:
    """Store `incoming`, run the dialogue on it and return the replies (stored too) for the channel to send.

    A duplicate delivery gets the first delivery's replies, for channels that answer in the response (TwiML);
    with `replies_of_duplicate=False` it gets none, for channels that send replies themselves (Telegram), so a
    retried update is never answered twice. With `queue_replies` (the spool's dialogue workers, intake/inbound/spool.py)
    the replies are queued in the outbox in the same transaction, for the notification worker to send in order,
    instead of being answered in the channel's response.
    """
    now = now or clock.now()
    # No phone or keyboard types a NUL and PostgreSQL cannot store one: drop it, keep the rest of the text.
    incoming = dataclasses.replace(incoming, text=incoming.text.replace("\x00", ""))
    with factory() as session:
        try:
            # Stored as PROCESSED at once: nobody sees the row before the commit that also holds the replies.
            contact, inbound = store_inbound(session, incoming, MessageStatus.PROCESSED)
            session.flush()
        except IntegrityError:
            session.rollback()
            return _duplicate(factory, incoming, handler, now, replies_of_duplicate, queue_replies)
        try:
            if handler is None:
                replies = _default_handler(session, incoming, now, contact=contact)
            else:
                replies = handler(session, incoming, now)
            return _answer(session, inbound, replies, queue_replies)
        except OperationalError:
            raise  # the database is unreachable: a 5xx, and the provider's retry brings the message again
        except Exception as exc:  # the person still gets an answer; the message is kept for an operator
            session.rollback()
            log.exception("dialogue failed on message %s %s", incoming.channel, incoming.provider_id)
            error = repr(exc)
    with factory() as session:
        try:
            contact, inbound = store_inbound(session, incoming, MessageStatus.FAILED)
            inbound.error = error
            session.flush()
        except IntegrityError:  # a duplicate of this delivery came through while this one failed
            session.rollback()
            return _duplicate(factory, incoming, handler, now, replies_of_duplicate, queue_replies)
        return _answer(session, inbound, _apology(session, contact), queue_replies)


def _apology(session: Session, contact: Contact) -> list[Reply]:
    """Return the apology for a message the dialogue failed on, and take the person out of the step that failed,
    so the next message is read afresh: a step that fails again and again (a bug, or a state nobody foresaw)
    answers with one apology, never holds the person at it."""
    replies = _fallback_reply(contact.language)
    session.execute(
        sa.update(Conversation)
        .where(Conversation.contact_id == contact.id)
        .values(flow=None, step=None, data={})
    )
    return replies


def _duplicate(
    factory: sessionmaker[Session],
    incoming: Incoming,
    handler: Handler | None,
    now: datetime,
    replies_of_duplicate: bool,
    queue_replies: bool = False,
) -> list[Reply]:
    """Answer a delivery whose provider id is stored: with the stored replies, or by processing a message that
    was stored and never processed (RECEIVED)."""
    assert incoming.provider_id is not None  # only provider ids are unique
    log.info("duplicate delivery %s on %s", incoming.provider_id, incoming.channel)
    with factory() as session:
        first = _locked_delivery(session, incoming.channel, incoming.provider_id)
        if first.status is not MessageStatus.RECEIVED:
            return _stored_replies(session, first.id) if replies_of_duplicate else []
        log.info("message %s: stored unprocessed, processed by a repeated delivery of it", first.id)
        try:
            replies = (handler or _default_handler)(session, incoming, now)
            first.status = MessageStatus.PROCESSED
        except OperationalError:
            raise
        except Exception as exc:  # as for a first delivery: answered with an apology, kept for an operator
            session.rollback()
            log.exception("dialogue failed on message %s", incoming.provider_id)
            first = _locked_delivery(session, incoming.channel, incoming.provider_id)
            first.status, first.error = MessageStatus.FAILED, repr(exc)
            contact = session.get_one(Contact, first.contact_id)
            replies = _apology(session, contact)
        return _answer(session, first, replies, queue_replies)


def _answer(session: Session, message: Message, replies: list[Reply], queue_replies: bool) -> list[Reply]:
    """Store the replies to `message` (queued in the outbox with `queue_replies`), commit, and return them."""
    _record_replies(session, message, replies, queue_replies)
    session.commit()
    if queue_replies and replies:
        outbox.QUEUED.set()  # after the commit: a notification worker in this process sends them at once
    return replies


def _record_replies(
    session: Session, inbound: Message, replies: list[Reply], queue_replies: bool = False
) -> None:
    if not replies:
        return
    # The channel gives these back in its answer (TwiML, the terminal): stored as answered, never queued, so
    # nothing that sends queued messages sends them a second time. One INSERT for all of them, in reply order.
    # Queued instead (the spool): stored as queued, and one notification each in the outbox, in reply order.
    session.flush()
    if queue_replies:
        outbox.queue_replies(session, inbound, [render_plain(reply) for reply in replies])
    session.execute(
        sa.insert(cast(sa.Table, Message.__table__)),  # Core: the ORM bulk path costs more than the INSERT
        [
            {
                "channel": inbound.channel,
                "direction": Direction.OUTBOUND,
                "contact_id": inbound.contact_id,
                "in_reply_to_id": inbound.id,
                "body": render_plain(reply),
                "status": MessageStatus.QUEUED if queue_replies else MessageStatus.ANSWERED_INLINE,
                "created_at": clock.now(),
            }
            for reply in replies
        ],
    )


def render_plain(reply: Reply) -> str:
    """Render a reply with its choices as plain numbered lines (SMS, terminal, the stored copy)."""
    if not reply.choices:
        return reply.text
    lines = [reply.text] + [f"{c.key} {c.label}" for c in reply.choices]
    return "\n".join(lines)
