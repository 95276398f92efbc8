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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    as_utc,
    audit,
    persons_of_contact,
    utcnow,
)
from intake.outbox import notify_family
from intake.sample_consent import case_consents_recorded
from intake.sample_fit import check_walk_in
from intake.secret_compare import same_secret

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
    WITHDRAWN = "withdrawn"  # the case was withdrawn by its family (DELETE): nothing more is linked to it


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


class LockKind(enum.StrEnum):
    """Whose wrong tries locked a secret out: the words a person reads depend on it (docs/dialogue.md)."""

    CONTACT = "contact"  # this phone failed too often in the last hour
    CASE = (
        "case"  # the case's PIN was sent wrong too often in the last day, from any phones: maybe not this one
    )
    EVERYONE = "everyone"  # everyone together failed too often in the last hour


@dataclass(frozen=True)
class Lock:
    """A lockout, and when it ends: when the oldest failure that keeps the count at its limit leaves the window."""

    kind: LockKind
    until: datetime
    case_id: int | None = None  # the case whose PIN is locked (LockKind.CASE)


def _lock(session: Session, kind: LockKind, window: timedelta, limit: int, **where: Any) -> Lock | None:
    since = utcnow() - window
    if _failures_since(session, since, **where) < limit:
        return None
    query = sa.select(LinkAttempt.at).where(LinkAttempt.at >= since, LinkAttempt.outcome.in_(FAILURES))
    if (contact := where.get("contact")) is not None:
        query = query.where(LinkAttempt.contact_id == contact.id)
    if (case_id := where.get("case_id")) is not None:
        query = query.where(LinkAttempt.case_id == case_id)
    # The lock lifts when all but limit - 1 of the failures in the window have left it.
    times = list(session.scalars(query.order_by(LinkAttempt.at.desc()).limit(limit)))
    return Lock(kind, as_utc(times[-1]) + window, where.get("case_id"))


def guessing_lock(session: Session, contact: Contact) -> Lock | None:
    """Return the lock on this contact's tries (its own failures, or everyone's, in the last hour), or None."""
    hour = timedelta(hours=1)
    return _lock(session, LockKind.CONTACT, hour, MAX_FAILURES_PER_CONTACT_HOUR, contact=contact) or _lock(
        session, LockKind.EVERYONE, hour, MAX_FAILURES_PER_HOUR
    )


def case_pin_lock(session: Session, case_id: int) -> Lock | None:
    """Return the lock on the case's PIN (wrong too often in the last day, from any phones), or None."""
    return _lock(session, LockKind.CASE, timedelta(days=1), MAX_WRONG_PINS_PER_CASE_DAY, case_id=case_id)


def pin_lock(session: Session, contact: Contact, case_ids: Iterable[int] = ()) -> Lock | None:
    """Return what locks this contact out of trying a PIN of these cases now (its own budget first), or None."""
    return guessing_lock(session, contact) or next(
        (lock for case_id in case_ids if (lock := case_pin_lock(session, case_id)) is not None), None
    )


def guessing_locked(session: Session, contact: Contact) -> bool:
    """Tell whether this contact, or everyone together, failed too often in the last hour to try a secret again."""
    return guessing_lock(session, contact) is not None


def case_pin_locked(session: Session, case_id: int) -> bool:
    """Tell whether the case's PIN was tried wrong too often in the last day, from any phones, to try it again."""
    return case_pin_lock(session, case_id) is not None


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


# A lost PIN is sent again only to the phone that reported the case, a few times a day (so nobody can use the
# reporter's phone as a pager); every request is recorded in `link_attempts` (not a failure: no secret was tried)
# and audited.
MAX_PIN_RESENDS_PER_CASE_DAY = 3
MAX_PIN_RESENDS_PER_CONTACT_DAY = 3
PIN_RESEND = "pin_resend"


class ResendOutcome(enum.StrEnum):
    """What a lost-PIN request did."""

    SENT = "sent"  # queued to the case's reporting contact, on its own channel
    LIMITED = "limited"  # sent often enough today: nothing sent
    UNREACHABLE = "unreachable"  # the reporter has no channel we can send on (opted out, a terminal, none)


@dataclass(frozen=True)
class Resend:
    """The outcome of a lost-PIN request, and whether the asker is the reporting contact (the PIN came to them)."""

    outcome: ResendOutcome
    to_asker: bool = False


def _resends_since(session: Session, since: object, **where: object) -> int:
    query = sa.select(sa.func.count()).where(LinkAttempt.at >= since, LinkAttempt.outcome == PIN_RESEND)
    for column, value in where.items():
        query = query.where(getattr(LinkAttempt, column) == value)
    return int(session.scalar(query) or 0)


def resend_case_pin(session: Session, asker: Contact, case: Case | None, *, why: str) -> Resend:
    """Send the case's PIN again, only to the contact that reported the case, with the case reference; never to
    the asker unless the asker is that contact. `case` None (an unknown reference) sends nothing, but is counted
    and audited the same, so the asker cannot tell which references exist. `why`: join, link or delete."""
    day_ago = utcnow() - timedelta(days=1)
    limited = _resends_since(session, day_ago, contact_id=asker.id) >= MAX_PIN_RESENDS_PER_CONTACT_DAY or (
        case is not None and _resends_since(session, day_ago, case_id=case.id) >= MAX_PIN_RESENDS_PER_CASE_DAY
    )
    reporter = (
        session.get(Contact, case.reported_by_contact_id)
        if case is not None and case.reported_by_contact_id is not None
        else None
    )
    to_asker = reporter is not None and reporter.id == asker.id
    outcome = ResendOutcome.LIMITED if limited else ResendOutcome.UNREACHABLE
    attempt = None
    if not limited:
        attempt = LinkAttempt(contact_id=asker.id, outcome=PIN_RESEND, case_id=case.id if case else None)
        session.add(attempt)
        session.flush()
    if attempt is not None and case is not None and reporter is not None and not reporter.opted_out:
        sent = notify_family(
            session, contact=reporter, key=f"case:{case.id}:pin_resent:{attempt.id}", template="case.pin_resent",
            params={"reference": case.reference, "pin": case.pin}, case_id=case.id,
        )  # fmt: skip
        outcome = ResendOutcome.SENT if sent is not None else ResendOutcome.UNREACHABLE
    audit(
        session, f"contact:{asker.id}", "case.pin_resend", "case", case.id if case else None,
        outcome=outcome.value, why=why, to_reporter=reporter.id if reporter else None,
    )  # fmt: skip
    return Resend(outcome, to_asker and outcome is ResendOutcome.SENT)


def case_of_link_code(session: Session, link_code: str) -> Case | None:
    """Return the case a walk-in sample's link code was registered for, if any."""
    compact = _compact_link_code(link_code)
    if compact is None:
        return None
    code = session.scalars(sa.select(LinkCode).where(LinkCode.code_hash == _hash(compact))).first()
    sample = session.get(Sample, code.sample_id) if code is not None else None
    return session.get(Case, sample.case_id) if sample is not None and sample.case_id is not None else None
