"""Guessing a case PIN to join someone else's case: locked per contact, per case, for everyone together; audited.

`intake.cases.family.join_case` shares the LINK attempts budget (`intake.cases.pins.guessing_locked`): five failures of one
contact in an hour lock that contact out, even with the right PIN then; ten wrong PINs for one case in a day, from
any numbers, lock that case's JOIN (and DELETE) alone (`case_pin_locked`), so a crowd of numbers gets no further
and nobody else is locked; a thousand failures of everyone in an hour lock all out. Every attempt is audited.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from intake.cases.family import JoinOutcome, join_case
from intake.cases.pins import (
    MAX_FAILURES_PER_CONTACT_HOUR,
    MAX_FAILURES_PER_HOUR,
    MAX_WRONG_PINS_PER_CASE_DAY,
)
from intake.models import AuditEvent, Contact, LinkAttempt, Person, Role
from intake.platform import clock
from tests.support.factories import make_case, sms_contact


def _contact(session, n: int) -> Contact:
    return sms_contact(session, f"+86137{n:08d}")


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


def test_guessing_one_case_from_many_numbers_locks_that_case_alone_for_a_day(session):
    case, other = make_case(session), make_case(session)
    # Four tries from each of several numbers: every one under the per-contact limit.
    guessers = [_contact(session, 100 + n) for n in range(-(-MAX_WRONG_PINS_PER_CASE_DAY // 4))]
    for n in range(MAX_WRONG_PINS_PER_CASE_DAY):
        outcome = join_case(session, guessers[n // 4], case.reference, _wrong(case.pin), Role.MOTHER).outcome
        assert outcome is JoinOutcome.WRONG_PIN
    late = _contact(session, 999)
    assert join_case(session, late, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.LOCKED
    # Nobody else is locked: the same new number joins another case with its PIN.
    assert join_case(session, late, other.reference, other.pin, Role.FATHER).outcome is JoinOutcome.JOINED
    failures = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.join_failure")).all()
    assert len(failures) == MAX_WRONG_PINS_PER_CASE_DAY + 1 and {f.entity_id for f in failures} == {
        str(case.id)
    }
    with clock.pinned(clock.now() + timedelta(days=1, minutes=1)):  # a day later the family can join again
        assert join_case(session, late, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.JOINED


def test_guessing_from_many_numbers_at_random_locks_everyone_out_at_the_backstop(session):
    case = make_case(session)
    # The failures of an hour of guessing at random (unknown references), as the attempts table holds them.
    session.add_all(LinkAttempt(outcome="join_unknown_case") for _ in range(MAX_FAILURES_PER_HOUR - 1))
    session.flush()
    guesser = _contact(session, 1)
    assert (
        join_case(session, guesser, "MC-2026-XXXXXX", "123456", Role.MOTHER).outcome
        is JoinOutcome.UNKNOWN_CASE
    )
    late = _contact(session, 999)
    assert join_case(session, late, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.LOCKED
    outcomes = [e.detail["outcome"] for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert outcomes == ["unknown_case", "locked"]
