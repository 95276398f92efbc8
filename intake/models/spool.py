"""The spool of inbound deliveries: what a webhook accepted and no dialogue worker has processed yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, Channel, TZDateTime, enum_column, personal, utcnow
from intake.models.contacts import MAX_ADDRESS_CHARS, MAX_PROVIDER_ID_CHARS
from intake.platform.db import Base


class Delivery(Base):
    """One accepted inbound delivery, stored by the webhook in one statement and deleted by the dialogue worker
    in the transaction that ends its processing (the message and its replies are in `messages` by then).

    Unique on (channel, provider id), so a provider's retry of a delivery still waiting is stored once; the id
    gives the order of arrival, and a contact's deliveries are processed in that order (intake/inbound/spool.py).

    A delivery whose processing fails is tried again at `next_attempt_at` (backoff), at most `MAX_ATTEMPTS`
    times in all; then it is given up (`failed_at`, `error`): the person is sent the apology once, and the row
    stays for an operator (counted on /healthz) without holding back the contact's later deliveries.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        Index("ix_deliveries_channel_address_id", "channel", "address", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), info=NOT_PERSONAL)
    provider_id: Mapped[str] = mapped_column(String(MAX_PROVIDER_ID_CHARS), info=NOT_PERSONAL)
    # the sender (a phone number, a Telegram chat id): a contact's deliveries are taken in order by it
    address: Mapped[str] = mapped_column(
        String(MAX_ADDRESS_CHARS), info=personal(kept="deleted within seconds, once processed")
    )
    # what the channel needs to process it: an SMS's text and media, a Telegram update as sent
    payload: Mapped[dict[str, Any]] = mapped_column(
        info=personal(kept="deleted within seconds, once processed")
    )
    received_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    # failed processings so far; the next is not tried before next_attempt_at (None: at once)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0", info=NOT_PERSONAL)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    # set when the delivery was given up: never tried again, and no longer ahead of its contact's later ones
    failed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    # the last failure (exception type and message; a message may quote what the person wrote)
    error: Mapped[str | None] = mapped_column(Text, info=personal(kept="deleted with the delivery"))
