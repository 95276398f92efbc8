"""Every channel's inbound path: store the message, run the dialogue once, store and return the replies.

A delivery is stored and committed before any work is done, keyed by (channel, provider id) with a unique
constraint, so a retried or simultaneous duplicate delivery gets the first delivery's replies and changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake import clock
from intake.dialogue.types import Incoming, Reply
from intake.models import Channel, Contact, Direction, Message

log = logging.getLogger(__name__)

Handler = Callable[[Session, Incoming, datetime], list[Reply]]
RECEIVED, REPLIED, FAILED = "received", "replied", "failed"


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


def store_inbound(session: Session, incoming: Incoming) -> Message:
    """Add the inbound message to the session (the caller commits before doing anything else)."""
    message = Message(
        channel=incoming.channel,
        direction=Direction.INBOUND,
        provider_id=incoming.provider_id,
        body=incoming.text,
        status=RECEIVED,
        created_at=incoming.received_at,
    )
    session.add(message)
    return message


def _wait_for_first_delivery(
    factory: sessionmaker[Session], channel: Channel, provider_id: str, wait_s: float
) -> list[Reply]:
    deadline = time.monotonic() + wait_s
    while True:
        with factory() as session:
            first = session.scalars(
                sa.select(Message).where(Message.channel == channel, Message.provider_id == provider_id)
            ).one()
            if first.status != RECEIVED or time.monotonic() >= deadline:
                return _stored_replies(session, first.id)
        time.sleep(0.05)


def process(
    factory: sessionmaker[Session],
    incoming: Incoming,
    *,
    handler: Handler | None = None,
    now: datetime | None = None,
    duplicate_wait_s: float = 5.0,
) -> list[Reply]:
    """Store `incoming`, run the dialogue on it and return the replies (stored too) for the channel to send."""
    now = now or clock.now()
    handler = handler or _default_handler
    with factory() as session:
        inbound = store_inbound(session, incoming)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            assert incoming.provider_id is not None  # only provider ids are unique
            log.info("duplicate delivery %s on %s", incoming.provider_id, incoming.channel)
            return _wait_for_first_delivery(factory, incoming.channel, incoming.provider_id, duplicate_wait_s)
        inbound_id = inbound.id

    try:
        with factory() as session:
            replies = handler(session, incoming, now)
            _record_replies(session, inbound_id, incoming, replies, status=REPLIED)
            session.commit()
            return replies
    except Exception as exc:  # the person still gets an answer; the message is kept for an operator
        log.exception("dialogue failed on message %s", inbound_id)
        replies = _fallback_reply(factory, incoming)
        with factory() as session:
            _record_replies(session, inbound_id, incoming, replies, status=FAILED, error=repr(exc))
            session.commit()
        return replies


def _record_replies(
    session: Session,
    inbound_id: int,
    incoming: Incoming,
    replies: list[Reply],
    *,
    status: str,
    error: str | None = None,
) -> None:
    contact_id = session.scalars(
        sa.select(Contact.id).where(Contact.channel == incoming.channel, Contact.address == incoming.address)
    ).first()
    inbound = session.get_one(Message, inbound_id)
    inbound.status = status
    inbound.error = error
    inbound.contact_id = contact_id
    for reply in replies:
        session.add(
            Message(
                channel=incoming.channel,
                direction=Direction.OUTBOUND,
                contact_id=contact_id,
                in_reply_to_id=inbound_id,
                body=render_plain(reply),
                status="queued",
            )
        )


def render_plain(reply: Reply) -> str:
    """Render a reply with its choices as plain numbered lines (SMS, terminal, the stored copy)."""
    if not reply.choices:
        return reply.text
    lines = [reply.text] + [f"{c.key} {c.label}" for c in reply.choices]
    return "\n".join(lines)
