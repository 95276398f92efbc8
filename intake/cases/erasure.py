"""Erase what a contact told reunite: their cases' personal details, their messages, their appointments.

A parent may ask for their data to be deleted at any time (DELETE / 删除). Which columns are personal data is
declared once, on the columns themselves (`info=personal(...)` in intake/models); erasure writes each declared
column's erased value into every row that belongs to the contact, so a new personal column is erased without a
change here. What stays is what the law and the other families need to know that a case existed and was
withdrawn: the case reference and status, the sample codes, the consents (marked withdrawn, so no lab may book,
take or use a sample of the case from then on), the contact's address (declared kept: replies and STOP need it)
and the audit log, whose actors are pseudonymous (`contact:<id>`) and whose details are ids and counts.

Only the contact's own data goes (docs/reliability.md, "Privacy"): a case another family member also follows
from their own phone stays open for them, with their person, consents, samples and appointments; only the
leaving contact's person, consents, appointments, samples and messages are erased. A case under a **legal hold**
is kept as it is (`legal_holds`): a candidate match an officer is reviewing or approved, whose evidence and
decisions must stay on record until the review is over. A found child's case is never the contact's to erase
(no contact reports it; a volunteer's DELETE erases only their own name and phone). The contact's messages,
conversation and notifications go in every case.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from intake.cases.consent import ConsentBook
from intake.cases.family import contact_cases
from intake.cases.pins import case_pin_locked, guessing_locked
from intake.labs import appointments
from intake.matches.queue import enqueue_withdraw
from intake.models import (
    FAMILY_ROLES,
    Attachment,
    Booking,
    BookingStatus,
    Candidate,
    CandidateReview,
    CandidateStatus,
    Case,
    CaseStatus,
    Consent,
    Contact,
    Conversation,
    DnaProfile,
    FoundChild,
    LineageEvidence,
    LinkAttempt,
    MatchFlag,
    Message,
    Notification,
    Person,
    PersonContact,
    ReviewState,
    Sample,
    SampleStatus,
    YHaplotype,
    audit,
    persons_of_contact,
)
from intake.platform.db import Base
from intake.platform.secret_compare import same_secret


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed, for the audit log and the reply."""

    cases: int
    appointments_cancelled: int
    consents_withdrawn: int
    messages_erased: int
    held: dict[str, str] = field(default_factory=dict)  # case reference -> why it is kept (LegalHold value)
    shared: tuple[str, ...] = ()  # references of cases kept open for another family member


class LegalHold(enum.StrEnum):
    """Why a case is kept although its reporter asked for erasure."""

    MATCH_UNDER_REVIEW = "match_under_review"  # an officer opened the review of a candidate of the case
    MATCH_APPROVED = "match_approved"  # two officers approved a match: the reunion is on record


# Review states that hold a case: an officer is working on the candidate, or it was approved.
HOLDING_REVIEWS = (ReviewState.AWAITING_REVIEW, ReviewState.CONFIRMED, ReviewState.MORE_EVIDENCE)


def erased_values(model: type[Base]) -> dict[str, Any]:
    """Return the value erasure writes into each personal column of `model` that is not kept on purpose."""
    return {
        column.key: column.info["erased"]
        for column in model.__table__.columns
        if column.info.get("personal") and "erased" in column.info
    }


def persons_of(contact_id: int, held: Collection[int] = ()) -> sa.Select[int]:
    """Return a query of the ids of the persons the contact is, in every case they reported or joined
    (but for the cases in `held`)."""
    return sa.select(Person.id).where(persons_of_contact(contact_id), Person.case_id.not_in(list(held)))


def owned_profiles(contact_id: int, case_ids: list[int], held: Collection[int] = ()) -> sa.Select[Any]:
    """Return a query of the ids of the DNA profiles of the contact's cases and of the contact's own samples."""
    samples = sa.select(Sample.id).where(
        sa.or_(Sample.case_id.in_(case_ids), Sample.person_id.in_(persons_of(contact_id, held)))
    )
    return sa.select(DnaProfile.id).where(DnaProfile.sample_id.in_(samples))


def _names_a_profile(
    column: sa.orm.InstrumentedAttribute[str], profiles: sa.Select[Any]
) -> ColumnElement[bool]:
    """Tell whether a comma-joined list of profile ids (matching's candidates and flags) names one of `profiles`."""
    owned = profiles.subquery()
    return sa.exists().where(column.contains(owned.c.id))


