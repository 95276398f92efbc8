"""Booking, rescheduling and cancelling sampling appointments, and the last places under concurrency."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from intake.booking import active_booking, book, booking_summary, cancel, reschedule, sample_for
from intake.codes import is_valid_sample_code
from intake.errors import ConflictError, ConsentRequiredError, InputError, SlotFullError
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    LabDay,
    SampleSource,
    SampleStatus,
)
from tests.labs.factories import TODAY, make_case, make_lab

MONDAY = date(2026, 11, 30)
SOURCE = SampleSource.REPORTING_PARENT


def _book(session, case, lab, day=MONDAY):
    return book(session, case=case, lab_id=lab.id, day=day, today=TODAY, source=SOURCE, actor="test")


def test_booking_needs_recorded_consent(session):
    lab, case = make_lab(session), make_case(session, consent=False)
    with pytest.raises(ConsentRequiredError):
        _book(session, case, lab)


def test_booking_creates_a_sample_with_a_code_and_counts_the_place(session):
    lab, case = make_lab(session), make_case(session)
    booking = _book(session, case, lab)
    session.commit()
    sample = sample_for(session, booking)
    assert sample is not None and is_valid_sample_code(sample.code)
    assert sample.source is SOURCE and sample.status is SampleStatus.AWAITING_COLLECTION
    assert session.scalars(sa.select(LabDay)).one().booked == 1
    assert case.status is CaseStatus.SAMPLING_BOOKED
    summary = booking_summary(session, booking)
    assert (
        summary.day == MONDAY
        and summary.sample_code == sample.code
        and summary.opening_hours == "09:00-17:00"
    )
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "booking.create")
        )
        == 1
    )


def test_a_closed_day_or_a_second_booking_is_refused(session):
    lab, case = make_lab(session), make_case(session)
    with pytest.raises(InputError):
        _book(session, case, lab, day=date(2026, 11, 29))  # a Sunday
    with pytest.raises(InputError):
        _book(session, case, lab, day=TODAY)  # not before tomorrow
    _book(session, case, lab)
    with pytest.raises(ConflictError):
        _book(session, case, lab)


def test_a_full_day_raises_slot_full(session):
    lab = make_lab(session, capacity=1)
    _book(session, make_case(session), lab)
    with pytest.raises(SlotFullError):
        _book(session, make_case(session), lab)


def test_cancel_frees_the_place_and_cancels_the_sample(session):
    lab, case = make_lab(session), make_case(session)
    booking = _book(session, case, lab)
    cancel(session, booking, actor="test")
    session.commit()
    assert booking.status is BookingStatus.CANCELLED and booking.cancelled_at is not None
    assert sample_for(session, booking).status is SampleStatus.CANCELLED
    assert session.scalars(sa.select(LabDay)).one().booked == 0
    assert active_booking(session, case) is None and case.status is CaseStatus.OPEN


def test_reschedule_moves_the_place_and_keeps_the_sample_code(session):
    lab, case = make_lab(session), make_case(session)
    booking = _book(session, case, lab)
    code = sample_for(session, booking).code
    reschedule(session, booking, lab_id=lab.id, day=date(2026, 12, 1), today=TODAY, actor="test")
    session.commit()
    counts = dict(session.execute(sa.select(LabDay.day, LabDay.booked)).all())
    assert counts == {MONDAY: 0, date(2026, 12, 1): 1}
    assert sample_for(session, booking).code == code
    assert booking_summary(session, booking).day == date(2026, 12, 1)


def test_rescheduling_to_a_full_day_keeps_the_old_appointment(session_factory):
    with session_factory() as session:
        lab = make_lab(session, capacity=1)
        other = make_case(session)
        _book(session, other, lab, day=date(2026, 12, 1))
        case = make_case(session)
        booking = _book(session, case, lab)
        session.commit()
        with pytest.raises(SlotFullError):
            reschedule(session, booking, lab_id=lab.id, day=date(2026, 12, 1), today=TODAY, actor="test")
        session.rollback()
        assert booking_summary(session, booking).day == MONDAY


def test_fifty_people_booking_the_last_ten_places_at_once_get_exactly_ten(session_factory, backend):
    with session_factory() as session:
        lab = make_lab(session, capacity=60)
        lab_id = lab.id
        for _ in range(50):  # fill the day up to its last ten places
            _book(session, make_case(session), lab)
        case_ids = [make_case(session).id for _ in range(50)]
        session.commit()

    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(case_id: int) -> None:
        with session_factory() as s:
            # Wait before the first query: on SQLite a transaction holds the write lock from its first statement.
            barrier.wait(timeout=60)
            try:
                case = s.get_one(Case, case_id)
                book(s, case=case, lab_id=lab_id, day=MONDAY, today=TODAY, source=SOURCE, actor="test")
                s.commit()
                result = "booked"
            except SlotFullError:
                s.rollback()
                result = "full"
            except Exception as exc:  # any other outcome is a failure the assertion below should show
                s.rollback()
                result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(cid,)) for cid in case_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 50, "some booking threads did not finish"
    assert [o for o in outcomes if o not in ("booked", "full")] == []
    assert outcomes.count("booked") == 10 and outcomes.count("full") == 40
    with session_factory() as session:
        day = session.scalars(sa.select(LabDay).where(LabDay.day == MONDAY)).one()
        assert day.booked == day.capacity == 60
        booked = session.scalar(
            sa.select(sa.func.count()).select_from(Booking).where(Booking.status == BookingStatus.BOOKED)
        )
        assert booked == 60
