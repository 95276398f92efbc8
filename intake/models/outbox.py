"""The transactional outbox: every message the service sends on its own (not as an inline reply) is a row here.

A notification is written in the same transaction as the event that causes it, so it exists exactly when the
event does; the notification worker (`reunite worker`, the `notifications` adapter) sends it and records what the
provider said. `idempotency_key` is unique, so one event never queues two messages, and it is passed to the
provider where the provider can refuse a second copy.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, enum_column, foreign_key, personal, utcnow
from intake.platform.db import Base

MAX_IDEMPOTENCY_KEY_CHARS = 128
MAX_EMAIL_CHARS = 254
MAX_NOTIFICATION_PROVIDER_ID_CHARS = 64  # a Twilio SID, a Telegram message id, an e-mail Message-ID


class NotificationChannel(enum.StrEnum):
    """How a notification travels: the families' channels, and e-mail for officers."""

    SMS = "sms"
    TELEGRAM = "telegram"
    EMAIL = "email"


class NotificationStatus(enum.StrEnum):
    """Where a notification is. `pending` waits for a worker, `sending` is claimed by one (or was, when it died
    before it could record the outcome); `sent` means the provider accepted it; the rest are final."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    CANCELLED = "cancelled"


class Audience(enum.StrEnum):
    FAMILY = "family"
    OFFICER = "officer"


class Notification(Base):
    """One message to one recipient, queued with the event that causes it and sent by the worker."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    idempotency_key: Mapped[str] = mapped_column(
        String(MAX_IDEMPOTENCY_KEY_CHARS), unique=True, info=NOT_PERSONAL
    )  # built from ids and event names only, e.g. "sample:12:received"
    audience: Mapped[Audience] = mapped_column(enum_column(Audience), info=NOT_PERSONAL)
    channel: Mapped[NotificationChannel] = mapped_column(enum_column(NotificationChannel), info=NOT_PERSONAL)
    # A family's message goes to a contact (whose address, opt-out and language are read at send time);
    # an officer's goes to the address their account chose.
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    address: Mapped[str | None] = mapped_column(String(MAX_EMAIL_CHARS), info=personal())
    case_id: Mapped[int | None] = foreign_key("cases.id", "SET NULL", index=True)
    template: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    # Names, places, dates and codes the template shows; never genetic data (intake.outbox checks the keys).
    params: Mapped[dict[str, Any]] = mapped_column(default=dict, info=personal({}))
    language: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING, info=NOT_PERSONAL
    )
    provider_status: Mapped[str | None] = mapped_column(String(32), info=NOT_PERSONAL)  # as the provider said
    attempts: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    # Attempts whose outcome no one recorded (the worker died mid-send) and that another worker took over: the
    # recipient may have a second copy where the provider does not deduplicate on the key. Counted, so it is seen.
    uncertain_attempts: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    claimed_until: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    # Set just before the worker calls the provider, cleared with the outcome: a row taken over with it set may
    # be with the provider already; one without it was only waiting in a dead worker's batch.
    send_started_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    provider_id: Mapped[str | None] = mapped_column(
        String(MAX_NOTIFICATION_PROVIDER_ID_CHARS), index=True, info=NOT_PERSONAL
    )
    error_code: Mapped[str | None] = mapped_column(String(32), info=NOT_PERSONAL)
    last_error: Mapped[str | None] = mapped_column(Text, info=personal())  # a provider may quote the address
    fallback_of_id: Mapped[int | None] = foreign_key("notifications.id", "SET NULL")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
