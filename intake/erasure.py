"""Erase what a contact told reunite: their cases' personal details, their messages, their appointments.

A parent may ask for their data to be deleted at any time (DELETE / 删除). What stays is what the law and the
other families need to know that a case existed and was withdrawn: the case reference and status, the sample
codes and the audit log, which never holds personal details. Consents are marked withdrawn, so no lab may
book, take or use a sample of the case from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake import booking as appointments
from intake.models import (
    Case,
    CaseStatus,
    Consent,
    Contact,
    Message,
    Person,
    Sample,
    SampleStatus,
    Sex,
    audit,
)

ERASED_BODY = ""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed, for the audit log and the reply."""

    cases: int
    appointments_cancelled: int
    consents_withdrawn: int
    messages_erased: int


def reported_cases(session: Session, contact: Contact) -> list[Case]:
    """Return the cases this contact reported, oldest first."""
    query = sa.select(Case).where(Case.reported_by_contact_id == contact.id).order_by(Case.id)
    return list(session.scalars(query))


def erase_contact(session: Session, contact: Contact, *, actor: str, now: datetime) -> ErasureReport:
    """Withdraw the contact's cases and consents, cancel their appointments and blank their personal details."""
    cases = reported_cases(session, contact)
    cancelled = 0
    for case in cases:
        booking = appointments.active_booking(session, case)
        if booking is not None:
            appointments.cancel(session, booking, actor=actor)
            cancelled += 1
        _blank_case(case)
        case.status = CaseStatus.WITHDRAWN
        session.execute(
            sa.update(Sample)
            .where(Sample.case_id == case.id, Sample.status == SampleStatus.AWAITING_COLLECTION)
            .values(status=SampleStatus.CANCELLED)
        )
    case_ids = [c.id for c in cases]
    session.execute(
        sa.update(Person)
        .where(sa.or_(Person.contact_id == contact.id, Person.case_id.in_(case_ids)))
        .values(name=None, relation_note=None)
    )
    withdrawn = session.execute(
        sa.update(Consent)
        .where(
            sa.or_(Consent.contact_id == contact.id, Consent.case_id.in_(case_ids)),
            Consent.granted.is_(True),
            Consent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
    ).rowcount  # type: ignore[attr-defined]
    erased = session.execute(
        sa.update(Message).where(Message.contact_id == contact.id).values(body=ERASED_BODY)
    ).rowcount  # type: ignore[attr-defined]
    report = ErasureReport(len(cases), cancelled, withdrawn, erased)
    audit(session, actor, "contact.erase", "contact", contact.id, **report.__dict__)
    return report


def _blank_case(case: Case) -> None:
    case.child_name = None
    case.child_sex = Sex.UNKNOWN
    case.child_birth_date = None
    case.child_age_years = None
    case.last_seen_date = None
    case.last_seen_place = None
    case.description = None
