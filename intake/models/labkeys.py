"""API keys of labs: stored only as a hash, named, with creation and revocation times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, foreign_key, utcnow
from intake.platform.db import Base


class LabKey(Base):
    """One API key; it acts for its own lab only."""

    __tablename__ = "lab_keys"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    lab_id: Mapped[int] = foreign_key("labs.id", "CASCADE", index=True)
    name: Mapped[str] = mapped_column(String(120), info=NOT_PERSONAL)
    key_hash: Mapped[str] = mapped_column(
        String(64), unique=True, info=NOT_PERSONAL
    )  # SHA-256 of a 256-bit random key
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    # A key stops working at this time, so a key forgotten in an old lab system does not stay live for ever.
    expires_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
