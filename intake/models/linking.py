"""Link codes that let a person sampled as a walk-in attach the sample to their case, and every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base
from intake.models._common import Role, TZDateTime, enum_column, utcnow


class LinkCode(Base):
    """The one-time link code of a walk-in sample, stored as a hash, with the role the lab recorded."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    failed_attempts: Mapped[int] = mapped_column(default=0)  # wrong PINs given with this code
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    used_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))


class LinkAttempt(Base):
    """One LINK attempt, right or wrong; counted to lock out guessing per contact and in total."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    link_code_id: Mapped[int | None] = mapped_column(ForeignKey("link_codes.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(24))
