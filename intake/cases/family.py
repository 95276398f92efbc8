"""Family members joining a case: the other parent with the case reference and PIN, and relatives added by role.

`JOIN <case ref> <PIN>` (`加入`) lets the child's other parent join from their own phone; wrong PINs and
unknown references count against the same hourly guessing budget as LINK (`intake.labs.walkins`), per contact and in
total, and every attempt is recorded and audited. The dialogue words the outcomes and asks for consent and a
booking next. Relatives (a full sibling, a grandparent...) are persons whose role is their relationship to the
missing child.

The same person on another channel (a mother who reported by SMS, now in the Telegram bot) is not a new person:
when the role picked is held by a person whose contact is on another channel, `join_case` answers CLAIMABLE, the
dialogue asks "is that you?", and `join_case(..., claim=True)` links this contact to that person
(`PersonContact`) after checking the reference and PIN again. Only a role held by a person with a contact on
another channel can be claimed; the original contact is told on its own channel (outbox) and it is audited.

A withdrawn case (its reporter sent DELETE) cannot be joined: once the reference and PIN are right, the answer is
WITHDRAWN and nobody is added. A child has one mother and one father: a JOIN as a parent whose role another
person of the case holds already (and who is not claimable as the same person) answers ROLE_HELD, and the
dialogue asks the person to check their role; `second=True` (they confirm it) adds them all the same, and the
reporting contact is told on their own channel (outbox template `case.role_joined`), as for a linked chat.

    join_case(session, contact, reference, pin, role, *, claim=None, second=False) -> JoinResult
    add_relative(session, case, role, *, actor, name=None, contact=None) -> Person
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.merge import followed
from intake.cases.pins import case_pin_locked, guessing_locked
from intake.models import (
    FAMILY_ROLES,
    Case,
    CaseStatus,
    Channel,
    Contact,
    LinkAttempt,
    Person,
    PersonContact,
    Role,
    audit,
    persons_of_contact,
)
from intake.outbox.queue import notify_family
from intake.platform.codes import normalise_case_reference
from intake.platform.errors import InputError
from intake.platform.i18n import N_, translate
from intake.platform.secret_compare import same_secret


def contact_cases(session: Session, contact: Contact) -> list[Case]:
    member = sa.select(Person.case_id).where(persons_of_contact(contact.id))
    return list(
        session.scalars(
            sa.select(Case)
            .where(sa.or_(Case.reported_by_contact_id == contact.id, Case.id.in_(member)))
            .order_by(Case.id)
        )
    )


class JoinOutcome(enum.StrEnum):
    """What a JOIN attempt did."""

    JOINED = "joined"
    ALREADY = "already"  # the contact already has this role in the case
    # The role is held by a person on another channel: ask whether it is the same person.
    CLAIMABLE = "claimable"
    LINKED = "linked"  # this contact is now a further contact of that person
    NOT_CLAIMABLE = "not_claimable"  # claimed to be a person nobody on another channel is in that role
    ROLE_HELD = "role_held"  # another person is the child's mother (father) already: ask the person to check
    WITHDRAWN = "withdrawn"  # the reference and PIN are right, but the family withdrew the case
    WRONG_PIN = "wrong_pin"
    UNKNOWN_CASE = "unknown_case"
    LOCKED = "locked"


@dataclass(frozen=True)
class JoinResult:
    """The outcome of a JOIN, and on success the person the contact now is in the case."""

    outcome: JoinOutcome
    person_id: int | None = None


_SUCCESS = (JoinOutcome.JOINED, JoinOutcome.ALREADY, JoinOutcome.CLAIMABLE, JoinOutcome.LINKED,
            JoinOutcome.ROLE_HELD)  # fmt: skip
ONE_PER_CHILD = (Role.MOTHER, Role.FATHER)  # roles a child has one of
# The role words of the notice to the reporting contact (the dialogue's own words live in dialogue.casefile).
ROLE_NAMES = {Role.MOTHER: N_("mother"), Role.FATHER: N_("father")}
CHANNEL_NAMES = {
    Channel.SMS: N_("SMS"),
    Channel.TELEGRAM: N_("Telegram"),
    Channel.TERMINAL: N_("the terminal chat"),
}


def claimable_person(session: Session, case: Case, contact: Contact, role: Role) -> Person | None:
    """Return the person of `case` in `role` whom this contact may say they are: one whose own contact is on
    another channel (a second phone on the same channel is a different person), not yet linked to this one."""
    query = (
        sa.select(Person)
        .join(Contact, Contact.id == Person.contact_id)
        .where(Person.case_id == case.id, Person.role == role, Contact.channel != contact.channel)
        .where(sa.not_(persons_of_contact(contact.id)))
    )
    return session.scalars(query.order_by(Person.id)).first()


def _link_contact(session: Session, contact: Contact, case: Case, person: Person) -> None:
    session.add(PersonContact(person_id=person.id, contact_id=contact.id, how="join_pin"))
    original = session.get_one(Contact, person.contact_id)
    _tell(session, original, case, f"person:{person.id}:linked:{contact.id}", "contact.linked",
          channel=CHANNEL_NAMES[contact.channel])  # fmt: skip


def _tell(session: Session, contact: Contact, case: Case, key: str, template: str, **words: str) -> None:
    """Queue a family message about `case` to `contact`: its reference, and `words` (msgids) in their language."""
    params = {"reference": case.reference} | {n: translate(contact.language, w) for n, w in words.items()}
    notify_family(session, contact=contact, key=key, template=template, params=params, case_id=case.id)


def _record(
    session: Session, contact: Contact, outcome: JoinOutcome, case: Case | None, person: Person | None
) -> JoinResult:
    # Failures share the LINK attempts table, so both secrets draw on one guessing budget; a wrong PIN also
    # counts against its case's own budget.
    case_id = case.id if case is not None and outcome is JoinOutcome.WRONG_PIN else None
    session.add(LinkAttempt(contact_id=contact.id, outcome=f"join_{outcome.value}", case_id=case_id))
    action = "case.join" if outcome in _SUCCESS else "case.join_failure"
    detail = {"person": person.id} if person is not None and outcome is JoinOutcome.LINKED else {}
    audit(session, f"contact:{contact.id}", action, "case", case.id if case else None, outcome=outcome.value,
          **detail)  # fmt: skip
    session.flush()
    return JoinResult(outcome, person.id if person else None)


def holder(session: Session, case: Case, role: Role, contact: Contact) -> Person | None:
    """Return the person other than this contact who is the child's mother (father) in the case, if any."""
    if role not in ONE_PER_CHILD:
        return None
    query = sa.select(Person).where(
        Person.case_id == case.id, Person.role == role, sa.not_(persons_of_contact(contact.id))
    )
    return session.scalars(query.order_by(Person.id)).first()


