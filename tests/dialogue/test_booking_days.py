"""The booking flow's days and cases: a day that passed before the confirmation, days answered by their labels,
no ISO date in any reply, the case picker, and the dialogue's own consent filter."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Booking, Case, Channel, Consent, ConsentScope, Contact, LabDay, Person, Role
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, PHONE, run_transcript, say

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SMS_BUDGET = 4  # docs/dialogue.md
TO_CONFIRM_EN = t.REPORT_EN + t.BOOK_AFTER_REPORT_EN[:4]  # "Book ... on Tue 24 Nov?" is on the screen


@pytest.fixture
def demo_labs(session):
    load_demo_labs(session)
    session.flush()


def _no_iso_dates(replies: list[str]) -> None:
    for reply in replies:
        assert not ISO_DATE.search(reply), reply


def test_a_day_that_passed_before_the_confirmation_offers_new_days(session, demo_labs):
    run_transcript(session, TO_CONFIRM_EN)
    later = NOW + timedelta(days=2)  # Wednesday 25 November: Tuesday has passed
    replies = run_transcript(
        session,
        [
            (
                "1",
                ("Tue 24 Nov has passed", "Choose a day at Demo sampling point (Guangzhou)", "1 Thu 26 Nov"),
            ),
            ("1", ("Book Demo sampling point (Guangzhou) on Thu 26 Nov",)),
            ("1", ("Booked for case MC-", ": Thu 26 Nov")),
        ],
        now=later,
    )
    _no_iso_dates(replies)
    day = session.scalars(sa.select(LabDay.day).join(Booking, Booking.lab_day_id == LabDay.id)).one()
    assert day == date(2026, 11, 26)


def test_a_day_picked_after_it_passed_is_offered_again_in_chinese(session, demo_labs):
    run_transcript(session, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH[:4])  # the days from 11月24日 are offered
    replies = run_transcript(
        session, [("1", ("11月24日周二已经过了", "1 11月25日周三"))], now=NOW + timedelta(days=1)
    )
    _no_iso_dates(replies)
    assert session.scalars(sa.select(Booking)).all() == []


ZH_25, EN_25 = ("11月25日周三", "1 确认"), ("on Wed 25 Nov", "1 Confirm")


@pytest.mark.parametrize(
    ("answer", "confirm"),  # Chinese typed in an English conversation is answered in Chinese (the engine's rule)
    [("11月25日", ZH_25), ("11月25号", ZH_25), ("11月25日周三", ZH_25), ("Wed 25 Nov", EN_25), ("25 Nov", EN_25),
     ("2026-11-25", EN_25)],
)  # fmt: skip
def test_a_day_is_picked_by_its_label(session, demo_labs, answer, confirm):
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN[:3])
    run_transcript(session, [(answer, confirm), ("1", ("25",))])
    day = session.scalars(sa.select(LabDay.day).join(Booking, Booking.lab_day_id == LabDay.id)).one()
    assert day == date(2026, 11, 25)


def test_no_reply_of_the_booking_flows_shows_an_iso_date(session, demo_labs):
    replies = run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN + t.RESCHEDULE_AND_CANCEL_EN)
    _no_iso_dates(replies[len(t.REPORT_EN) - 1 :])
    replies = run_transcript(
        session, [("LANGUAGE", ("1 Chinese",)), ("1", ("请回复数字",)), ("预约", ("城市",))]
    )
    replies += run_transcript(
        session, [("广州", ("11月",)), ("1", ("11月",)), ("1", ("11月",)), ("1", ("预约成功",))]
    )
    replies += run_transcript(session, [("预约", ("您的预约",)), ("2", ("取消",)), ("1", ("已取消",))])
    _no_iso_dates(replies)


def _contact(session) -> Contact:
    say(session, "hi")
    return session.scalars(sa.select(Contact).where(Contact.address == PHONE)).one()


def _case(
    session, contact: Contact, name: str, scopes=(ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
):
    """Store a case reported by `contact` with a granted consent for each of `scopes`."""
    case = Case(reference=f"MC-2026-{name.upper()[:6]:X<6}", pin="123456", child_name=name,
                last_seen_date=date(2026, 11, 1), last_seen_place="Wuhan", reported_by_contact_id=contact.id)  # fmt: skip
    session.add(case)
    session.flush()
    parent = Person(case_id=case.id, role=Role.MOTHER, name="Wang Fang", contact_id=contact.id)
    session.add(parent)
    session.flush()
    for scope in scopes:
        session.add(Consent(contact_id=contact.id, case_id=case.id, person_id=parent.id, scope=scope, granted=True,
                            channel=Channel.SMS, language="en", text_version="t", recorded_at=NOW))  # fmt: skip
    session.flush()
    return case


def test_the_picker_names_the_children_and_says_when_there_are_more(session, demo_labs):
    contact = _contact(session)
    cases = [_case(session, contact, name) for name in ("Anna", "Bao", "Chen", "Dong", "Fei", "Gang")]
    replies = run_transcript(
        session,
        [("BOOK", ("latest 5 of 6", f"1 {cases[1].reference} Bao", f"5 {cases[5].reference} Gang")),
         ("5", ("city or province",))],
    )  # fmt: skip
    assert "Anna" not in replies[0]


def test_a_case_without_both_consents_is_never_offered(session, demo_labs):
    contact = _contact(session)
    _case(session, contact, "Anna", scopes=(ConsentScope.DNA_SAMPLING,))
    run_transcript(session, [("BOOK", ("no case to book for",))])  # DNA consent alone is not enough
    withdrawn = _case(session, contact, "Bao")
    session.execute(sa.update(Consent).where(Consent.case_id == withdrawn.id).values(withdrawn_at=NOW))
    run_transcript(session, [("BOOK", ("no case to book for",))])  # a withdrawn consent does not count
    _case(session, contact, "Chen", scopes=(ConsentScope.DATA_PROCESSING,))
    run_transcript(session, [("BOOK", ("no case to book for",))])
    _case(session, contact, "Dong")
    # Only Dong's case may be booked: no picker, and the city question for it straight away.
    replies = run_transcript(session, [("BOOK", ("city or province",)), ("Wuhan", ("Choose a lab",))])
    assert "Which case" not in replies[0]


def test_a_later_refusal_overrides_an_earlier_consent(session, demo_labs):
    contact = _contact(session)
    case = _case(session, contact, "Anna")
    session.add(Consent(contact_id=contact.id, case_id=case.id, scope=ConsentScope.DATA_PROCESSING, granted=False,
                        channel=Channel.SMS, language="en", text_version="t", recorded_at=NOW + timedelta(hours=1)))  # fmt: skip
    session.flush()
    run_transcript(session, [("BOOK", ("no case to book for",))])


def test_the_picker_fits_an_sms_with_the_longest_names(session, demo_labs):
    contact = _contact(session)
    for n in range(6):
        _case(session, contact, chr(0x6B27 + n) * 60)  # six children with 60-character names
    say(session, "中文")
    (reply,) = say(session, "预约")
    assert segment_count(render_plain(reply)) <= SMS_BUDGET and "…" in reply.choices[0].label
    assert "最近的5个" in reply.text


def test_an_empty_message_picks_no_lab(session, demo_labs):
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN[:2])  # the labs of Guangdong are offered
    run_transcript(session, [("", ("Choose a lab",)), ("1", ("Choose a day",))])
    assert session.scalars(sa.select(Booking)).all() == []
