"""The intake transcripts over signed Twilio webhooks: the same conversation as over the engine, through /sms/inbound."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.models import (
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Channel,
    Consent,
    Contact,
    Direction,
    Message,
    Person,
    Sample,
    SampleSource,
)
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import check_turn
from tests.dialogue.transcripts import Turn
from tests.support.twilio import Phone

# A reply may take a few segments (a booking confirmation carries an address), never a wall of text.
MAX_SEGMENTS = 4


def play(phone: Phone, turns: list[Turn]) -> list[list[str]]:
    """Text each turn's message through Twilio's webhook and check the TwiML replies against the transcript."""
    seen = []
    for number, (text, expected) in enumerate(turns, 1):
        replies = phone.text(text)
        seen.append(replies)
        check_turn(number, text, expected, replies)
        for reply in replies:
            assert segment_count(reply) <= MAX_SEGMENTS, f"turn {number}: reply too long for SMS:\n{reply}"
    return seen


@pytest.mark.parametrize(
    ("language", "turns"),
    [("zh_CN", t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH), ("en", t.REPORT_EN + t.BOOK_AFTER_REPORT_EN)],
)
def test_report_and_book_by_sms(phone, session, language, turns):
    play(phone, turns)

    contact = session.scalars(sa.select(Contact)).one()
    assert (contact.channel, contact.address, contact.language) == (Channel.SMS, phone.number, language)
    case = session.scalars(sa.select(Case)).one()
    assert case.status == CaseStatus.SAMPLING_BOOKED
    assert case.child_name == ("李小明" if language == "zh_CN" else "Li Ming")
    consents = session.scalars(sa.select(Consent)).all()
    assert len(consents) == 2 and all(c.granted for c in consents)
    assert {c.channel for c in consents} == {Channel.SMS}
    reporter = session.scalars(sa.select(Person).where(Person.contact_id == contact.id)).one()
    booking = session.scalars(sa.select(Booking)).one()
    assert booking.status == BookingStatus.BOOKED and booking.case_id == case.id
    sample = session.scalars(sa.select(Sample)).one()
    assert (sample.source, sample.person_id) == (SampleSource.REPORTING_PARENT, reporter.id)

    # Every message in and out is stored, and the case reference went out in a reply.
    stored = session.scalars(sa.select(Message).order_by(Message.id)).all()
    inbound = [m for m in stored if m.direction == Direction.INBOUND]
    assert [m.body for m in inbound] == [text for text, _ in turns]
    outbound = "\n".join(m.body for m in stored if m.direction == Direction.OUTBOUND)
    assert case.reference in outbound and sample.code in outbound


def test_a_retried_delivery_in_the_middle_of_a_report_changes_nothing(phone, session):
    play(phone, t.REPORT_EN[:5])
    params = phone.params("girl")
    first = phone.post(params)
    again = phone.post(params)  # Twilio retries the same MessageSid
    assert first.status_code == again.status_code == 200
    assert again.data == first.data
    play(phone, [("3", ("last see",))])  # the retry did not advance the conversation a second step
    assert session.scalars(sa.select(sa.func.count(Message.id)).where(Message.body == "girl")).one() == 1


def test_refusing_consent_by_sms_stores_only_the_refusal(phone, session):
    play(phone, t.REFUSAL_ZH)
    assert session.scalars(sa.select(Case)).all() == []
    consent = session.scalars(sa.select(Consent)).one()
    assert consent.granted is False and consent.channel == Channel.SMS


def test_stop_by_sms_in_chinese(phone, session):
    play(phone, t.STOP_START_ZH)
    assert session.scalars(sa.select(Contact.opted_out)).one() is False
