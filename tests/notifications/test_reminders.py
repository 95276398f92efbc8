"""The worker's scheduled pass: a reminder the day before an appointment, a follow-up after a missed one; each
queued once per booking however often the pass runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from intake.labs.appointments import cancel
from intake.models import Booking, Case, CustodyEventType, NotificationStatus, Sample, utcnow
from intake.outbox.reminders import schedule_reminders
from intake.platform import clock
from intake.samples.custody import append_event
from tests.notifications.conftest import PHONE
from tests.notifications.helpers import contact_of, notifications

SUNDAY_MORNING = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 09:00 in China, the day before the appointment
TUESDAY_MORNING = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # the day after


def test_the_day_before_the_family_is_reminded_once(session, family, make_worker, fake_twilio):
    assert schedule_reminders(session, today=date(2026, 11, 28)) == 0  # two days before: not yet
    session.commit()
    worker = make_worker()
    with clock.pinned(SUNDAY_MORNING):
        worker.run_once()
        worker.queue_reminders(force=True)
        worker.run_once()
    (text,) = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert (
        text.startswith(f"团圆（案件{reference}）：您明天2026-11-30 09:00-17:00在测试实验室北京")
        and family.code in text
    )
    (n,) = notifications(session)
    assert n.idempotency_key.startswith(f"booking:{n.idempotency_key.split(':')[1]}:reminder:2026-11-30")


def test_the_reminder_is_in_english_for_an_english_contact(session, family, make_worker, fake_twilio):
    contact_of(session, PHONE).language = "en"
    session.commit()
    with clock.pinned(SUNDAY_MORNING):
        make_worker().run_once()
    (text,) = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert text == (
        f"reunite, case {reference}: your DNA sampling appointment is tomorrow, 2026-11-30 09:00-17:00, at Test"
        f" Lab Beijing, 1 Test Road, Beijing. Show sample code {family.code}. Free of charge. Send CANCEL to cancel."
    )


def test_a_missed_appointment_gets_one_follow_up(session, family, make_worker, fake_twilio):
    worker = make_worker()
    with clock.pinned(TUESDAY_MORNING):
        worker.run_once()
        assert worker.queue_reminders(force=True) == 0
    (text,) = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert text == (
        f"团圆（案件{reference}）：2026-11-30您没有到测试实验室北京采血。您的案件仍在办理，回复“预约”重新选择采血日期。"
    )


def test_an_attended_appointment_gets_no_follow_up(session, family):
    sample = session.get_one(Sample, family.id)
    append_event(session, sample, CustodyEventType.COLLECTED, actor="labkey:1", lab_id=None, at=utcnow())
    assert schedule_reminders(session, today=date(2026, 12, 1)) == 0


def test_a_cancelled_appointment_gets_nothing(session, family):
    booking = session.get_one(Booking, session.get_one(Sample, family.id).booking_id)
    cancel(session, booking, actor="test")
    assert schedule_reminders(session, today=date(2026, 11, 29)) == 0
    assert schedule_reminders(session, today=date(2026, 12, 1)) == 0


def test_a_long_missed_appointment_is_not_followed_up_after_a_week(session, family):
    assert schedule_reminders(session, today=date(2026, 12, 8)) == 0


def test_a_sample_collected_before_the_day_cancels_the_reminder_waiting_and_gets_no_new_one(
    session, family, make_worker, fake_twilio
):
    assert schedule_reminders(session, today=date(2026, 11, 29)) == 1  # queued the day before, not sent yet
    sample = session.get_one(Sample, family.id)
    append_event(session, sample, CustodyEventType.COLLECTED, actor="labkey:1", lab_id=None, at=utcnow())
    session.commit()
    (reminder,) = notifications(session)
    assert (reminder.status, reminder.error_code) == (NotificationStatus.CANCELLED, "sample_collected")
    with clock.pinned(SUNDAY_MORNING):
        make_worker().run_once()
    assert fake_twilio.bodies_to(PHONE) == []
    assert schedule_reminders(session, today=date(2026, 11, 29)) == 0


def test_a_sample_taken_early_gets_no_reminder_at_all(session, family):
    sample = session.get_one(Sample, family.id)
    append_event(session, sample, CustodyEventType.COLLECTED, actor="labkey:1", lab_id=None, at=utcnow())
    append_event(session, sample, CustodyEventType.RECEIVED, actor="labkey:1", lab_id=None, at=utcnow())
    assert schedule_reminders(session, today=date(2026, 11, 29)) == 0
    (received,) = notifications(session)  # only the "sample received" message, which names the case
    assert received.template == "sample.received" and received.params["reference"].startswith("MC-")


def test_the_reminder_names_the_case(session, family, make_worker, fake_twilio):
    with clock.pinned(SUNDAY_MORNING):
        make_worker().run_once()
    (text,) = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert f"案件{reference}" in text
