"""Every channel's inbound path: store the message, run the dialogue once, store and return the replies.

A delivery is stored and committed before any work is done, keyed by (channel, provider id) with a unique
constraint, so a retried or simultaneous duplicate delivery gets the first delivery's replies and changes nothing.
That first commit holds everything needed to answer the person later even if the dialogue then fails: the
message, its sender's contact (created there on a first message) and its media references.

The dialogue then runs under the stored message's row lock, only while the message is still RECEIVED: whichever
delivery of a message gets the lock first processes it, and the others answer with its stored replies. A
delivery that died after the first commit (the web process killed, the database gone) leaves the message
RECEIVED, so the provider's retry processes it. The database unreachable is answered with a 5xx, never with a
200 for a message that was then not stored or not answered (see "Load and faults" in docs/reliability.md).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake import clock
from intake.dialogue.types import Incoming, Reply
from intake.errors import InputError
from intake.models import (
    MAX_ADDRESS_CHARS,
    MAX_CONTENT_TYPE_CHARS,
    MAX_PROVIDER_ID_CHARS,
    Attachment,
    Channel,
    Contact,
    Direction,
    Message,
    MessageStatus,
    contact_for,
)

log = logging.getLogger(__name__)

Handler = Callable[[Session, Incoming, datetime], list[Reply]]


def _default_handler(session: Session, incoming: Incoming, now: datetime) -> list[Reply]:
    from intake.dialogue.engine import handle

    return handle(session, incoming, now)


def _fallback_reply(factory: sessionmaker[Session], incoming: Incoming) -> list[Reply]:
    from intake.i18n import translate

    with factory() as session:
        contact = session.scalars(
            sa.select(Contact).where(Contact.channel == incoming.channel, Contact.address == incoming.address)
        ).first()
        lang = contact.language if contact else "zh_CN"
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


def store_inbound(session: Session, incoming: Incoming) -> Message:
    """Add the inbound message, its sender's contact and its media to the session (the caller commits first)."""
    check_incoming(incoming)
    message = Message(
        channel=incoming.channel,
        direction=Direction.INBOUND,
        contact_id=contact_for(session, incoming.channel, incoming.address).id,
        provider_id=incoming.provider_id,
        body=incoming.text,
        status=MessageStatus.RECEIVED,
        created_at=incoming.received_at,
    )
    session.add(message)
    if incoming.media:
        session.flush()
    session.add_all(
        Attachment(message_id=message.id, position=i, url=m.url, content_type=m.content_type)
        for i, m in enumerate(incoming.media)
    )
    return message


def _first_delivery_id(factory: sessionmaker[Session], channel: Channel, provider_id: str) -> int:
    with factory() as session:
        return session.scalars(
            sa.select(Message.id).where(Message.channel == channel, Message.provider_id == provider_id)
        ).one()


def _locked_if_unprocessed(session: Session, inbound_id: int) -> Message | None:
    """Lock the stored message (waiting for whoever holds it) and return it if nobody processed it yet.

    The lock is the inbound row's (PostgreSQL's FOR UPDATE; SQLite's BEGIN IMMEDIATE serialises the whole
    transaction), held until the caller commits: of all the deliveries of one message, the one that finds it
    still RECEIVED under the lock processes it, and every other one sees it processed. A delivery that died
    half-way (a killed web process, the database gone before the replies were committed) left it RECEIVED and
    unlocked, so Twilio's or Telegram's retry of it processes it then: nothing acknowledged is left unanswered.
    """
    inbound = session.scalars(sa.select(Message).where(Message.id == inbound_id).with_for_update()).one()
    return inbound if inbound.status == MessageStatus.RECEIVED else None


def process(
    factory: sessionmaker[Session],
    incoming: Incoming,
    *,
    handler: Handler | None = None,
    now: datetime | None = None,
    replies_of_duplicate: bool = True,
) -> list[Reply]:
    """Store `incoming`, run the dialogue on it and return the replies (stored too) for the channel to send.

    A duplicate delivery gets the first delivery's replies, for channels that answer in the response (TwiML);
    with `replies_of_duplicate=False` it gets none, for channels that send replies themselves (Telegram), so a
    retried update is never answered twice.
    """
    now = now or clock.now()
    handler = handler or _default_handler
    # No phone or keyboard types a NUL and PostgreSQL cannot store one: drop it, keep the rest of the text.
    incoming = dataclasses.replace(incoming, text=incoming.text.replace("\x00", ""))
    with factory() as session:
        try:
            inbound = store_inbound(session, incoming)
            session.commit()
            inbound_id = inbound.id
            first = True
        except IntegrityError:
            session.rollback()
            assert incoming.provider_id is not None  # only provider ids are unique
            log.info("duplicate delivery %s on %s", incoming.provider_id, incoming.channel)
            first = False
    if not first:
        assert incoming.provider_id is not None
        inbound_id = _first_delivery_id(factory, incoming.channel, incoming.provider_id)

    try:
        with factory() as session:
            if _locked_if_unprocessed(session, inbound_id) is None:  # another delivery of it processed it
                return _stored_replies(session, inbound_id) if replies_of_duplicate else []
            if not first:
                log.info("message %s: processed by a repeated delivery of it", inbound_id)
            replies = handler(session, incoming, now)
            _record_replies(session, inbound_id, replies, status=MessageStatus.PROCESSED)
            session.commit()
            return replies
    except Exception as exc:  # the person still gets an answer; the message is kept for an operator
        if isinstance(exc, OperationalError):
            raise  # the database is unreachable: a 5xx, and the provider's retry processes the stored message
        log.exception("dialogue failed on message %s", inbound_id)
        replies = _fallback_reply(factory, incoming)
        with factory() as session:
            if _locked_if_unprocessed(session, inbound_id) is None:  # a retry processed it in the meantime
                return _stored_replies(session, inbound_id) if replies_of_duplicate else []
            _record_replies(session, inbound_id, replies, status=MessageStatus.FAILED, error=repr(exc))
            session.commit()
        return replies


def _record_replies(
    session: Session,
    inbound_id: int,
    replies: list[Reply],
    *,
    status: MessageStatus,
    error: str | None = None,
) -> None:
    inbound = session.get_one(Message, inbound_id)
    inbound.status = status
    inbound.error = error
    for reply in replies:
        # The channel gives these back in its answer (TwiML, the terminal): stored as answered, never queued,
        # so nothing that sends queued messages sends them a second time.
        session.add(
            Message(
                channel=inbound.channel,
                direction=Direction.OUTBOUND,
                contact_id=inbound.contact_id,
                in_reply_to_id=inbound_id,
                body=render_plain(reply),
                status=MessageStatus.ANSWERED_INLINE,
            )
        )


def render_plain(reply: Reply) -> str:
    """Render a reply with its choices as plain numbered lines (SMS, terminal, the stored copy)."""
    if not reply.choices:
        return reply.text
    lines = [reply.text] + [f"{c.key} {c.label}" for c in reply.choices]
    return "\n".join(lines)
