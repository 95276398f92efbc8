"""Guessing a case PIN to join someone else's case: locked per contact, and for everyone together, and audited.

`intake.family.join_case` shares the LINK attempts budget (`intake.walkins.guessing_locked`): five failures of one
contact in an hour lock that contact out, even with the right PIN then; fifty failures of everyone in an hour
lock all out, so guessing from many numbers does not get further. Every attempt is in the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa

from intake.family import JoinOutcome, join_case
from intake.models import AuditEvent, Channel, Contact, Person, Role
from intake.walkins import MAX_FAILURES_PER_CONTACT_HOUR, MAX_FAILURES_PER_HOUR
from tests.labs.factories import make_case


def _contact(session, n: int) -> Contact:
    contact = Contact(channel=Channel.SMS, address=f"+86137{n:08d}")
    session.add(contact)
    session.flush()
    return contact


def _wrong(pin: str) -> str:
    return "0000" if pin != "0000" else "1111"


def test_one_contact_guessing_a_pin_is_locked_out_even_for_the_right_pin(session):
    case = make_case(session)
    guesser = _contact(session, 1)
    outcomes = [
        join_case(session, guesser, case.reference, _wrong(case.pin), Role.MOTHER).outcome for _ in range(7)
    ]
    assert outcomes == [JoinOutcome.WRONG_PIN] * MAX_FAILURES_PER_CONTACT_HOUR + [JoinOutcome.LOCKED] * 2
    assert join_case(session, guesser, case.reference, case.pin, Role.MOTHER).outcome is JoinOutcome.LOCKED
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.contact_id == guesser.id))
        == 0
    )
    honest = _contact(session, 2)  # another contact is not locked by one guesser
    assert join_case(session, honest, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.JOINED
    failures = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.join_failure")).all()
    assert len(failures) == 8 and {f.actor for f in failures} == {f"contact:{guesser.id}"}
    assert [f.detail["outcome"] for f in failures].count("locked") == 3


def test_guessing_from_many_numbers_locks_everyone_out(session):
    case = make_case(session)
    # Four tries from each of many numbers: every one under the per-contact limit.
    guessers = [_contact(session, 100 + n) for n in range(-(-MAX_FAILURES_PER_HOUR // 4))]
    for n in range(MAX_FAILURES_PER_HOUR):
        outcome = join_case(session, guessers[n // 4], case.reference, _wrong(case.pin), Role.MOTHER).outcome
        assert outcome is JoinOutcome.WRONG_PIN
    late = _contact(session, 999)
    assert join_case(session, late, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.LOCKED
    failures = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.join_failure")
    )
    assert failures == MAX_FAILURES_PER_HOUR + 1
