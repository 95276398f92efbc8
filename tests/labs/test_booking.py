"""Booking, rescheduling and cancelling sampling appointments, and the last places under concurrency."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.booking import active_booking, book, booking_summary, cancel, reschedule, sample_for
from intake.codes import insert_with_unique_code, is_valid_sample_code
from intake.errors import ConflictError, ConsentRequiredError, InputError, SlotFullError
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    LabDay,
    Person,
    Role,
    SampleSource,
    SampleStatus,
)
from intake.slots import china_today
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


def _run_together(n, target, args):
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(arg):
        barrier.wait(
            timeout=60
        )  # before the first query: on SQLite a transaction locks from its first statement
        try:
            result = target(arg)
        except Exception as exc:  # collected, so the assertion shows every unexpected outcome
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


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

    outcomes = _run_together(20, attempt, case_ids)
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

    outcomes = _run_together(8, attempt, range(8))
    assert sorted(outcomes) == ["ConflictError"] * 7 + ["cancelled"]
    with session_factory() as session:
        assert session.scalars(sa.select(LabDay.booked)).all() == [1]


def test_a_colliding_code_is_retried_without_losing_the_transaction(session, monkeypatch):
    lab, case = make_lab(session), make_case(session)
    first = _book(session, case, lab)
    taken = sample_for(session, first).code
    fresh = iter([taken, taken, "ABCD-EFGH"])
    monkeypatch.setattr("intake.booking.new_sample_code", lambda: next(fresh))
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

    assert _run_together(20, attempt, moves) == ["moved"] * 20
    with session_factory() as session:
        assert sorted(session.execute(sa.select(LabDay.day, LabDay.booked))) == [(MONDAY, 10), (tuesday, 10)]


def test_one_case_booked_by_several_requests_at_once_gets_one_appointment(session_factory, backend):
    # Run repeatedly: a lost race shows only now and then. Without the row lock in book() the partial unique
    # index must still refuse the second appointment (and the refusal must be a ConflictError, not a 500).
    for _round in range(5):
        with session_factory() as session:
            lab_id = make_lab(session, capacity=20, city=f"城{_round}").id
            case_id = make_case(session).id
            session.commit()

        def attempt(_, case_id=case_id, lab_id=lab_id):
            with session_factory() as s, s.begin():
                book(s, case=s.get_one(Case, case_id), lab_id=lab_id, day=MONDAY, today=TODAY, source=SOURCE,
                     actor="t")  # fmt: skip
            return "booked"

        outcomes = _run_together(6, attempt, range(6))
        assert sorted(outcomes) == ["ConflictError"] * 5 + ["booked"], outcomes
        with session_factory() as session:
            active = (
                sa.select(sa.func.count())
                .select_from(Booking)
                .where(Booking.case_id == case_id, Booking.status == BookingStatus.BOOKED)
            )
            assert session.scalar(active) == 1
            lab_day = sa.select(LabDay.booked).join(LabDay.lab).where(LabDay.lab_id == lab_id)
            assert session.scalars(lab_day).all() == [1]  # the refused ones left no place taken


def _add_booking(session, case, lab_day_id, person_id=None, status=BookingStatus.BOOKED):
    with session.begin_nested():
        session.add(Booking(lab_day_id=lab_day_id, case_id=case.id, person_id=person_id, status=status))


def _parents(session, case):
    parents = [Person(case_id=case.id, role=role) for role in (Role.MOTHER, Role.FATHER)]
    session.add_all(parents)
    session.flush()
    return parents


def test_the_database_refuses_a_second_active_booking_of_a_case_or_a_person(session):
    lab, case = make_lab(session), make_case(session)
    day_id = _book(session, case, lab).lab_day_id
    with pytest.raises(sa.exc.IntegrityError):
        _add_booking(session, case, day_id)  # a second family appointment, past the check in book()
    _add_booking(session, case, day_id, status=BookingStatus.CANCELLED)  # cancelled ones do not count
    mother, father = _parents(session, case)
    _add_booking(session, case, day_id, person_id=mother.id)  # each parent their own appointment
    _add_booking(session, case, day_id, person_id=father.id)
    with pytest.raises(sa.exc.IntegrityError):
        _add_booking(session, case, day_id, person_id=mother.id)


def test_each_person_of_a_case_books_once(session):
    lab, case = make_lab(session), make_case(session)
    mother, father = _parents(session, case)

    def book_for(person):
        return book(session, case=case, person=person, lab_id=lab.id, day=MONDAY, today=TODAY, source=SOURCE,
                    actor="t")  # fmt: skip

    book_for(mother), book_for(father)
    with pytest.raises(ConflictError):
        book_for(mother)
    assert session.scalars(sa.select(LabDay.booked)).all() == [2]


def test_a_race_lost_past_the_check_is_a_conflict_and_takes_no_place(session, monkeypatch):
    lab, case = make_lab(session), make_case(session)
    _book(session, case, lab)
    monkeypatch.setattr("intake.booking._active_of_person", lambda *_args: None)  # as if the check raced
    with pytest.raises(ConflictError):
        _book(session, case, lab)
    assert session.scalars(sa.select(LabDay.booked)).all() == [1]
