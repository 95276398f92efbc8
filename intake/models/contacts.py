"""Who talks to reunite, on which channel, and every message in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from intake.models._common import (
    NOT_PERSONAL,
    Channel,
    Direction,
    MessageStatus,
    TZDateTime,
    enum_column,
    foreign_key,
    personal,
    utcnow,
)
from intake.platform.db import Base

# Adapters check what they are sent against these before the database does (PostgreSQL refuses longer values).
MAX_ADDRESS_CHARS = 64
MAX_PROVIDER_ID_CHARS = 64


class Contact(Base):
    """One address on one channel (a phone number, a Telegram chat), with its language and opt-out."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), info=NOT_PERSONAL)
    address: Mapped[str] = mapped_column(
        String(MAX_ADDRESS_CHARS),
        index=True,  # the console finds a case by phone
        info=personal(kept="the channel answers to it, and STOP and retried deliveries are recognised by it"),
    )
    language: Mapped[str] = mapped_column(String(8), default="zh_CN", info=NOT_PERSONAL)
    language_chosen: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    opted_out: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    opted_out_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)

    conversation: Mapped[Conversation | None] = relationship(back_populates="contact", uselist=False)


def contact_for(session: Session, channel: Channel, address: str) -> Contact:
    """Return the contact of `address` on `channel`, creating it (once, even for two first messages at once)."""
    query = sa.select(Contact).where(Contact.channel == channel, Contact.address == address)
    contact = session.scalars(query).first()
    if contact is not None:
        return contact
    try:  # two first messages at once: the second finds the contact the first created
        with session.begin_nested():
            contact = Contact(channel=channel, address=address)
            session.add(contact)
        return contact
    except IntegrityError:
        return session.scalars(query).one()


class Conversation(Base):
    """Where a contact is in a dialogue; kept in the database so a reply hours later continues."""

    __tablename__ = "conversations"

    contact_id: Mapped[int] = foreign_key("contacts.id", "CASCADE", primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(32), info=NOT_PERSONAL)
    step: Mapped[str | None] = mapped_column(String(48), info=NOT_PERSONAL)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict, info=personal({}))  # answers not yet confirmed
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, info=NOT_PERSONAL
    )

    contact: Mapped[Contact] = relationship(back_populates="conversation")


class Message(Base):
    """One inbound or outbound message, stored before it is acknowledged or sent."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), info=NOT_PERSONAL)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction), info=NOT_PERSONAL)
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    provider_id: Mapped[str | None] = mapped_column(String(MAX_PROVIDER_ID_CHARS), info=NOT_PERSONAL)
    in_reply_to_id: Mapped[int | None] = foreign_key("messages.id", "SET NULL")
    body: Mapped[str] = mapped_column(Text, default="", info=personal(""))
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.RECEIVED, info=NOT_PERSONAL
    )
    error: Mapped[str | None] = mapped_column(Text, info=personal())  # a traceback may quote the message
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
