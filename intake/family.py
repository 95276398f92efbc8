"""Family members joining a case: the other parent with the case reference and PIN, and relatives added by role.

`JOIN <case ref> <PIN>` (`加入`) lets the child's other parent join from their own phone; wrong PINs and
unknown references count against the same hourly guessing budget as LINK (`intake.walkins`), per contact and in
total, and every attempt is recorded and audited. The dialogue words the outcomes and asks for consent and a
booking next. Relatives (a full sibling, a grandparent...) are persons whose role is their relationship to the
missing child.

    join_case(session, contact, reference, pin, role) -> JoinResult
    add_relative(session, case, role, *, actor, name=None, contact=None) -> Person
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.codes import normalise_case_reference
from intake.errors import InputError
from intake.i18n import N_
from intake.models import Case, Contact, LinkAttempt, Person, Role, audit
from intake.walkins import guessing_locked

FAMILY_ROLES = (
    Role.MOTHER, Role.FATHER, Role.FULL_SIBLING, Role.HALF_SIBLING, Role.GRANDPARENT, Role.AUNT_UNCLE,
    Role.OTHER_RELATIVE,
)  # fmt: skip


class JoinOutcome(enum.StrEnum):
    """What a JOIN attempt did."""

    JOINED = "joined"
    ALREADY = "already"  # the contact already has this role in the case
    WRONG_PIN = "wrong_pin"
    UNKNOWN_CASE = "unknown_case"
    LOCKED = "locked"


@dataclass(frozen=True)
class JoinResult:
    """The outcome of a JOIN, and on success the person the contact now is in the case."""

    outcome: JoinOutcome
    person_id: int | None = None


def _record(
    session: Session, contact: Contact, outcome: JoinOutcome, case: Case | None, person: Person | None
) -> JoinResult:
    # Failures share the LINK attempts table, so both secrets draw on one guessing budget.
    session.add(LinkAttempt(contact_id=contact.id, outcome=f"join_{outcome.value}"))
    action = "case.join" if outcome in (JoinOutcome.JOINED, JoinOutcome.ALREADY) else "case.join_failure"
    audit(session, f"contact:{contact.id}", action, "case", case.id if case else None, outcome=outcome.value)
    session.flush()
    return JoinResult(outcome, person.id if person else None)


def join_case(session: Session, contact: Contact, reference: str, pin: str, role: Role) -> JoinResult:
    """Make the contact a person of the case in `role` if the reference and PIN are right."""
    if role not in FAMILY_ROLES:
        raise InputError(N_("Only a parent or a relative of the child can join a case."))
    if guessing_locked(session, contact):
        return _record(session, contact, JoinOutcome.LOCKED, None, None)
    wanted = normalise_case_reference(reference) or reference.strip().upper()
    case = session.scalars(sa.select(Case).where(Case.reference == wanted)).first()
    if case is None:
        return _record(session, contact, JoinOutcome.UNKNOWN_CASE, None, None)
    if not secrets.compare_digest(pin.strip(), case.pin):
        return _record(session, contact, JoinOutcome.WRONG_PIN, case, None)
    person = session.scalars(
        sa.select(Person).where(
            Person.case_id == case.id, Person.contact_id == contact.id, Person.role == role
        )
    ).first()
    if person is not None:
        return _record(session, contact, JoinOutcome.ALREADY, case, person)
    person = Person(case_id=case.id, role=role, contact_id=contact.id)
    session.add(person)
    session.flush()
    return _record(session, contact, JoinOutcome.JOINED, case, person)


def add_relative(
    session: Session,
    case: Case,
    role: Role,
    *,
    actor: str,
    name: str | None = None,
    contact: Contact | None = None,
) -> Person:
    """Add a parent or relative of the missing child to the case (each gets their own sample when booked)."""
    if role not in FAMILY_ROLES:
        raise InputError(N_("Only a parent or a relative of the child can join a case."))
    person = Person(case_id=case.id, role=role, name=name, contact_id=contact.id if contact else None)
    session.add(person)
    session.flush()
    audit(session, actor, "case.add_person", "case", case.id, person=person.id, role=role.value)
    return person
