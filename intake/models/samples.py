"""DNA samples: a printable code, which of the five sources it comes from, and where it is in the lab."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base
from intake.models._common import NOT_PERSONAL, SampleSource, SampleStatus, TZDateTime, enum_column, utcnow


class Sample(Base):
    """One biological sample, linked to its person, case and booking."""

    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(String(16), unique=True, info=NOT_PERSONAL)
    source: Mapped[SampleSource] = mapped_column(enum_column(SampleSource), info=NOT_PERSONAL)
    status: Mapped[SampleStatus] = mapped_column(
        enum_column(SampleStatus), default=SampleStatus.AWAITING_COLLECTION, info=NOT_PERSONAL
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, info=NOT_PERSONAL
    )
