"""Walk-in samples taken at a lab, and LINK: the person attaches such a sample to their case with a one-time code.

Link codes are ten characters from a cryptographically secure generator (31**10, about 49.5 bits) and a check
character, stored only as a SHA-256 hash and used once. Wrong attempts are limited per contact and in total per
hour (so guessing across many phone numbers fails too), wrong case PINs per code; every attempt is recorded in
`link_attempts` and audited. `link_walk_in` answers with an outcome instead of raising, so the caller commits
the record of a failed attempt too.

    register_walk_in(session, *, lab_id, actor, source, role, sex, case_reference=None, by=None) -> (Sample, code)
    link_walk_in(session, contact, link_code, pin=None, *, case_reference=None) -> LinkResult
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.consent import case_consents_recorded
from intake.cases.family import contact_cases
from intake.cases.pins import guessing_locked
from intake.labs.profiles import current_profile
from intake.matches.queue import enqueue_search
from intake.models import (
    SIDED_ROLES,
    Case,
    CaseStatus,
    Contact,
    CustodyEventType,
    LinkAttempt,
    LinkCode,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
    audit,
    persons_of_contact,
    utcnow,
)
from intake.platform.codes import (
    ALPHABET,
    check_character,
    insert_with_unique_code,
    new_sample_code,
    normalise_sample_code,
)
from intake.platform.secret_compare import same_secret
from intake.samples.custody import append_event
from intake.samples.fit import check_walk_in

LINK_DATA_CHARS = 10
MAX_WRONG_PINS_PER_CODE = 5


class LinkOutcome(enum.StrEnum):
    """What a LINK attempt did; the dialogue words each one."""

    LINKED = "linked"
    NEED_PIN = "need_pin"  # the sample belongs to a case the contact is not part of: ask for its PIN
    WRONG_CODE = "wrong_code"
    WRONG_PIN = "wrong_pin"
    USED = "used"  # the code was used already
    LOCKED = "locked"  # too many wrong attempts: try again later
    NO_CASE = "no_case"  # the contact has no case to link to: report first
    SEVERAL_CASES = "several_cases"  # the contact has several cases: the officer links it
    CONSENT_MISSING = "consent_missing"
    WITHDRAWN = "withdrawn"  # the case was withdrawn by its family (DELETE): nothing more is linked to it


@dataclass(frozen=True)
class LinkResult:
    """The outcome of a LINK attempt, and on success the sample and the case it joined."""

    outcome: LinkOutcome
    sample_code: str | None = None
    case_reference: str | None = None


def new_link_code() -> str:
    """Return a new link code such as "K7QX-M2PD-4F7" (ten random characters and a check character)."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(LINK_DATA_CHARS))
    code = data + check_character(data)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _compact_link_code(text: str) -> str | None:
    compact = normalise_sample_code(text).replace("-", "")
    if len(compact) != LINK_DATA_CHARS + 1 or any(ch not in ALPHABET for ch in compact):
        return None
    return compact if check_character(compact[:-1]) == compact[-1] else None


def _hash(compact: str) -> str:
    return hashlib.sha256(compact.encode()).hexdigest()


def register_walk_in(
    session: Session,
    *,
    lab_id: int,
    actor: str,
    source: SampleSource,
    role: Role,
    sex: Sex,
    case: Case | None = None,
    by: str | None = None,
) -> tuple[Sample, str]:
    """Create a sample taken now at the lab, collected, with a one-time link code for the person; return both.

    Source, role, sex and case must fit together (`intake.samples.fit.check_walk_in`).
    """
    check_walk_in(session, source=source, role=role, sex=sex, case=case)
    sample = insert_with_unique_code(
        session,
        lambda: Sample(
            code=new_sample_code(), source=source, case_id=case.id if case else None, lab_id=lab_id, sex=sex
        ),
    )
    link_code = new_link_code()
    session.add(LinkCode(sample_id=sample.id, code_hash=_hash(link_code.replace("-", "")), role=role))
    append_event(session, sample, CustodyEventType.COLLECTED, actor=actor, lab_id=lab_id, by=by)
    audit(session, actor, "sample.walk_in", "sample", sample.id, lab=lab_id, case=case.id if case else None)
    return sample, link_code


