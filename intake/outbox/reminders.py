"""Appointment reminders and follow-ups: queued by a pass of the notification worker, cancelled once the
sample is taken.

    schedule_reminders(session, *, today=None) -> int          cancel_reminders(session, sample, event_type) -> int
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import (
    Booking,
    BookingStatus,
    Case,
    Contact,
    CustodyEventType,
    Lab,
    LabDay,
    Person,
    Sample,
    SampleStatus,
)
from intake.models.outbox import (
    Notification,
    NotificationStatus,
)
from intake.outbox.queue import advance, by_key, case_reference, notify_family
from intake.platform import clock

St = NotificationStatus


MISSED_FOLLOW_UP_DAYS = (
    7  # a booking missed longer ago than this gets no follow-up (an old database, a restart)
)


# Custody events after which the sample is no longer waiting to be taken: its appointment needs no reminder.
TAKEN_EVENTS = frozenset({CustodyEventType.COLLECTED, CustodyEventType.RECEIVED, CustodyEventType.TYPED})


def cancel_reminders(session: Session, sample: Sample, event_type: CustodyEventType) -> int:
    """Cancel the reminders still waiting to be sent for the appointment of a sample that was just taken (a lab
    collected it before the day, as a walk-in or early); return how many. One sent already stays sent."""
    if event_type not in TAKEN_EVENTS or sample.booking_id is None:
        return 0
    waiting = session.scalars(
        sa.select(Notification).where(
            Notification.idempotency_key.like(f"booking:{sample.booking_id}:reminder:%"),
            Notification.status == St.PENDING,
        )
    ).all()
    for notification in waiting:
        notification.error_code = "sample_collected"
        advance(notification, St.CANCELLED)
    return len(waiting)


def _lab_params(lab: Lab, day: date, language: str) -> dict[str, str]:
    return {
        "lab": lab.name_in(language),
        "address": lab.address_in(language),
        "day": day.isoformat(),
        "hours": lab.opening_hours,
    }


def _booking_contact(session: Session, booking: Booking) -> Contact | None:
    contact_id = booking.contact_id
    if contact_id is None:
        contact_id = session.scalar(sa.select(Case.reported_by_contact_id).where(Case.id == booking.case_id))
    return session.get(Contact, contact_id) if contact_id is not None else None


def schedule_reminders(session: Session, *, today: date | None = None) -> int:
    """Queue the day-before reminders and the missed-appointment follow-ups that are due; return how many new.

    Idempotent: one reminder per booking and appointment day, one follow-up per booking, whatever how often it
    runs or how many workers run it. An appointment is missed when its day has passed and its sample was not
    collected; an appointment whose sample was taken already (early, or as a walk-in) gets no reminder.
    """
    today = today or clock.today_in_china()
    added = 0
    rows = session.execute(
        sa.select(Booking, LabDay.day, Lab, Sample)
        .join(LabDay, Booking.lab_day_id == LabDay.id)
        .join(Lab, LabDay.lab_id == Lab.id)
        .outerjoin(Sample, Sample.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.BOOKED,
            LabDay.day.between(today - timedelta(days=MISSED_FOLLOW_UP_DAYS), today + timedelta(days=1)),
        )
        .order_by(Booking.id)
    ).all()
    for booking, day, lab, sample in rows:
        waiting = sample is None or sample.status == SampleStatus.AWAITING_COLLECTION
        if day == today + timedelta(days=1) and waiting:
            template, key = "appointment.reminder", f"booking:{booking.id}:reminder:{day.isoformat()}"
        elif day < today and waiting:
            template, key = "appointment.missed", f"booking:{booking.id}:missed"
        else:
            continue
        contact = _booking_contact(session, booking)
        if contact is None or by_key(session, key) is not None:
            continue
        params = {
            **_lab_params(lab, day, contact.language),
            "reference": case_reference(session, booking.case_id),
        }
        if template == "appointment.reminder":
            params["code"] = sample.code if sample is not None else "-"
        else:
            del params["address"], params["hours"]
        if notify_family(
            session, contact=contact, key=key, template=template, params=params, case_id=booking.case_id
        ):
            added += 1
    return added


def _contact_of_sample(session: Session, sample: Sample) -> Contact | None:
    """Return who hears about a sample: its person's contact, else its booking's, else the case reporter's."""
    candidates: list[int | None] = []
    if sample.person_id is not None:
        candidates.append(session.scalar(sa.select(Person.contact_id).where(Person.id == sample.person_id)))
    if sample.booking_id is not None:
        candidates.append(
            session.scalar(sa.select(Booking.contact_id).where(Booking.id == sample.booking_id))
        )
    if sample.case_id is not None:
        reporter = sa.select(Case.reported_by_contact_id).where(Case.id == sample.case_id)
        candidates.append(session.scalar(reporter))
    contact_id = next((c for c in candidates if c is not None), None)
    return session.get(Contact, contact_id) if contact_id is not None else None


SAMPLE_TEMPLATES = {CustodyEventType.RECEIVED: "sample.received", CustodyEventType.TYPED: "sample.typed"}


def notify_sample_event(
    session: Session, sample: Sample, event_type: CustodyEventType
) -> Notification | None:
    """Tell the family that the lab received or typed their sample (other events tell no one); a sample taken
    cancels its appointment's reminders still waiting."""
    cancel_reminders(session, sample, event_type)
    template = SAMPLE_TEMPLATES.get(event_type)
    if template is None or sample.case_id is None:
        return None  # a walk-in not linked yet, a found child: no family to tell
    contact = _contact_of_sample(session, sample)
    if contact is None:
        return None
    return notify_family(
        session, contact=contact, key=f"sample:{sample.id}:{event_type.value}", template=template,
        params={"code": sample.code, "reference": case_reference(session, sample.case_id)},
        case_id=sample.case_id,
    )  # fmt: skip
