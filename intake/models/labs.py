"""Sampling labs, their bookable days, and the bookings on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base
from intake.models._common import BookingStatus, TZDateTime, enum_column, utcnow


class Lab(Base):
    """A police DNA lab that takes samples, from the directory the operator imports."""

    __tablename__ = "labs"
    __table_args__ = (UniqueConstraint("name", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(64), index=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(200))
    province_en: Mapped[str | None] = mapped_column(String(64))
    city_en: Mapped[str | None] = mapped_column(String(64))
    address_en: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    opening_days: Mapped[str] = mapped_column(String(32))  # ISO weekdays, e.g. "1,2,3,4,5"
    opening_hours: Mapped[str] = mapped_column(String(32))  # e.g. "09:00-17:00"
    daily_capacity: Mapped[int]
    is_demo: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class LabDay(Base):
    """One bookable day at a lab. `booked` is only ever raised by a guarded UPDATE, so it never passes capacity."""

    __tablename__ = "lab_days"
    __table_args__ = (
        UniqueConstraint("lab_id", "day"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)

    lab: Mapped[Lab] = relationship()


class Booking(Base):
    """A sampling appointment for one person of a case on one lab day."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_day_id: Mapped[int] = mapped_column(ForeignKey("lab_days.id", ondelete="RESTRICT"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus), default=BookingStatus.BOOKED)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    lab_day: Mapped[LabDay] = relationship()
