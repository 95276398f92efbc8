"""Sample custody: append events, derive a sample's state and custodian lab, and decide which lab may act on it.

A sample's state is never set directly: each event moves it (`NEXT_STATE`) if the state before allows it
(`ALLOWED_FROM`), and `Sample.status` keeps the coarser state the family hears (`FAMILY_STATUS`), so that
queries need not replay the list. A sample
booked through the intake gets its `booked` event from the booking itself (`intake.labs.appointments.book` calls
`record_booked`), so its chain of custody starts when the appointment is made.

    find_sample(session, code) -> Sample                        custody_events(session, sample) -> [CustodyEvent]
    custodian_lab_id(session, sample) -> int | None             require_lab(session, sample, lab_id)
    append_event(session, sample, type, *, actor, lab_id, at=None, by=None, to_lab_id=None, ...) -> CustodyEvent
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.errors import CustodyError, ForbiddenError, SampleCodeError, UnknownSampleError
from intake.models import (
    Booking,
    BookingStatus,
    CustodyEvent,
    CustodyEventType,
    CustodyState,
    LabDay,
    Sample,
    SampleStatus,
    as_utc,
    audit,
    utcnow,
)
from intake.outbox.reminders import notify_sample_event
from intake.platform.codes import is_valid_sample_code, normalise_sample_code
from intake.platform.i18n import N_

E, S = CustodyEventType, CustodyState
NEXT_STATE = {
    E.BOOKED: S.AWAITING_COLLECTION, E.COLLECTED: S.COLLECTED, E.RECEIVED: S.RECEIVED, E.TYPED: S.TYPED,
    E.REPLACED: S.TYPED, E.DESTROYED: S.DESTROYED,
}  # fmt: skip
FAMILY_STATUS = {
    S.AWAITING_COLLECTION: SampleStatus.AWAITING_COLLECTION, S.COLLECTED: SampleStatus.COLLECTED,
    S.RECEIVED: SampleStatus.COLLECTED, S.TYPED: SampleStatus.PROFILED, S.DESTROYED: SampleStatus.REJECTED,
    S.CANCELLED: SampleStatus.CANCELLED,
}  # fmt: skip
ALLOWED_FROM = {
    E.BOOKED: {S.AWAITING_COLLECTION},
    E.COLLECTED: {S.AWAITING_COLLECTION},
    E.RECEIVED: {S.COLLECTED},
    E.TYPED: {S.COLLECTED, S.RECEIVED},
    E.REPLACED: {S.TYPED},
    E.DESTROYED: {S.AWAITING_COLLECTION, S.COLLECTED, S.RECEIVED, S.TYPED},
    E.TRANSFERRED: {S.COLLECTED, S.RECEIVED, S.TYPED},
}
CLOCK_SKEW = timedelta(minutes=10)  # a lab's clock may run a little ahead of ours


def find_sample(session: Session, code: str) -> Sample:
    """Return the sample with `code`; a wrong check character and an unknown code are refused apart."""
    if not is_valid_sample_code(code):
        raise SampleCodeError(
            N_(
                "%(code)s is not a valid sample code: check the characters (the last one is a check character)."
            ),
            code=code[:40],
        )
    sample = session.scalars(sa.select(Sample).where(Sample.code == normalise_sample_code(code))).first()
    if sample is None:
        raise UnknownSampleError(N_("No sample has the code %(code)s."), code=normalise_sample_code(code))
    return sample


def _booking_lab_id(session: Session, sample: Sample) -> int | None:
    if sample.booking_id is None:
        return None
    return session.scalar(
        sa.select(LabDay.lab_id)
        .join(Booking, Booking.lab_day_id == LabDay.id)
        .where(Booking.id == sample.booking_id, Booking.status != BookingStatus.CANCELLED)
    )


def record_booked(session: Session, sample: Sample, *, at: datetime, actor: str = "system") -> CustodyEvent:
    """Append the `booked` event of a sample booked through the intake, at its booking's lab."""
    event = CustodyEvent(
        sample_id=sample.id, type=E.BOOKED, at=at, lab_id=_booking_lab_id(session, sample), actor=actor
    )
    session.add(event)
    session.flush()
    return event


