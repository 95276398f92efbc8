"""Sampling appointments: book, reschedule and cancel, never overbooking a lab day.

A place is taken by one guarded statement, `UPDATE lab_days SET booked = booked + 1 WHERE id = :id AND
booked < capacity`, and the booking exists only if that statement changed a row. The database serialises the
updates of one row, so however many people book the last place at once, exactly one gets it.
Callers own the transaction: these functions flush but never commit (a sample-code collision is retried in a
savepoint). A case has at most one active appointment per person (and one without a person): booking again
raises ConflictError, and partial unique indexes on `bookings` make the database refuse it too, whatever the
concurrency; move an appointment with `reschedule`. A booking writes its sample's first custody event
(`booked`, at the lab), and a move to another lab writes another. Booking and rescheduling need every consent that
`intake.cases.consent` checks for the person whose sample it is (their own answers, not another family member's).
`today` defaults to the current date in China.

    book(session, *, case, lab_id, day, source, actor, person=None, contact=None, today=None, sample=None) -> Booking
    reschedule(session, booking, *, lab_id, day, actor, today=None) -> Booking
    cancel(session, booking, *, actor) -> None
    active_booking(session, case) -> Booking | None
    booking_summary(session, booking, lang="zh_CN") -> BookingSummary
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.cases.consent import has_sample_consent, require_sample_consent
from intake.labs.slots import china_today, free_place, take_place
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Contact,
    CustodyEventType,
    Lab,
    LabDay,
    Person,
    Sample,
    SampleSource,
    SampleStatus,
    audit,
    utcnow,
)
from intake.platform.codes import insert_with_unique_code, new_sample_code
from intake.platform.errors import ConflictError
from intake.samples.custody import append_event, record_booked
from intake.samples.fit import sex_of_role


@dataclass(frozen=True)
class BookingSummary:
    """What a person needs to attend: where, when, and the code to show."""

    lab_id: int
    lab_name: str
    address: str
    phone: str | None
    day: date
    opening_hours: str
    sample_code: str | None
    is_demo: bool  # so a channel can warn that a demo lab is not a real place to go


def has_sampling_consent(session: Session, case: Case, person: Person | int | None = None) -> bool:
    """Tell whether the person's sample may be booked in the case: every consent intake.cases.consent checks."""
    return has_sample_consent(session, case, person)


def _lock_active(session: Session, booking: Booking) -> None:
    # Re-read the booking under a row lock, so two simultaneous cancels or moves cannot both free its place.
    session.refresh(booking, with_for_update=True)
    if booking.status != BookingStatus.BOOKED:
        raise ConflictError("This appointment is not active.")


def active_booking(session: Session, case: Case) -> Booking | None:
    """Return the case's current (booked, not cancelled) appointment, if any."""
    return session.scalars(
        sa.select(Booking)
        .where(Booking.case_id == case.id, Booking.status == BookingStatus.BOOKED)
        .order_by(Booking.id.desc())
    ).first()


def _active_of_person(session: Session, case: Case, person_id: int | None) -> Booking | None:
    person = Booking.person_id.is_(None) if person_id is None else Booking.person_id == person_id
    query = sa.select(Booking).where(
        Booking.case_id == case.id, person, Booking.status == BookingStatus.BOOKED
    )
    return session.scalars(query).first()


def _already_booked() -> ConflictError:
    return ConflictError("This case already has an appointment; reschedule or cancel it instead.")


def sample_for(session: Session, booking: Booking) -> Sample | None:
    """Return the sample created with `booking`."""
    return session.scalars(sa.select(Sample).where(Sample.booking_id == booking.id)).first()


