"""Photos and other media sent with a message (MMS, Telegram), and the case they belong to.

A row holds the provider's reference (URL and content type), stored with the message in its first commit; the
file itself is downloaded with the account's credentials later (`intake.inbound.media`: a retryable job the
worker runs; Telegram's are downloaded at once), checked and kept without metadata by `intake.platform.photos`, and its
id recorded in `photo_id`. A report links its media to the case it creates.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.models._common import NOT_PERSONAL, Channel, TZDateTime, foreign_key, personal
from intake.models.contacts import Message
from intake.platform.db import Base

MAX_CONTENT_TYPE_CHARS = 100
PHOTO_ID_CHARS = 32
MAX_FETCH_ERROR_CHARS = 200


class Attachment(Base):
    """One media reference of one message, and the case it was sent for (once that case exists)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    message_id: Mapped[int] = foreign_key("messages.id", "CASCADE", index=True)
    case_id: Mapped[int | None] = foreign_key("cases.id", "CASCADE", index=True)
    position: Mapped[int] = mapped_column(info=NOT_PERSONAL)  # MediaUrl0, MediaUrl1, ...
    url: Mapped[str | None] = mapped_column(Text, info=personal())  # a photo of the child, most likely
    content_type: Mapped[str] = mapped_column(String(MAX_CONTENT_TYPE_CHARS), info=NOT_PERSONAL)
    # The photo as reunite keeps it (intake.platform.photos: under the data folder, metadata stripped), once downloaded.
    photo_id: Mapped[str | None] = mapped_column(String(PHOTO_ID_CHARS), info=personal())
    # Still to be downloaded (a provider URL, MMS): due from this time; None once kept or given up.
    fetch_after: Mapped[datetime | None] = mapped_column(TZDateTime(), index=True, info=NOT_PERSONAL)
    fetch_attempts: Mapped[int] = mapped_column(default=0, server_default="0", info=NOT_PERSONAL)
    # Why the last download failed (never the URL): retried while fetch_after is set, else given up.
    fetch_error: Mapped[str | None] = mapped_column(String(MAX_FETCH_ERROR_CHARS), info=NOT_PERSONAL)


def attachments_of(session: Session, channel: Channel, provider_id: str | None) -> list[int]:
    """Return the ids of the attachments stored with the message `provider_id` of `channel`, in order."""
    if provider_id is None:
        return []
    query = (
        sa.select(Attachment.id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.channel == channel, Message.provider_id == provider_id)
        .order_by(Attachment.position)
    )
    return list(session.scalars(query))


def attach_to_case(session: Session, attachment_ids: list[int], case_id: int) -> None:
    """Link attachments sent during a report to the case the report created."""
    if attachment_ids:
        session.execute(
            sa.update(Attachment).where(Attachment.id.in_(attachment_ids)).values(case_id=case_id)
        )
