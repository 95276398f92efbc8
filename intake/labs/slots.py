"""Bookable lab days and their place counters: created lazily, taken and freed by guarded single-row UPDATEs.

A place is taken by `UPDATE lab_days SET booked = booked + 1 WHERE id = :id AND booked < capacity`, and it is
taken only if that statement changed a row. The database serialises updates of one row (PostgreSQL re-checks the
WHERE clause after waiting for the row lock; SQLite has one writer at a time), so a day is never overbooked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from intake.models import Lab, LabDay
from intake.platform.clock import today_in_china
from intake.platform.errors import InputError, NotFoundError, SlotFullError

# Where a session carries the configured booking horizon (REUNITE_BOOKING_HORIZON_DAYS); the runtime's session
# factory puts it there, so every caller that has a session books within the same horizon.
HORIZON_INFO_KEY = "booking_horizon_days"
DEFAULT_HORIZON_DAYS = 14


@dataclass(frozen=True)
class DayAvailability:
    """One bookable day at a lab and how many places are left."""

    day: date
    free: int


def china_today() -> date:
    """Return today's date in China, where every lab is (the server may run in another zone)."""
    return today_in_china()


def horizon_of(session: Session) -> int:
    """Return how many days ahead appointments can be booked, as configured for this session's runtime."""
    return int(session.info.get(HORIZON_INFO_KEY, DEFAULT_HORIZON_DAYS))


def bookable_days(lab: Lab, *, today: date, horizon_days: int) -> list[date]:
    """Return the lab's opening days from tomorrow up to `horizon_days` ahead (none for a retired lab)."""
    if not lab.active:
        return []
    open_weekdays = {int(d) for d in lab.opening_days.split(",")}
    candidates = (today + timedelta(days=n) for n in range(1, horizon_days + 1))
    return [d for d in candidates if d.isoweekday() in open_weekdays]


def ensure_lab_days(session: Session, lab: Lab, days: list[date]) -> None:
    """Create the LabDay rows that do not exist yet; safe when several requests do it at once."""
    if not days:
        return
    rows = [{"lab_id": lab.id, "day": d, "capacity": lab.daily_capacity, "booked": 0} for d in days]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LabDay).values(rows).on_conflict_do_nothing(index_elements=["lab_id", "day"]))


def free_days(
    session: Session, lab: Lab, *, today: date, horizon_days: int | None = None, count: int = 3
) -> list[DayAvailability]:
    """Return the lab's next `count` bookable days that still have free places (default horizon: the session's)."""
    days = bookable_days(lab, today=today, horizon_days=horizon_days or horizon_of(session))
    ensure_lab_days(session, lab, days)
    rows = session.execute(
        sa.select(LabDay.day, LabDay.capacity - LabDay.booked)
        .where(LabDay.lab_id == lab.id, LabDay.day.in_(days), LabDay.booked < LabDay.capacity)
        .order_by(LabDay.day)
        .limit(count)
    ).all()
    return [DayAvailability(day, int(free)) for day, free in rows]


def take_place(
    session: Session,
    lab_id: int,
    day: date,
    *,
    today: date,
    horizon_days: int | None = None,
    moving_from: int | None = None,
) -> LabDay:
    """Take one place on the lab's `day`, or raise SlotFullError; the guarded UPDATE makes this safe at once.

    With `moving_from` (a lab day id) the place there is given back once the new one is taken. The day must be
    within `horizon_days` (default: the session's configured horizon).
    """
    lab = session.get(Lab, lab_id)
    if lab is None or not lab.active:
        raise NotFoundError("That lab is not in the directory.")
    horizon = horizon_days or horizon_of(session)
    if day > today + timedelta(days=horizon):
        raise InputError("Appointments can be booked up to %(days)s days ahead.", days=horizon)
    if day not in bookable_days(lab, today=today, horizon_days=horizon):
        raise InputError("The lab does not take samples on %(day)s.", day=day.isoformat())
    ensure_lab_days(session, lab, [day])
    lab_day = session.scalars(sa.select(LabDay).where(LabDay.lab_id == lab_id, LabDay.day == day)).one()
    if moving_from is not None:
        # Lock both days in id order: two people swapping days in opposite directions would otherwise deadlock.
        ids = sorted({lab_day.id, moving_from})
        session.execute(sa.select(LabDay.id).where(LabDay.id.in_(ids)).order_by(LabDay.id).with_for_update())
    taken = session.execute(
        sa.update(LabDay)
        .where(LabDay.id == lab_day.id, LabDay.booked < LabDay.capacity)
        .values(booked=LabDay.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotFullError("%(day)s is fully booked at this lab.", day=day.isoformat())
    if moving_from is not None:
        free_place(session, moving_from)
    session.refresh(lab_day)
    return lab_day


def free_place(session: Session, lab_day_id: int) -> None:
    """Give one place of a lab day back (never below zero)."""
    session.execute(
        sa.update(LabDay)
        .where(LabDay.id == lab_day_id, LabDay.booked > 0)
        .values(booked=LabDay.booked - 1)
        .execution_options(synchronize_session=False)
    )
