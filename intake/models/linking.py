"""Link codes that let a person sampled as a walk-in attach the sample to their case, and every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, Role, TZDateTime, enum_column, foreign_key, utcnow
from intake.platform.db import Base


class LinkCode(Base):
    """The one-time link code of a walk-in sample, stored as a hash, with the role the lab recorded."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    sample_id: Mapped[int] = foreign_key("samples.id", "CASCADE", unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, info=NOT_PERSONAL)
    role: Mapped[Role] = mapped_column(enum_column(Role), info=NOT_PERSONAL)
    failed_attempts: Mapped[int] = mapped_column(
        default=0, info=NOT_PERSONAL
    )  # wrong PINs given with this code
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    used_by_contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL")


class LinkAttempt(Base):
    """One attempt at a secret (LINK code, JOIN's or DELETE's case PIN), right or wrong; failures are counted to
    lock out guessing per contact, per case and in total (`intake.cases.pins.guessing_locked`)."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True, info=NOT_PERSONAL)
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    link_code_id: Mapped[int | None] = foreign_key("link_codes.id", "SET NULL")
    outcome: Mapped[str] = mapped_column(String(24), info=NOT_PERSONAL)
    # The case whose PIN was tried (JOIN with a known reference, DELETE): wrong PINs are also counted per case.
    case_id: Mapped[int | None] = foreign_key("cases.id", "SET NULL", index=True)