def _finish(
    session: Session, contact: Contact, outcome: LinkOutcome, code: LinkCode | None, **detail: object
) -> LinkResult:
    session.add(
        LinkAttempt(contact_id=contact.id, link_code_id=code.id if code else None, outcome=outcome.value)
    )
    action = "link.success" if outcome is LinkOutcome.LINKED else "link.failure"
    sample_id = code.sample_id if code else None
    audit(session, f"contact:{contact.id}", action, "sample", sample_id, outcome=outcome.value, **detail)
    session.flush()
    return LinkResult(outcome, **{k: v for k, v in detail.items() if k in ("sample_code", "case_reference")})  # type: ignore[arg-type]


def link_walk_in(
    session: Session,
    contact: Contact,
    link_code: str,
    pin: str | None = None,
    *,
    case_reference: str | None = None,
) -> LinkResult:
    """Link the walk-in sample of `link_code` to the contact's case (or, with its PIN, to the sample's case).

    A contact with several cases names the one the sample is for with `case_reference` (one of their own).
    """
    if guessing_locked(session, contact):
        return _finish(session, contact, LinkOutcome.LOCKED, None)
    compact = _compact_link_code(link_code)
    code = (
        session.scalars(sa.select(LinkCode).where(LinkCode.code_hash == _hash(compact))).first()
        if compact
        else None
    )
    if code is None:
        return _finish(session, contact, LinkOutcome.WRONG_CODE, None)
    if code.used_at is not None:
        return _finish(session, contact, LinkOutcome.USED, code)
    if code.failed_attempts >= MAX_WRONG_PINS_PER_CODE:
        return _finish(session, contact, LinkOutcome.LOCKED, code)
    sample = session.get_one(Sample, code.sample_id)
    mine = contact_cases(session, contact)
    if sample.case_id is not None:
        case = session.get_one(Case, sample.case_id)
        if case not in mine:
            if not pin:
                return _finish(session, contact, LinkOutcome.NEED_PIN, code)
            if not same_secret(pin.strip(), case.pin):
                code.failed_attempts += 1
                return _finish(session, contact, LinkOutcome.WRONG_PIN, code)
    else:
        if case_reference is not None:
            mine = [c for c in mine if c.reference == case_reference.strip().upper()] or mine
        if len(mine) != 1:
            return _finish(
                session, contact, LinkOutcome.NO_CASE if not mine else LinkOutcome.SEVERAL_CASES, code
            )
        case = mine[0]
    return _link(session, contact, code, sample, case)


def _link(session: Session, contact: Contact, code: LinkCode, sample: Sample, case: Case) -> LinkResult:
    if case.status == CaseStatus.WITHDRAWN:
        return _finish(session, contact, LinkOutcome.WITHDRAWN, code, case_reference=case.reference)
    mine = session.scalars(
        sa.select(Person).where(Person.case_id == case.id, persons_of_contact(contact.id)).order_by(Person.id)
    ).all()
    # The contact's own person of that role; a lab that recorded an unsided role (grandparent) means the person
    # who joined with its side (paternal_grandmother), whose consents are on record.
    person = next((p for p in mine if p.role == code.role), None) or next(
        (p for p in mine if p.role in SIDED_ROLES.get(Role(code.role), ())), None
    )
    if not case_consents_recorded(session, case, person.id if person else None):
        return _finish(session, contact, LinkOutcome.CONSENT_MISSING, code)
    if person is None:
        person = Person(case_id=case.id, role=code.role, contact_id=contact.id)
        session.add(person)
        session.flush()
    sample.case_id, sample.person_id = case.id, person.id
    code.used_at, code.used_by_contact_id = utcnow(), contact.id
    profile = current_profile(session, sample)
    if profile is not None:
        enqueue_search(session, profile.id)  # typed before it was linked: searched now it has a person
        audit(
            session,
            f"contact:{contact.id}",
            "profile.link",
            "profile",
            profile.id,
            person=person.id,
            case=case.id,
        )
    return _finish(
        session, contact, LinkOutcome.LINKED, code, sample_code=sample.code, case_reference=case.reference,
        case=case.id, person=person.id,
    )  # fmt: skip


def case_of_link_code(session: Session, link_code: str) -> Case | None:
    """Return the case a walk-in sample's link code was registered for, if any."""
    compact = _compact_link_code(link_code)
    if compact is None:
        return None
    code = session.scalars(sa.select(LinkCode).where(LinkCode.code_hash == _hash(compact))).first()
    sample = session.get(Sample, code.sample_id) if code is not None else None
    return session.get(Case, sample.case_id) if sample is not None and sample.case_id is not None else None
