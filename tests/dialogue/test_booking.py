"""The booking flow over the demo lab directory: book, reschedule, cancel, and a day that fills up meanwhile."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from intake.labs.directory import load_demo_labs
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Lab,
    LabDay,
    Sample,
    SampleSource,
    SampleStatus,
)
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say


@pytest.fixture
def labs(session_factory):
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()


def test_report_and_book_in_chinese(session_factory, labs):
    run_transcript(session_factory, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    with session_factory() as s:
        booking = s.scalars(sa.select(Booking)).one()
        lab_day = s.get_one(LabDay, booking.lab_day_id)
        assert s.get_one(Lab, lab_day.lab_id).city == "广州" and lab_day.day == date(2026, 11, 24)
        sample = s.scalars(sa.select(Sample)).one()
        assert sample.source == SampleSource.REPORTING_PARENT and sample.booking_id == booking.id
        assert sample.person_id is not None and booking.contact_id is not None
        assert s.scalars(sa.select(Case.status)).one() == CaseStatus.SAMPLING_BOOKED


def test_report_book_reschedule_and_cancel_in_english(session_factory, labs):
    replies = run_transcript(
        session_factory, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN + t.RESCHEDULE_AND_CANCEL_EN
    )
    with session_factory() as s:
        booking = s.scalars(sa.select(Booking)).one()  # rescheduling moved the one booking
        assert booking.status == BookingStatus.CANCELLED
        sample = s.scalars(sa.select(Sample)).one()
        assert sample.status == SampleStatus.CANCELLED and sample.code in replies[len(t.REPORT_EN) + 4]
        assert sample.code in replies[-7]  # the moved appointment keeps its sample code
        assert set(s.scalars(sa.select(LabDay.booked))) == {0}
        assert s.scalars(sa.select(Case.status)).one() == CaseStatus.OPEN


def test_a_day_that_fills_up_offers_the_other_days(session_factory, labs):
    run_transcript(session_factory, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN[:4])
    with session_factory() as s:  # someone else takes the last places meanwhile
        s.execute(sa.update(LabDay).where(LabDay.day == date(2026, 11, 24)).values(booked=LabDay.capacity))
        s.commit()
    run_transcript(
        session_factory,
        [
            ("1", ("just filled up", "Choose a day", "1 Wed 25 Nov")),
            ("1", ("Book Demo sampling point (Guangzhou) on Wed 25 Nov",)),
            ("1", ("Booked for case MC-", ": Wed 25 Nov")),
        ],
    )
    with session_factory() as s:
        assert s.scalars(sa.select(Booking.status)).one() == BookingStatus.BOOKED


def test_choosing_again_and_other_lab(session, labs):
    run_transcript(session, t.REPORT_EN + [("1", ("city",))])
    run_transcript(
        session,
        [
            ("Beijing", ("1 Demo sampling point (Beijing)",)),
            ("9", ("lab's number",)),
            ("Shanghai", ("Demo sampling point (Shanghai)",)),  # another place instead of a number
            ("1", ("Choose a day at Demo sampling point (Shanghai)",)),
            ("0", ("Choose a lab",)),
            ("1", ("Choose a day",)),
            ("9", ("one of the numbers",)),
            ("2", ("Book",)),
            ("2", ("Choose a day",)),
            ("CANCEL", ("Cancelled",)),
        ],
    )
    assert session.scalars(sa.select(Booking)).all() == []


def test_later_then_book_and_pick_among_several_cases(session, labs):
    run_transcript(session, t.REPORT_EN + [("2", ("Send BOOK",))])
    same_child_again = [("yesterday", ("You already reported Li Ming",)), ("2", ("Where was the child",))]
    run_transcript(
        session,
        [("REPORT", ("DNA",))] + t.REPORT_EN[2:7] + same_child_again + t.REPORT_EN[8:] + [("2", ("BOOK",))],
    )
    refs = session.scalars(sa.select(Case.reference).order_by(Case.id)).all()
    run_transcript(
        session,
        [
            ("BOOK", ("Which case", f"1 {refs[0]} Li Ming", f"2 {refs[1]} Li Ming")),
            (refs[1], ("city",)),  # the reference itself picks the case
            ("Wuhan", ("Wuhan",)),
            ("1", ("Choose a day",)),
            ("1", ("Book",)),
            ("1", ("Booked",)),
        ],
    )
    booking = session.scalars(sa.select(Booking)).one()
    assert session.get_one(Case, booking.case_id).reference == refs[1]


def test_cancel_outside_a_flow_asks_first(session, labs):
    run_transcript(session, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    run_transcript(session, [("取消", ("确定取消", "1 确定取消")), ("1", ("预约已取消",))])
    assert session.scalars(sa.select(Booking.status)).one() == BookingStatus.CANCELLED


def test_book_keep(session, labs):
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN)
    run_transcript(session, [("BOOK", ("3 Keep it",)), ("3", ("stays as it is",))])
    assert say(session, "STATUS")[0].text.count("Appointment") == 1


def test_status_says_the_booked_sample_was_taken_once_the_lab_collected_it(session_factory, labs):
    from intake.models import CustodyEventType
    from intake.samples.custody import append_event

    run_transcript(session_factory, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    with session_factory() as s:
        assert "还没采" in say(s, "查询")[0].text
        s.commit()
        sample = s.scalars(sa.select(Sample)).one()
        lab_id = s.get_one(LabDay, s.get_one(Booking, sample.booking_id).lab_day_id).lab_id
        append_event(s, sample, CustodyEventType.COLLECTED, actor="labkey:1", lab_id=lab_id)
        s.commit()
        status = say(s, "查询")[0].text
    assert f"样本{sample.code}：已采" in status and "还没采" not in status
