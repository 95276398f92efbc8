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
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.codes import (
    ALPHABET,
    check_character,
    insert_with_unique_code,
    new_sample_code,
    normalise_sample_code,
)
from intake.custody import append_event
from intake.lab_profiles import current_profile
from intake.match_queue import enqueue_search
from intake.models import (
    Case,
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
from intake.sample_consent import case_consents_recorded
from intake.sample_fit import check_walk_in

LINK_DATA_CHARS = 10
# Guessing budgets. One contact: 5 wrong secrets an hour. One case: 10 wrong PINs a day, from any number of
# phones, so a case whose reference is known (a poster, a news story) cannot have its PIN (10^6) guessed by a
# crowd: a year of guessing finds it with odds under 1 in 250. Everyone together: 1,000 an hour, the backstop
# against guessing references and PINs at random (a reference has 32^5 values, so the odds stay negligible); it
# used to be 50, which let one guesser with a dozen numbers lock every honest JOIN, LINK and DELETE for an hour.
MAX_FAILURES_PER_CONTACT_HOUR = 5
MAX_WRONG_PINS_PER_CASE_DAY = 10
MAX_FAILURES_PER_HOUR = 1000
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


# Failed LINK attempts, and failed JOINs (`intake.family`) and DELETE PINs (`intake.erasure`), which share the budget.
FAILURES = ("wrong_code", "wrong_pin", "used", "join_wrong_pin", "join_unknown_case", "erase_wrong_pin")


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

    Source, role, sex and case must fit together (`intake.sample_fit.check_walk_in`).
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


def _failures_since(
    session: Session, since: object, contact: Contact | None = None, case_id: int | None = None
) -> int:
    query = sa.select(sa.func.count()).where(LinkAttempt.at >= since, LinkAttempt.outcome.in_(FAILURES))
    if contact is not None:
        query = query.where(LinkAttempt.contact_id == contact.id)
    if case_id is not None:
        query = query.where(LinkAttempt.case_id == case_id)
    return int(session.scalar(query) or 0)


def contact_cases(session: Session, contact: Contact) -> list[Case]:
    member = sa.select(Person.case_id).where(persons_of_contact(contact.id))
    return list(
        session.scalars(
            sa.select(Case)
            .where(sa.or_(Case.reported_by_contact_id == contact.id, Case.id.in_(member)))
            .order_by(Case.id)
        )
    )


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


def guessing_locked(session: Session, contact: Contact) -> bool:
    """Tell whether this contact, or everyone together, failed too often in the last hour to try a secret again."""
    hour_ago = utcnow() - timedelta(hours=1)
    return (
        _failures_since(session, hour_ago, contact) >= MAX_FAILURES_PER_CONTACT_HOUR
        or _failures_since(session, hour_ago) >= MAX_FAILURES_PER_HOUR
    )


def case_pin_locked(session: Session, case_id: int) -> bool:
    """Tell whether the case's PIN was tried wrong too often in the last day, from any phones, to try it again."""
    day_ago = utcnow() - timedelta(days=1)
    return _failures_since(session, day_ago, case_id=case_id) >= MAX_WRONG_PINS_PER_CASE_DAY


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
            if not secrets.compare_digest(pin.strip(), case.pin):
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
    person = session.scalars(
        sa.select(Person).where(
            Person.case_id == case.id, persons_of_contact(contact.id), Person.role == code.role
        )
    ).first()
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
