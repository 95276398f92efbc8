"""DELETE (删除) erases what a parent told reunite, once confirmed with the case PIN, and keeps only the bare case record."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.labs.directory import load_demo_labs
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Consent,
    LabDay,
    Message,
    Person,
    Sample,
    SampleStatus,
)
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import PHONE, run_transcript


def _pin(session) -> str:
    return session.scalars(sa.select(Case.pin)).one()


@pytest.fixture
def labs(session):
    load_demo_labs(session)
    session.flush()


def test_delete_in_chinese_erases_the_report_and_frees_the_appointment(session, labs):
    run_transcript(session, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    reference, pin = session.execute(sa.select(Case.reference, Case.pin)).one()
    run_transcript(session, [("删除", (reference, "无法恢复", "核对码")), (pin, ("已删除",))])

    case = session.scalars(sa.select(Case)).one()
    assert case.status == CaseStatus.WITHDRAWN and case.reference == reference
    assert (case.child_name, case.last_seen_place, case.description, case.child_age_years) == (None,) * 4
    assert (case.child_birth_date, case.last_seen_date) == (None, None)
    assert set(session.scalars(sa.select(Person.name))) == {None}
    assert all(c.withdrawn_at is not None for c in session.scalars(sa.select(Consent)))
    assert session.scalars(sa.select(Booking.status)).one() == BookingStatus.CANCELLED
    assert session.scalars(sa.select(Sample.status)).one() == SampleStatus.CANCELLED
    assert set(session.scalars(sa.select(LabDay.booked))) == {0}
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()
    assert event.detail["cases"] == 1 and event.detail["appointments_cancelled"] == 1
    assert "李小明" not in str(event.detail)
    assert set(session.scalars(sa.select(AuditEvent.actor))) == {f"contact:{event.entity_id}", "system"}
    assert not any(PHONE in str(e.detail) for e in session.scalars(sa.select(AuditEvent)))


def test_delete_erases_the_date_of_birth_too(session, labs):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    assert session.scalars(sa.select(Case.child_birth_date)).one() is not None
    run_transcript(session, [("DELETE", ("cannot be undone",)), (_pin(session), ("Deleted",))])
    assert session.execute(sa.select(Case.child_birth_date, Case.last_seen_date)).one() == (None, None)


def test_deleted_case_cannot_be_booked_and_status_says_withdrawn(session, labs):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    run_transcript(session, [("DELETE", ("cannot be undone",)), (_pin(session), ("Deleted",))])
    # BOOK and STATUS say the same (test_after_delete.py)
    said = "withdrawn at your request, your data deleted"
    run_transcript(session, [("BOOK", (said,)), ("STATUS", (said,))])


def test_delete_can_be_declined(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    run_transcript(session, [("DELETE", ("6-digit PIN",)), ("no", ("nothing was deleted",))])
    case = session.scalars(sa.select(Case)).one()
    assert case.status == CaseStatus.OPEN and case.child_name == "Li Ming"
    assert all(c.withdrawn_at is None for c in session.scalars(sa.select(Consent)))


def test_delete_blanks_the_stored_messages(session_factory):
    from intake.dialogue.types import Incoming
    from intake.inbound.inbox import process
    from intake.models import Channel, utcnow

    for number, (text, _expected) in enumerate(t.REPORT_EN + [("2", ())]):
        process(session_factory, Incoming(Channel.SMS, PHONE, text, utcnow(), provider_id=f"SM{number}"))
    with session_factory() as s:
        pin = _pin(s)
    for number, text in enumerate(["DELETE", pin], 100):
        process(session_factory, Incoming(Channel.SMS, PHONE, text, utcnow(), provider_id=f"SM{number}"))
    with session_factory() as s:
        bodies = s.scalars(sa.select(Message.body)).all()
        assert len(bodies) > 20
        assert not any("Li Ming" in b or "Wang Wei" in b or "Shenzhen" in b for b in bodies)
        assert any("Deleted" in b for b in bodies)  # the last reply, sent after the erasure