def owned_rows(
    contact_id: int, case_ids: list[int], held: Collection[int] = ()
) -> dict[type[Base], ColumnElement[bool]]:
    """Return, for each model with personal data, which of its rows belong to the contact and their cases
    (what belongs to a case in `held`, under a legal hold, is not theirs to erase)."""
    messages = sa.select(Message.id).where(Message.contact_id == contact_id)
    own_persons = persons_of(contact_id, held)
    profiles = owned_profiles(contact_id, case_ids, held)
    candidates = sa.or_(
        Candidate.child_case_id.in_(case_ids),
        Candidate.family_case_id.in_(case_ids),
        Candidate.child_profile_id.in_(profiles),
        _names_a_profile(Candidate.family_profile_ids, profiles),
    )
    own_samples = sa.select(Sample.id).where(
        sa.or_(Sample.case_id.in_(case_ids), Sample.person_id.in_(own_persons))
    )
    haplotypes = sa.select(YHaplotype.id).where(YHaplotype.sample_id.in_(own_samples))
    return {
        Candidate: candidates,
        YHaplotype: YHaplotype.sample_id.in_(own_samples),
        LineageEvidence: sa.or_(
            LineageEvidence.candidate_id.in_(sa.select(Candidate.id).where(candidates)),
            LineageEvidence.child_haplotype_id.in_(haplotypes),
            LineageEvidence.relative_haplotype_id.in_(haplotypes),
        ),
        MatchFlag: _names_a_profile(MatchFlag.profile_ids, profiles),
        Case: Case.id.in_(case_ids),
        Person: sa.or_(Person.id.in_(own_persons), Person.case_id.in_(case_ids)),
        Message: Message.contact_id == contact_id,
        Conversation: Conversation.contact_id == contact_id,
        Attachment: sa.or_(
            Attachment.case_id.in_(case_ids),
            sa.and_(
                Attachment.message_id.in_(messages),
                sa.or_(Attachment.case_id.is_(None), Attachment.case_id.not_in(list(held))),
            ),
        ),
        Notification: sa.or_(Notification.contact_id == contact_id, Notification.case_id.in_(case_ids)),
        DnaProfile: DnaProfile.sample_id.in_(
            sa.select(Sample.id).where(
                sa.or_(Sample.case_id.in_(case_ids), Sample.person_id.in_(own_persons))
            )
        ),
    }


def reported_cases(session: Session, contact: Contact) -> list[Case]:
    """Return the cases this contact reported (or the same person did from a contact linked to this one)."""
    reporter = sa.select(Person.case_id).join(PersonContact, PersonContact.person_id == Person.id)
    reporter = reporter.where(
        PersonContact.contact_id == contact.id, Person.contact_id == Case.reported_by_contact_id
    )
    query = sa.select(Case).where(sa.or_(Case.reported_by_contact_id == contact.id, Case.id.in_(reporter)))
    query = query.order_by(Case.id)
    return list(session.scalars(query))


class PinCheck(enum.StrEnum):
    """What a DELETE's PIN was."""

    RIGHT = "right"
    WRONG = "wrong_pin"
    LOCKED = "locked"


def pin_cases(session: Session, contact: Contact) -> list[Case]:
    """Return the cases whose PIN confirms this contact's DELETE: the missing-child cases they reported or
    joined (a found child's case is the police's: a volunteer has no PIN and confirms with yes or no)."""
    cases = contact_cases(session, contact)
    found = set(
        session.scalars(sa.select(FoundChild.case_id).where(FoundChild.case_id.in_([c.id for c in cases])))
    )
    return [c for c in cases if c.id not in found]


def check_erasure_pin(session: Session, contact: Contact, pin: str, *, actor: str) -> PinCheck:
    """Check a DELETE's PIN against the contact's cases; a wrong one is recorded and audited, and counts toward
    the hourly guessing budget JOIN and LINK share (`intake.cases.pins.guessing_locked`)."""
    cases = pin_cases(session, contact)
    if guessing_locked(session, contact) or any(case_pin_locked(session, c.id) for c in cases):
        outcome = PinCheck.LOCKED
    elif any(same_secret(pin.strip(), c.pin) for c in cases):
        return PinCheck.RIGHT  # the erasure's own audit event follows in the same transaction
    else:
        outcome = PinCheck.WRONG
        # Also counted against the case, as a wrong JOIN PIN is (a stolen phone gets a day's budget, not an
        # hour's); a contact with several cases has no one case the PIN was meant for.
        case_id = cases[0].id if len(cases) == 1 else None
        session.add(LinkAttempt(contact_id=contact.id, outcome=f"erase_{outcome.value}", case_id=case_id))
    audit(session, actor, "contact.erase_refused", "contact", contact.id, outcome=outcome.value)
    session.flush()
    return outcome


