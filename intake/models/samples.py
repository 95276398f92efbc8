"""DNA samples: a printable code, which of the five sources it comes from, and where it is in the lab."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base
from intake.models._common import SampleSource, SampleStatus, Sex, TZDateTime, enum_column, utcnow


class Sample(Base):
    """One biological sample of one person in one role of one case, linked to its booking.

    A walk-in sample taken at a lab has no case or person until the person links it with its link code;
    `lab_id` is the lab that took it (walk-ins, found children), `sex` the sex recorded when it was taken.
    """

    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    source: Mapped[SampleSource] = mapped_column(enum_column(SampleSource))
    status: Mapped[SampleStatus] = mapped_column(
        enum_column(SampleStatus), default=SampleStatus.AWAITING_COLLECTION
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id", ondelete="RESTRICT"), index=True)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex), default=Sex.UNKNOWN)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)