def custody_events(session: Session, sample: Sample) -> list[CustodyEvent]:
    """Return the sample's custody events in order."""
    return list(
        session.scalars(
            sa.select(CustodyEvent).where(CustodyEvent.sample_id == sample.id).order_by(CustodyEvent.id)
        )
    )


def derive_state(sample: Sample, events: list[CustodyEvent]) -> CustodyState:
    """Return the state a sample's custody events lead to (a booking cancelled before collection: cancelled)."""
    if sample.status == SampleStatus.CANCELLED:
        return S.CANCELLED
    state = S.AWAITING_COLLECTION
    for event in events:
        state = NEXT_STATE.get(event.type, state)
    return state


def custodian_lab_id(session: Session, sample: Sample) -> int | None:
    """Return the lab holding the sample: the last transfer's lab, else the lab that took or booked it."""
    last_transfer = session.scalar(
        sa.select(CustodyEvent.to_lab_id)
        .where(CustodyEvent.sample_id == sample.id, CustodyEvent.type == E.TRANSFERRED)
        .order_by(CustodyEvent.id.desc())
        .limit(1)
    )
    return last_transfer or sample.lab_id or _booking_lab_id(session, sample)


def require_lab(session: Session, sample: Sample, lab_id: int) -> None:
    """Refuse unless the lab holds the sample; an unassigned sample (a found child) goes to the first lab."""
    holder = custodian_lab_id(session, sample)
    if holder is None:
        sample.lab_id = lab_id
        return
    if holder != lab_id:
        raise ForbiddenError(
            "other_lab",
            N_("Sample %(code)s is held by another lab; your key cannot act on it."),
            code=sample.code,
        )


def append_event(
    session: Session,
    sample: Sample,
    type: CustodyEventType,
    *,
    actor: str,
    lab_id: int | None,
    at: datetime | None = None,
    by: str | None = None,
    to_lab_id: int | None = None,
    profile_id: str | None = None,
    reason: str | None = None,
) -> CustodyEvent:
    """Append one custody event if the sample's state allows it, and keep `Sample.status` derived from the list.

    The same event sent again (same type, time and person, as a retried request does) is answered with the
    stored one and adds nothing.
    """
    now = utcnow()
    at = as_utc(at).astimezone(now.tzinfo) if at else now  # stored in UTC: SQLite keeps no offset
    if at > now + CLOCK_SKEW:
        raise CustodyError(N_("The time of the event is in the future."))
    events = custody_events(session, sample)
    if events and (events[-1].type, as_utc(events[-1].at), events[-1].by, events[-1].to_lab_id) == (
        type, as_utc(at), by, to_lab_id
    ):  # fmt: skip
        return events[-1]
    state = derive_state(sample, events)
    earlier = [e for e in events if e.type is not E.BOOKED]  # booked: the appointment, on the server's clock
    if earlier and at < (last := max(as_utc(e.at) for e in earlier)) - CLOCK_SKEW:
        before = next(e for e in reversed(earlier) if as_utc(e.at) == last)
        raise CustodyError(
            N_("Sample %(code)s cannot be %(event)s at %(at)s: that is before it was %(before)s (%(before_at)s)."),
            code=sample.code, event=type.value, at=at.isoformat(timespec="minutes"), before=before.type.value,
            before_at=last.isoformat(timespec="minutes"),
        )  # fmt: skip
    if state not in ALLOWED_FROM[type]:
        raise CustodyError(
            N_("Sample %(code)s is %(state)s: it cannot be %(event)s now."),
            code=sample.code, state=state.value, event=type.value,
        )  # fmt: skip
    event = CustodyEvent(
        sample_id=sample.id, type=type, at=at, lab_id=lab_id, to_lab_id=to_lab_id, actor=actor, by=by,
        profile_id=profile_id, reason=reason,
    )  # fmt: skip
    session.add(event)
    sample.status = FAMILY_STATUS[NEXT_STATE.get(type, state)]
    session.flush()
    audit(session, actor, f"custody.{type.value}", "sample", sample.id, lab=lab_id, to_lab=to_lab_id)
    notify_sample_event(session, sample, type)  # received, typed: the family hears it, in this transaction
    return event
