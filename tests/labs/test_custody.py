"""Custody: the state is derived from an append-only list of events, and a booked sample belongs to its lab."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.labs.appointments import cancel, reschedule
from intake.labs.errors import CustodyError, ForbiddenError
from intake.models import Booking, CustodyEvent, CustodyEventType, CustodyState, Sample, SampleStatus
from intake.samples.custody import append_event, custodian_lab_id, custody_events, derive_state, require_lab
from tests.support.factories import MONDAY, TODAY, booked_sample, make_lab

E = CustodyEventType


def test_events_derive_the_state_and_the_family_status_follows(session):
    lab = make_lab(session)
    sample = session.get_one(Sample, booked_sample(session, lab).id)
    assert [e.type for e in custody_events(session, sample)] == [E.BOOKED]
    for event, state, status in (
        (E.COLLECTED, CustodyState.COLLECTED, SampleStatus.COLLECTED),
        (E.RECEIVED, CustodyState.RECEIVED, SampleStatus.COLLECTED),
        (E.DESTROYED, CustodyState.DESTROYED, SampleStatus.REJECTED),
    ):
        append_event(session, sample, event, actor="labkey:1", lab_id=lab.id)
        assert derive_state(sample, custody_events(session, sample)) is state and sample.status is status
    with pytest.raises(CustodyError):
        append_event(session, sample, E.RECEIVED, actor="labkey:1", lab_id=lab.id)


def test_custody_events_cannot_be_changed_or_deleted(session):
    lab = make_lab(session)
    sample = session.get_one(Sample, booked_sample(session, lab).id)
    append_event(session, sample, E.COLLECTED, actor="labkey:1", lab_id=lab.id, by="nurse")
    session.commit()
    event = session.scalars(sa.select(CustodyEvent).where(CustodyEvent.type == E.COLLECTED)).one()
    event.by = "someone else"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()
    session.delete(session.scalars(sa.select(CustodyEvent).where(CustodyEvent.type == E.BOOKED)).one())
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


def test_a_booked_sample_belongs_to_the_lab_of_its_booking_and_a_cancelled_one_to_none(session):
    lab, other = make_lab(session), make_lab(session, city="上海")
    sample = session.get_one(Sample, booked_sample(session, lab).id)
    assert custodian_lab_id(session, sample) == lab.id
    with pytest.raises(ForbiddenError):
        require_lab(session, sample, other.id)
    cancel(session, session.get_one(Booking, sample.booking_id), actor="test")
    assert derive_state(sample, custody_events(session, sample)) is CustodyState.CANCELLED
    with pytest.raises(CustodyError):
        append_event(session, sample, E.COLLECTED, actor="labkey:1", lab_id=lab.id)


def _events(session, sample_id):
    # Read the table itself: custody_events() once wrote the booked event lazily, on the lab's first look.
    query = sa.select(CustodyEvent).where(CustodyEvent.sample_id == sample_id).order_by(CustodyEvent.id)
    return [(e.type, e.lab_id, e.actor) for e in session.scalars(query)]


def test_booking_starts_the_chain_of_custody_and_a_move_to_another_lab_books_it_there(session):
    lab, other = make_lab(session), make_lab(session, city="上海")
    ref = booked_sample(session, lab)
    assert _events(session, ref.id) == [(E.BOOKED, lab.id, "test")]
    booking = session.scalars(
        sa.select(Booking).where(Booking.id == Sample.booking_id, Sample.id == ref.id)
    ).one()
    reschedule(session, booking, lab_id=lab.id, day=MONDAY + timedelta(days=1), today=TODAY, actor="test")
    assert _events(session, ref.id) == [(E.BOOKED, lab.id, "test")]  # same lab: nothing to record
    reschedule(session, booking, lab_id=other.id, day=MONDAY, today=TODAY, actor="contact:1")
    assert _events(session, ref.id) == [(E.BOOKED, lab.id, "test"), (E.BOOKED, other.id, "contact:1")]
    sample = session.get_one(Sample, ref.id)
    assert custodian_lab_id(session, sample) == other.id and sample.status is SampleStatus.AWAITING_COLLECTION
