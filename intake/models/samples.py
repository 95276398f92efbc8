"""DNA samples: a printable code, which of the five sources it comes from, and where it is in the lab."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import (
    NOT_PERSONAL,
    SampleSource,
    SampleStatus,
    Sex,
    TZDateTime,
    enum_column,
    foreign_key,
    utcnow,
)
from intake.platform.db import Base


class Sample(Base):
    """One biological sample of one person in one role of one case, linked to its booking.

    A walk-in sample taken at a lab has no case or person until the person links it with its link code;
    `lab_id` is the lab that took it (walk-ins, found children), `sex` the sex recorded when it was taken.
    """

    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(String(16), unique=True, info=NOT_PERSONAL)
    source: Mapped[SampleSource] = mapped_column(enum_column(SampleSource), info=NOT_PERSONAL)
    status: Mapped[SampleStatus] = mapped_column(
        enum_column(SampleStatus), default=SampleStatus.AWAITING_COLLECTION, info=NOT_PERSONAL
    )
    case_id: Mapped[int | None] = foreign_key("cases.id", "CASCADE", index=True)
    person_id: Mapped[int | None] = foreign_key("persons.id", "CASCADE", index=True)
    booking_id: Mapped[int | None] = foreign_key("bookings.id", "SET NULL")
    lab_id: Mapped[int | None] = foreign_key("labs.id", "RESTRICT", index=True)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex), default=Sex.UNKNOWN, info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, info=NOT_PERSONAL
    )
