"""Erase what a contact told reunite: their cases' personal details, their messages, their appointments.

A parent may ask for their data to be deleted at any time (DELETE / 删除). Which columns are personal data is
declared once, on the columns themselves (`info=personal(...)` in intake/models); erasure writes each declared
column's erased value into every row that belongs to the contact, so a new personal column is erased without a
change here. What stays is what the law and the other families need to know that a case existed and was
withdrawn: the case reference and status, the sample codes, the consents (marked withdrawn, so no lab may book,
take or use a sample of the case from then on), the contact's address (declared kept: replies and STOP need it)
and the audit log, whose actors are pseudonymous (`contact:<id>`) and whose details are ids and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from intake import booking as appointments
from intake.db import Base
from intake.match_queue import enqueue_withdraw
from intake.models import (
    Attachment,
    Booking,
    BookingStatus,
    Candidate,
    Case,
    CaseStatus,
    Consent,
    Contact,
    Conversation,
    DnaProfile,
    MatchFlag,
    Message,
    Notification,
    Person,
    PersonContact,
    Sample,
    SampleStatus,
    audit,
    persons_of_contact,
)


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed, for the audit log and the reply."""

    cases: int
    appointments_cancelled: int
    consents_withdrawn: int
    messages_erased: int


def erased_values(model: type[Base]) -> dict[str, Any]:
    """Return the value erasure writes into each personal column of `model` that is not kept on purpose."""
    return {
        column.key: column.info["erased"]
        for column in model.__table__.columns
        if column.info.get("personal") and "erased" in column.info
    }


def persons_of(contact_id: int) -> sa.Select[int]:
    """Return a query of the ids of the persons the contact is, in every case they reported or joined."""
    return sa.select(Person.id).where(persons_of_contact(contact_id))


def owned_profiles(contact_id: int, case_ids: list[int]) -> sa.Select[Any]:
    """Return a query of the ids of the DNA profiles of the contact's cases and of the contact's own samples."""
    samples = sa.select(Sample.id).where(
        sa.or_(Sample.case_id.in_(case_ids), Sample.person_id.in_(persons_of(contact_id)))
    )
    return sa.select(DnaProfile.id).where(DnaProfile.sample_id.in_(samples))


def _names_a_profile(
    column: sa.orm.InstrumentedAttribute[str], profiles: sa.Select[Any]
) -> ColumnElement[bool]:
    """Tell whether a comma-joined list of profile ids (matching's candidates and flags) names one of `profiles`."""
    owned = profiles.subquery()
    return sa.exists().where(column.contains(owned.c.id))


def owned_rows(contact_id: int, case_ids: list[int]) -> dict[type[Base], ColumnElement[bool]]:
    """Return, for each model with personal data, which of its rows belong to the contact and their cases."""
    messages = sa.select(Message.id).where(Message.contact_id == contact_id)
    own_persons = persons_of(contact_id)
    profiles = owned_profiles(contact_id, case_ids)
    return {
        Candidate: sa.or_(
            Candidate.child_case_id.in_(case_ids),
            Candidate.family_case_id.in_(case_ids),
            Candidate.child_profile_id.in_(profiles),
            _names_a_profile(Candidate.family_profile_ids, profiles),
        ),
        MatchFlag: _names_a_profile(MatchFlag.profile_ids, profiles),
        Case: Case.id.in_(case_ids),
        Person: sa.or_(persons_of_contact(contact_id), Person.case_id.in_(case_ids)),
        Message: Message.contact_id == contact_id,
        Conversation: Conversation.contact_id == contact_id,
        Attachment: sa.or_(Attachment.case_id.in_(case_ids), Attachment.message_id.in_(messages)),
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


def erase_contact(session: Session, contact: Contact, *, actor: str, now: datetime) -> ErasureReport:
    """Withdraw the contact's cases and consents, cancel their appointments and erase their personal data."""
    cases = reported_cases(session, contact)
    case_ids = [c.id for c in cases]
    # Every appointment of a withdrawn case, and the contact's own appointments in cases they joined.
    active = sa.select(Booking).where(
        Booking.status == BookingStatus.BOOKED,
        sa.or_(
            Booking.case_id.in_(case_ids),
            Booking.contact_id == contact.id,
            Booking.person_id.in_(persons_of(contact.id)),
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
    withdrawn = session.execute(
        sa.update(Consent)
        .where(
            sa.or_(Consent.contact_id == contact.id, Consent.case_id.in_(case_ids)),
            Consent.granted.is_(True),
            Consent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
    ).rowcount  # type: ignore[attr-defined]
    # The matching worker drops these profiles from its index and withdraws their open candidates.
    enqueue_withdraw(
        session, profile_ids=session.scalars(owned_profiles(contact.id, case_ids)), case_ids=case_ids
    )
    erased: dict[type[Base], int] = {}
    for model, rows in owned_rows(contact.id, case_ids).items():
        result = session.execute(sa.update(model).where(rows).values(erased_values(model)))
        erased[model] = result.rowcount  # type: ignore[attr-defined]
    report = ErasureReport(len(cases), cancelled, withdrawn, erased[Message])
    audit(session, actor, "contact.erase", "contact", contact.id, **report.__dict__)
    return report
