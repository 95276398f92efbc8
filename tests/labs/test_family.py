"""JOIN and relatives: the other parent joins with the case reference and PIN; guessing shares LINK's lockout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.family import JoinOutcome, add_relative, join_case
from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR
from intake.labs.walkins import LinkOutcome, link_walk_in
from intake.models import AuditEvent, Person, Role
from intake.platform.errors import InputError
from tests.support.factories import make_case, sms_contact


def _wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def test_the_other_parent_joins_with_the_reference_and_pin_once(session):
    case = make_case(session)
    father = sms_contact(session, "+8613900000001")
    typed = " ".join(case.reference.lower().split("-"))  # "mc 2026 4f7k2q", as a phone keyboard gives it
    joined = join_case(session, father, typed, case.pin, Role.FATHER)
    assert joined.outcome is JoinOutcome.JOINED
    person = session.get_one(Person, joined.person_id)
    assert (person.case_id, person.role, person.contact_id) == (case.id, Role.FATHER, father.id)
    assert join_case(session, father, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.ALREADY
    assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "case.join")) == 2


def test_wrong_pins_and_unknown_cases_lock_the_contact_out_of_join_and_link(session):
    case = make_case(session)
    guesser = sms_contact(session, "+8613900000002")
    outcomes = [join_case(session, guesser, case.reference, _wrong(case.pin), Role.FATHER).outcome
                for _ in range(MAX_FAILURES_PER_CONTACT_HOUR - 1)]  # fmt: skip
    outcomes.append(join_case(session, guesser, "MC-2026-ZZZZZZ", case.pin, Role.FATHER).outcome)
    assert set(outcomes) == {JoinOutcome.WRONG_PIN, JoinOutcome.UNKNOWN_CASE}
    assert join_case(session, guesser, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.LOCKED
    assert link_walk_in(session, guesser, "2222-2222-222").outcome is LinkOutcome.LOCKED
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.contact_id == guesser.id))
        == 0
    )


def test_relatives_are_added_with_their_relationship_to_the_child_as_role(session):
    case = make_case(session)
    sister = add_relative(session, case, Role.FULL_SIBLING, actor="contact:1", name="小红")
    grandma = add_relative(session, case, Role.GRANDPARENT, actor="contact:1")
    assert (sister.role, grandma.role) == (Role.FULL_SIBLING, Role.GRANDPARENT)
    with pytest.raises(InputError):
        add_relative(session, case, Role.OFFICER, actor="contact:1")
    with pytest.raises(InputError):
        join_case(session, sms_contact(session, "+8613900000003"), case.reference, case.pin, Role.CHILD)