def book(
    session: Session,
    *,
    case: Case,
    lab_id: int,
    day: date,
    source: SampleSource,
    actor: str,
    person: Person | None = None,
    contact: Contact | None = None,
    today: date | None = None,
    horizon_days: int | None = None,
    sample: Sample | None = None,
) -> Booking:
    """Book a sampling appointment and create its sample with a new code; consent must be on record.

    `sample`: a sample the case has already (a found child's, coded when registered) is booked instead.
    """
    require_sample_consent(session, case, person)
    if sample is not None and (sample.case_id != case.id or sample.booking_id is not None):
        raise ConflictError("This sample is not an unbooked sample of the case.")
    # Lock the case row so two simultaneous requests of one family cannot both pass the check below
    # (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers).
    session.execute(sa.select(Case.id).where(Case.id == case.id).with_for_update())
    person_id = person.id if person else None
    if _active_of_person(session, case, person_id) is not None:
        raise _already_booked()
    try:
        with session.begin_nested():  # a refused booking leaves the lab day's count as it was
            lab_day = take_place(
                session, lab_id, day, today=today or china_today(), horizon_days=horizon_days
            )
            booking = Booking(
                lab_day_id=lab_day.id,
                case_id=case.id,
                person_id=person_id,
                contact_id=contact.id if contact else None,
            )
            session.add(booking)
            session.flush()
    except IntegrityError as exc:  # the partial unique indexes on bookings have the last word
        raise _already_booked() from exc
    if sample is None:
        sample = _new_sample(session, case, person, booking, source)
    else:
        sample.booking_id = booking.id
        session.flush()
    record_booked(session, sample, at=booking.created_at, actor=actor)  # custody starts with the booking
    case.status = CaseStatus.SAMPLING_BOOKED
    audit(session, actor, "booking.create", "booking", booking.id, lab_day=lab_day.id, sample=sample.code)
    return booking


def _new_sample(
    session: Session, case: Case, person: Person | None, booking: Booking, source: SampleSource
) -> Sample:
    return insert_with_unique_code(
        session,
        lambda: Sample(
            code=new_sample_code(), source=source, case_id=case.id, person_id=person.id if person else None,
            booking_id=booking.id, sex=sex_of_role(person.role if person else None),  # a mother is female
        ),
    )  # fmt: skip


def cancel(session: Session, booking: Booking, *, actor: str) -> None:
    """Cancel an appointment: free its place and cancel its sample."""
    _lock_active(session, booking)
    free_place(session, booking.lab_day_id)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utcnow()
    sample = sample_for(session, booking)
    if sample is not None and sample.status == SampleStatus.AWAITING_COLLECTION:
        sample.status = SampleStatus.CANCELLED
    case = session.get_one(Case, booking.case_id)
    if active_booking(session, case) is None and case.status == CaseStatus.SAMPLING_BOOKED:
        case.status = CaseStatus.OPEN
    audit(session, actor, "booking.cancel", "booking", booking.id)


def reschedule(
    session: Session,
    booking: Booking,
    *,
    lab_id: int,
    day: date,
    actor: str,
    today: date | None = None,
    horizon_days: int | None = None,
) -> Booking:
    """Move an appointment: take the new place first, then free the old; the sample keeps its code."""
    _lock_active(session, booking)
    require_sample_consent(session, session.get_one(Case, booking.case_id), booking.person_id)
    old = session.get_one(LabDay, booking.lab_day_id)  # moved from only once the new place is taken
    if (old.lab_id, old.day) == (lab_id, day):
        return booking  # moving to the same place would need a free place it already holds
    new_day = take_place(
        session, lab_id, day, today=today or china_today(), horizon_days=horizon_days, moving_from=old.id
    )
    booking.lab_day_id = new_day.id
    session.flush()
    session.expire(booking, ["lab_day"])
    if new_day.lab_id != old.lab_id and (sample := sample_for(session, booking)) is not None:
        # Custody says which lab expects the sample: booked again, at the new lab.
        append_event(session, sample, CustodyEventType.BOOKED, actor=actor, lab_id=new_day.lab_id)
    audit(
        session,
        actor,
        "booking.reschedule",
        "booking",
        booking.id,
        old_lab_day=old.id,
        new_lab_day=new_day.id,
    )
    return booking


def booking_summary(session: Session, booking: Booking, lang: str = "zh_CN") -> BookingSummary:
    """Return what the person needs to attend the appointment, with lab names in `lang` where known."""
    lab_day = session.get_one(LabDay, booking.lab_day_id)
    lab = session.get_one(Lab, lab_day.lab_id)
    sample = sample_for(session, booking)
    return BookingSummary(
        lab_id=lab.id, lab_name=lab.name_in(lang), address=lab.address_in(lang), phone=lab.phone, day=lab_day.day,
        opening_hours=lab.opening_hours, sample_code=sample.code if sample else None, is_demo=lab.is_demo,
    )  # fmt: skip
