"""Custody: the state is derived from an append-only list of events, and a booked sample belongs to its lab."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.booking import cancel
from intake.custody import append_event, custodian_lab_id, custody_events, derive_state, require_lab
from intake.lab_errors import CustodyError, ForbiddenError
from intake.models import Booking, CustodyEvent, CustodyEventType, CustodyState, Sample, SampleStatus
from tests.labapi.factories import booked_sample
from tests.labs.factories import make_lab

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
