"""REUNITE_BOOKING_HORIZON_DAYS: the free days offered and the days that can be booked follow it everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.labs import appointments
from intake.labs.directory import free_days, load_demo_labs
from intake.labs.slots import HORIZON_INFO_KEY, horizon_of
from intake.models import SampleSource
from intake.platform.errors import InputError
from intake.platform.settings import Settings
from intake.runtime import Runtime
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript
from tests.support.factories import TODAY, make_case, make_lab

EVERY_DAY = "1,2,3,4,5,6,7"


def test_free_days_follow_the_sessions_horizon(session):
    lab = make_lab(session, days=EVERY_DAY)
    assert horizon_of(session) == 14  # the documented default
    session.info[HORIZON_INFO_KEY] = 3
    assert [d.day for d in free_days(session, lab, today=TODAY, count=10)] == [
        TODAY + timedelta(days=n) for n in (1, 2, 3)
    ]
    session.info[HORIZON_INFO_KEY] = 30
    days = free_days(session, lab, today=TODAY, count=30)
    assert len(days) == 30 and days[-1].day == TODAY + timedelta(days=30)


@pytest.mark.parametrize(("horizon", "ahead", "bookable"), [(30, 20, True), (3, 3, True), (3, 4, False)])
def test_days_are_bookable_up_to_the_horizon(session, horizon, ahead, bookable):
    session.info[HORIZON_INFO_KEY] = horizon
    lab, case = make_lab(session, days=EVERY_DAY), make_case(session)
    day = TODAY + timedelta(days=ahead)

    def book():
        return appointments.book(session, case=case, lab_id=lab.id, day=day, source=SampleSource.REPORTING_PARENT,
                                 actor="test", today=TODAY)  # fmt: skip

    if bookable:
        assert book().lab_day.day == day
    else:
        with pytest.raises(InputError, match=f"up to {horizon} days ahead"):
            book()


def test_the_dialogue_offers_only_days_within_the_horizon(session_factory):
    session_factory.configure(info={HORIZON_INFO_KEY: 3})
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    # Monday 23 Nov: the Guangzhou demo lab opens Monday to Saturday, so 3 days ahead ends on Thursday.
    replies = run_transcript(session_factory, t.REPORT_EN + [("1", ("city",)), ("Guangdong", ("Choose a lab",)),
                                                              ("1", ("1 Tue 24 Nov", "2 Wed 25 Nov", "3 Thu 26 Nov"))])  # fmt: skip
    assert "Fri 27 Nov" not in replies[-1]


def test_the_runtime_gives_every_session_the_configured_horizon(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        booking_horizon_days=5)  # fmt: skip
    rt = Runtime.start(settings, demo_labs=False)
    with rt.session_factory() as session:
        assert horizon_of(session) == 5
    rt.engine.dispose()