def _tell_reporter(session: Session, case: Case, person: Person) -> None:
    """Tell the reporting contact that someone joined in a parent's role held already (their own channel)."""
    if case.reported_by_contact_id is None:
        return
    reporter = session.get_one(Contact, case.reported_by_contact_id)
    _tell(session, reporter, case, f"person:{person.id}:role_joined", "case.role_joined",
          role=ROLE_NAMES[person.role])  # fmt: skip


def join_case(
    session: Session,
    contact: Contact,
    reference: str,
    pin: str,
    role: Role,
    *,
    claim: bool | None = None,
    second: bool = False,
) -> JoinResult:
    """Make the contact a person of the case in `role` if the reference and PIN are right.

    When a person on another channel holds the role, `claim` says whether the contact is that person: None (not
    asked yet) answers CLAIMABLE with that person, True links the contact to them, False adds a new person.
    A parent's role held by another person answers ROLE_HELD unless `second` (the person confirmed it).
    """
    if role not in FAMILY_ROLES:
        raise InputError(N_("Only a parent or a relative of the child can join a case."))
    if guessing_locked(session, contact):
        return _record(session, contact, JoinOutcome.LOCKED, None, None)
    wanted = normalise_case_reference(reference) or reference.strip().upper()
    case = session.scalars(sa.select(Case).where(Case.reference == wanted)).first()
    if case is None:
        return _record(session, contact, JoinOutcome.UNKNOWN_CASE, None, None)
    if case_pin_locked(session, case.id):
        return _record(session, contact, JoinOutcome.LOCKED, case, None)
    if not same_secret(pin.strip(), case.pin):
        return _record(session, contact, JoinOutcome.WRONG_PIN, case, None)
    case = followed(session, case)  # a report linked into another case: its reference and PIN join that case
    if case.status == CaseStatus.WITHDRAWN:
        return _record(session, contact, JoinOutcome.WITHDRAWN, case, None)
    person = session.scalars(
        sa.select(Person).where(
            Person.case_id == case.id, persons_of_contact(contact.id), Person.role == role
        )
    ).first()
    if person is not None:
        return _record(session, contact, JoinOutcome.ALREADY, case, person)
    same = claimable_person(session, case, contact, role) if claim is not False else None
    if same is not None and claim is None:
        return _record(session, contact, JoinOutcome.CLAIMABLE, case, same)
    if same is not None:
        _link_contact(session, contact, case, same)
        return _record(session, contact, JoinOutcome.LINKED, case, same)
    if claim:  # nobody to be: never a new person without their own consents
        return _record(session, contact, JoinOutcome.NOT_CLAIMABLE, case, None)
    held = holder(session, case, role, contact)
    if held is not None and not second:
        return _record(session, contact, JoinOutcome.ROLE_HELD, case, None)
    person = Person(case_id=case.id, role=role, contact_id=contact.id)
    session.add(person)
    session.flush()
    if held is not None:
        _tell_reporter(session, case, person)
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
