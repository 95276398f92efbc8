"""The booking flow's place step takes a shared location (a chat app) and offers the nearest labs; text still works."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.dialogue.engine import handle
from intake.dialogue.types import Incoming
from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Booking, Channel, Lab, LabDay
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, run_transcript

CHAT = "tg:1001"
GUANGZHOU = (23.1494, 113.2577)


def _send(session_factory, text: str = "", location: tuple[float, float] | None = None) -> str:
    with session_factory() as session:
        replies = handle(session, Incoming(Channel.TELEGRAM, CHAT, text, NOW, location=location), NOW)
        session.commit()
    return "\n".join(render_plain(r) for r in replies)


@pytest.fixture
def reported(session_factory):
    """A parent on Telegram who reported a case in English, with the demo labs loaded."""
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    run_transcript(session_factory, t.REPORT_EN, address=CHAT, channel=Channel.TELEGRAM)


def test_a_shared_location_offers_the_nearest_labs_and_books(session_factory, reported):
    assert "Which city or province" in _send(session_factory, "1")
    offered = _send(session_factory, location=GUANGZHOU)
    assert "1 Demo sampling point (Guangzhou)" in offered
    assert "2 Demo sampling point (Haikou)" in offered and "3 Demo sampling point (Nanning)" in offered
    assert "Choose a day at Demo sampling point (Guangzhou)" in _send(session_factory, "1")
    assert "1 Confirm" in _send(session_factory, "1")
    assert "Booked for case" in _send(session_factory, "1")
    with session_factory() as s:
        booking = s.scalars(sa.select(Booking)).one()
        lab_day = s.get_one(LabDay, booking.lab_day_id)
        assert s.get_one(Lab, lab_day.lab_id).city == "广州"


def test_a_location_at_the_lab_question_looks_again_and_a_typed_city_still_works(session_factory, reported):
    _send(session_factory, "1")
    assert "1 Demo sampling point (Beijing)" in _send(session_factory, "Beijing")
    assert "1 Demo sampling point (Guangzhou)" in _send(session_factory, location=GUANGZHOU)
    assert "1 Demo sampling point (Shanghai)" in _send(session_factory, "Shanghai")


def test_a_location_off_the_earth_is_asked_again_with_the_reason(session_factory, reported):
    _send(session_factory, "1")
    reply = _send(session_factory, location=(123.0, 10.0))
    assert "not a place on Earth" in reply and "Which city or province" in reply
