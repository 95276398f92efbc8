"""Sampling labs, their bookable days, and the bookings on them."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.models._common import NOT_PERSONAL, BookingStatus, TZDateTime, enum_column, foreign_key, utcnow
from intake.platform.db import Base
from intake.platform.i18n import ENGLISH, normalise_language


class Lab(Base):
    """A police DNA lab that takes samples, from the directory the operator imports."""

    __tablename__ = "labs"
    __table_args__ = (UniqueConstraint("name", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    province: Mapped[str] = mapped_column(String(64), index=True, info=NOT_PERSONAL)
    city: Mapped[str] = mapped_column(String(64), index=True, info=NOT_PERSONAL)
    address: Mapped[str] = mapped_column(String(300), info=NOT_PERSONAL)
    name_en: Mapped[str | None] = mapped_column(String(200), info=NOT_PERSONAL)
    province_en: Mapped[str | None] = mapped_column(String(64), info=NOT_PERSONAL)
    city_en: Mapped[str | None] = mapped_column(String(64), info=NOT_PERSONAL)
    address_en: Mapped[str | None] = mapped_column(String(300), info=NOT_PERSONAL)
    latitude: Mapped[float | None] = mapped_column(info=NOT_PERSONAL)
    longitude: Mapped[float | None] = mapped_column(info=NOT_PERSONAL)
    phone: Mapped[str | None] = mapped_column(String(40), info=NOT_PERSONAL)
    opening_days: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)  # ISO weekdays, e.g. "1,2,3,4,5"
    opening_hours: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)  # e.g. "09:00-17:00"
    daily_capacity: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    is_demo: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    active: Mapped[bool] = mapped_column(default=True, info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)

    def name_in(self, language: str) -> str:
        """The lab's name in the reader's language: English where the directory gives one, else Chinese."""
        return self.name_en if normalise_language(language) == ENGLISH and self.name_en else self.name

    def address_in(self, language: str) -> str:
        """The lab's address as the reader writes one: "street, city" in English, "城市街道" in Chinese."""
        if normalise_language(language) == ENGLISH and self.name_en:
            return f"{self.address_en or self.address}, {self.city_en or self.city}"
        return f"{self.city}{self.address}"


class LabDay(Base):
    """One bookable day at a lab. `booked` is only ever raised by a guarded UPDATE, so it never passes capacity."""

    __tablename__ = "lab_days"
    __table_args__ = (
        UniqueConstraint("lab_id", "day"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    lab_id: Mapped[int] = foreign_key("labs.id", "CASCADE", index=True)
    day: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    capacity: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    booked: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)

    lab: Mapped[Lab] = relationship()


_ACTIVE = "status = 'booked'"


class Booking(Base):
    """A sampling appointment for one person of a case on one lab day.

    The database has the last word on "one active appointment": at most one active booking per (case, person),
    and at most one per case without a person. A booking without a person is the case's family appointment, as
    the SMS dialogue books it today; the bookings of named persons (both parents of a case, each their own
    appointment) are unique per person. Two partial unique indexes say so on SQLite and PostgreSQL alike, since
    NULLs never collide in a unique index.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_active_case_person",
            "case_id",
            "person_id",
            unique=True,
            sqlite_where=sa.text(_ACTIVE),
            postgresql_where=sa.text(_ACTIVE),
        ),
        Index(
            "uq_bookings_active_case_without_person",
            "case_id",
            unique=True,
            sqlite_where=sa.text(f"{_ACTIVE} AND person_id IS NULL"),
            postgresql_where=sa.text(f"{_ACTIVE} AND person_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    lab_day_id: Mapped[int] = foreign_key("lab_days.id", "RESTRICT", index=True)
    case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", index=True)
    person_id: Mapped[int | None] = foreign_key("persons.id", "CASCADE")
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL")
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus), default=BookingStatus.BOOKED, info=NOT_PERSONAL
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    cancelled_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)

    lab_day: Mapped[LabDay] = relationship()