def legal_holds(session: Session, case_ids: Collection[int]) -> dict[int, LegalHold]:
    """Return the cases among `case_ids` that must be kept, and why: a candidate match of the case that an
    officer is reviewing (a review was opened and the candidate is still open) or that was approved."""
    ids = list(case_ids)
    under_review = sa.and_(
        CandidateReview.state.in_(HOLDING_REVIEWS), Candidate.status == CandidateStatus.NEW
    )
    rows = session.execute(
        sa.select(Candidate.child_case_id, Candidate.family_case_id, CandidateReview.state)
        .join(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(
            sa.or_(Candidate.child_case_id.in_(ids), Candidate.family_case_id.in_(ids)),
            sa.or_(CandidateReview.state == ReviewState.APPROVED, under_review),
        )
    ).all()
    holds: dict[int, LegalHold] = {}
    for child_case, family_case, state in rows:
        why = LegalHold.MATCH_APPROVED if state == ReviewState.APPROVED else LegalHold.MATCH_UNDER_REVIEW
        for case_id in (child_case, family_case):
            if case_id in ids and holds.get(case_id) is not LegalHold.MATCH_APPROVED:
                holds[case_id] = why
    return holds


def followed_by_others(session: Session, case: Case, contact: Contact) -> bool:
    """Tell whether another family member follows the case from their own contact: their own consents stand
    (`intake.cases.consent.consent_status`, the rule booking and matching use)."""
    others = sa.select(Person.id).where(
        Person.case_id == case.id,
        Person.role.in_(FAMILY_ROLES),
        Person.contact_id.is_not(None),
        sa.not_(persons_of_contact(contact.id)),
    )
    if case.status == CaseStatus.WITHDRAWN:
        return False
    book = ConsentBook.load(session, [case.id])
    return any(book.recorded(case.id, person_id) for person_id in session.scalars(others))


def erase_contact(session: Session, contact: Contact, *, actor: str, now: datetime) -> ErasureReport:
    """Withdraw the contact's cases and consents, cancel their appointments and erase their personal data.

    A case under a legal hold is kept whole; a case another family member follows stays open for them, and
    only the contact's own part of it goes (see the module docstring).
    """
    reported = reported_cases(session, contact)
    holds = legal_holds(session, [c.id for c in reported + _joined_cases(session, contact)])
    held = list(holds)
    shared = [c for c in reported if c.id not in holds and followed_by_others(session, c, contact)]
    cases = [c for c in reported if c.id not in holds and c not in shared]
    case_ids = [c.id for c in cases]
    own_persons = persons_of(contact.id, held)
    # Every appointment of a withdrawn case, and the contact's own appointments in cases they joined.
    active = sa.select(Booking).where(
        Booking.status == BookingStatus.BOOKED,
        sa.or_(
            Booking.case_id.in_(case_ids),
            sa.and_(Booking.contact_id == contact.id, Booking.case_id.not_in(held)),
            Booking.person_id.in_(own_persons),
        ),
    )
    cancelled = 0
    for booking in session.scalars(active.order_by(Booking.id)).all():
        appointments.cancel(session, booking, actor=actor)
        cancelled += 1
    for case in cases:
        case.status = CaseStatus.WITHDRAWN
        session.execute(
            sa.update(Sample)
            .where(Sample.case_id == case.id, Sample.status == SampleStatus.AWAITING_COLLECTION)
            .values(status=SampleStatus.CANCELLED)
        )
    session.execute(
        sa.update(Sample)
        .where(Sample.person_id.in_(own_persons), Sample.status == SampleStatus.AWAITING_COLLECTION)
        .values(status=SampleStatus.CANCELLED)
    )
    withdrawn = session.execute(
        sa.update(Consent)
        .where(
            sa.or_(
                Consent.contact_id == contact.id,
                Consent.case_id.in_(case_ids),
                Consent.person_id.in_(own_persons),
            ),
            sa.or_(Consent.case_id.is_(None), Consent.case_id.not_in(held)),
            Consent.granted.is_(True),
            Consent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
    ).rowcount  # type: ignore[attr-defined]
    # The matching worker drops these profiles from its index and withdraws their open candidates.
    enqueue_withdraw(
        session, profile_ids=session.scalars(owned_profiles(contact.id, case_ids, held)), case_ids=case_ids
    )
    erased: dict[type[Base], int] = {}
    for model, rows in owned_rows(contact.id, case_ids, held).items():
        result = session.execute(sa.update(model).where(rows).values(erased_values(model)))
        erased[model] = result.rowcount  # type: ignore[attr-defined]
    references = {c.id: c.reference for c in reported + _joined_cases(session, contact)}
    report = ErasureReport(
        len(cases),
        cancelled,
        withdrawn,
        erased[Message],
        held={references[i]: why.value for i, why in holds.items()},
        shared=tuple(c.reference for c in shared),
    )
    audit(session, actor, "contact.erase", "contact", contact.id, **asdict(report))
    return report


def _joined_cases(session: Session, contact: Contact) -> list[Case]:
    member = sa.select(Person.case_id).where(persons_of_contact(contact.id))
    return list(session.scalars(sa.select(Case).where(Case.id.in_(member)).order_by(Case.id)))
