"""Booking, rescheduling and cancelling sampling appointments, and the last places under concurrency."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.labs.appointments import active_booking, book, booking_summary, cancel, reschedule, sample_for
from intake.labs.slots import china_today
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
from intake.platform.codes import insert_with_unique_code, is_valid_sample_code
from intake.platform.errors import ConflictError, ConsentRequiredError, InputError, SlotFullError
from tests.support.concurrency import run_together
from tests.support.factories import TODAY, make_case, make_lab

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

    def attempt(case_id: int) -> str:
        with session_factory() as s, s.begin():
            book(s, case=s.get_one(Case, case_id), lab_id=lab_id, day=MONDAY, today=TODAY, source=SOURCE,
                 actor="test")  # fmt: skip
        return "booked"

    outcomes = run_together(50, attempt, case_ids)
    assert len(outcomes) == 50, "some booking threads did not finish"
    assert [o for o in outcomes if o not in ("booked", "SlotFullError")] == []
    assert outcomes.count("booked") == 10 and outcomes.count("SlotFullError") == 40
    with session_factory() as session:
        day = session.scalars(sa.select(LabDay).where(LabDay.day == MONDAY)).one()
        assert day.booked == day.capacity == 60
        booked = session.scalar(
            sa.select(sa.func.count()).select_from(Booking).where(Booking.status == BookingStatus.BOOKED)
        )
        assert booked == 60


def _actions(session):
    return [a for (a,) in session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id))]


def test_book_cancel_and_reschedule_write_the_audit_log_and_guard_repeats(session):
    lab, case = make_lab(session), make_case(session)
    booking = _book(session, case, lab)
    assert (
        reschedule(session, booking, lab_id=lab.id, day=MONDAY, today=TODAY, actor="t") is booking
    )  # no move
    reschedule(session, booking, lab_id=lab.id, day=date(2026, 12, 2), today=TODAY, actor="t")
    cancel(session, booking, actor="t")
    with pytest.raises(ConflictError):
        cancel(session, booking, actor="t")
    with pytest.raises(ConflictError):
        reschedule(session, booking, lab_id=lab.id, day=MONDAY, today=TODAY, actor="t")
    session.commit()
    assert [a for a in _actions(session) if a.startswith("booking.")] == [
        "booking.create", "booking.reschedule", "booking.cancel"
    ]  # fmt: skip
    assert sum(session.scalars(sa.select(LabDay.booked))) == 0
    # After a cancellation the case can book again, with a new sample code.
    again = _book(session, case, lab)
    assert sample_for(session, again).code != sample_for(session, booking).code


def test_sample_code_is_grouped_and_summary_speaks_english(session):
    lab, case = make_lab(session), make_case(session)
    lab.name_en, lab.city_en, lab.address_en = "Test lab", "Beijing", "1 Test Road"
    booking = _book(session, case, lab)
    code = sample_for(session, booking).code
    assert re.fullmatch(r"[2-9A-HJ-NP-TV-Z]{4}-[2-9A-HJ-NP-TV-Z]{4}", code)
    summary = booking_summary(session, booking, "en")
    assert (summary.lab_name, summary.address, summary.is_demo) == ("Test lab", "1 Test Road, Beijing", False)
    assert booking_summary(session, booking).address == "北京测试路1号"


def test_booking_defaults_to_today_in_china(session):
    lab, case = make_lab(session, days="1,2,3,4,5,6,7"), make_case(session)
    tomorrow = china_today() + timedelta(days=1)
    booking = book(session, case=case, lab_id=lab.id, day=tomorrow, source=SOURCE, actor="t")
    assert booking_summary(session, booking).day == tomorrow
    with pytest.raises(InputError):
        book(session, case=make_case(session), lab_id=lab.id, day=china_today(), source=SOURCE, actor="t")


def test_first_bookings_of_a_new_day_create_it_once_and_never_overbook(session_factory, backend):
    with session_factory() as session:
        lab_id = make_lab(session, capacity=5).id
        case_ids = [make_case(session).id for _ in range(20)]
        session.commit()

    def attempt(case_id):
        with session_factory() as s, s.begin():
            book(
                s,
                case=s.get_one(Case, case_id),
                lab_id=lab_id,
                day=MONDAY,
                today=TODAY,
                source=SOURCE,
                actor="t",
            )
        return "booked"

    outcomes = run_together(20, attempt, case_ids)
    assert sorted(outcomes) == ["SlotFullError"] * 15 + ["booked"] * 5
    with session_factory() as session:
        assert session.scalars(sa.select(LabDay.booked)).all() == [5]


def test_simultaneous_cancels_of_one_booking_free_one_place(session_factory, backend):
    with session_factory() as session:
        lab = make_lab(session)
        booking_id = _book(session, make_case(session), lab).id
        _book(session, make_case(session), lab)
        session.commit()

    def attempt(_):
        with session_factory() as s, s.begin():
            cancel(s, s.get_one(Booking, booking_id), actor="t")
        return "cancelled"

    outcomes = run_together(8, attempt, range(8))
    assert sorted(outcomes) == ["ConflictError"] * 7 + ["cancelled"]
    with session_factory() as session:
        assert session.scalars(sa.select(LabDay.booked)).all() == [1]


def test_a_colliding_code_is_retried_without_losing_the_transaction(session, monkeypatch):
    lab, case = make_lab(session), make_case(session)
    first = _book(session, case, lab)
    taken = sample_for(session, first).code
    fresh = iter([taken, taken, "ABCD-EFGH"])
    monkeypatch.setattr("intake.labs.appointments.new_sample_code", lambda: next(fresh))
    second = _book(session, make_case(session), lab)
    session.commit()
    assert sample_for(session, second).code == "ABCD-EFGH"
    assert session.scalars(sa.select(LabDay.booked)).all() == [2]
    refs = iter(["MC-2026-AAAAAA", "MC-2026-AAAAAA", "MC-2026-BBBBBB"])
    cases = [
        insert_with_unique_code(session, lambda: Case(reference=next(refs), pin="000000")) for _ in range(2)
    ]
    assert [c.reference for c in cases] == ["MC-2026-AAAAAA", "MC-2026-BBBBBB"]


def test_people_swapping_days_in_opposite_directions_at_once_all_move(session_factory, backend):
    tuesday = date(2026, 12, 1)
    with session_factory() as session:
        lab = make_lab(session, capacity=20)
        lab_id = lab.id
        moves = [(_book(session, make_case(session), lab, day=d).id, other)
                 for d, other in [(MONDAY, tuesday), (tuesday, MONDAY)] for _ in range(10)]  # fmt: skip
        session.commit()

    def attempt(move):
        booking_id, day = move
        with session_factory() as s, s.begin():
            reschedule(s, s.get_one(Booking, booking_id), lab_id=lab_id, day=day, today=TODAY, actor="t")
        return "moved"

    assert run_together(20, attempt, moves) == ["moved"] * 20
    with session_factory() as session:
        assert sorted(session.execute(sa.select(LabDay.day, LabDay.booked))) == [(MONDAY, 10), (tuesday, 10)]
