"""Cases of missing children, the persons in them, and the consents they gave.

A person may write from several contacts (SMS, then a Telegram chat): `PersonContact` links the further ones,
and `persons_of_contact` is how every flow finds "the person this contact is". `SampleLink` records that two
samples are of one person (the matching service found identical profiles): never relatives of each other.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.models._common import (
    NOT_PERSONAL,
    CaseStatus,
    Channel,
    ConsentScope,
    Role,
    Sex,
    TZDateTime,
    enum_column,
    foreign_key,
    personal,
    utcnow,
)
from intake.platform.db import Base


class Case(Base):
    """A missing child (or a found child of unknown identity) and everything gathered about them."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    reference: Mapped[str] = mapped_column(String(24), unique=True, info=NOT_PERSONAL)
    pin: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)  # a random secret, says nothing of anyone
    status: Mapped[CaseStatus] = mapped_column(
        enum_column(CaseStatus), default=CaseStatus.OPEN, index=True, info=NOT_PERSONAL
    )
    child_name: Mapped[str | None] = mapped_column(String(120), index=True, info=personal())
    child_sex: Mapped[Sex] = mapped_column(enum_column(Sex), default=Sex.UNKNOWN, info=personal(Sex.UNKNOWN))
    child_birth_date: Mapped[date | None] = mapped_column(info=personal())
    # intake.dates.Precision of the birth: "day" (or NULL) or "month" ("2019年5月", stored as its first day)
    child_birth_precision: Mapped[str | None] = mapped_column(String(8), info=NOT_PERSONAL)
    child_age_years: Mapped[int | None] = mapped_column(info=personal())
    child_age_max_years: Mapped[int | None] = mapped_column(info=personal())  # an age range's top ("五六岁")
    last_seen_date: Mapped[date | None] = mapped_column(info=personal())
    # intake.platform.dates.Precision: "day" (or NULL, before precisions were kept), "week", "month", "season", "year";
    # a period is stored as its first day
    last_seen_precision: Mapped[str | None] = mapped_column(String(8), info=NOT_PERSONAL)
    last_seen_place: Mapped[str | None] = mapped_column(String(200), info=personal())
    # The province the place last seen lies in (intake.places.provinces.province_of_place), set with the place: the
    # case's province for officers while no lab has its samples or appointments (intake.places.scope).
    place_province: Mapped[str | None] = mapped_column(String(64), index=True, info=personal())
    description: Mapped[str | None] = mapped_column(Text, info=personal())
    reported_by_contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    # A likely duplicate report linked into an earlier case of the same child (intake.case_merge): its family,
    # samples and history now live there, and reads of this case follow the link.
    merged_into_id: Mapped[int | None] = foreign_key("cases.id", "SET NULL", index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True, info=NOT_PERSONAL)
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, info=NOT_PERSONAL
    )

    persons: Mapped[list[Person]] = relationship(back_populates="case", cascade="all, delete-orphan")


class Person(Base):
    """Someone with a role in a case: a reporting parent or relative, a volunteer, the child."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), info=NOT_PERSONAL)
    name: Mapped[str | None] = mapped_column(String(120), index=True, info=personal())
    relation_note: Mapped[str | None] = mapped_column(String(120), info=personal())
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)

    case: Mapped[Case] = relationship(back_populates="persons")


class Consent(Base):
    """One recorded answer to one consent question: what, when, by whom, on which channel.

    Nothing here is personal: it is the legal record of what was agreed, kept (marked withdrawn) after erasure.
    """

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    contact_id: Mapped[int | None] = foreign_key("contacts.id", "SET NULL", index=True)
    case_id: Mapped[int | None] = foreign_key("cases.id", "CASCADE", index=True)
    person_id: Mapped[int | None] = foreign_key("persons.id", "CASCADE")
    scope: Mapped[ConsentScope] = mapped_column(enum_column(ConsentScope), info=NOT_PERSONAL)
    granted: Mapped[bool] = mapped_column(info=NOT_PERSONAL)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), info=NOT_PERSONAL)
    language: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)
    text_version: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)


class PersonContact(Base):
    """A further contact of a person: the same parent on another channel, linked with the case number and PIN."""

    __tablename__ = "person_contacts"
    __table_args__ = (UniqueConstraint("person_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    person_id: Mapped[int] = foreign_key("persons.id", "CASCADE", index=True)
    contact_id: Mapped[int] = foreign_key("contacts.id", "CASCADE", index=True)
    how: Mapped[str] = mapped_column(String(24), info=NOT_PERSONAL)  # e.g. "join_pin": what proved it
    linked_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)


def persons_of_contact(contact_id: int) -> sa.ColumnElement[bool]:
    """Return the condition "this Person is the one writing from `contact_id`" (its own or a linked contact)."""
    linked = sa.select(PersonContact.person_id).where(PersonContact.contact_id == contact_id)
    return sa.or_(Person.contact_id == contact_id, Person.id.in_(linked))


class SampleLink(Base):
    """Two samples of one person (identical profiles found by the matching service): linked, never kin.

    Stored once per pair (lower sample id first), with the flag that found it; officers see it on the flags page.
    """

    __tablename__ = "sample_links"
    __table_args__ = (UniqueConstraint("sample_id", "same_as_sample_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    sample_id: Mapped[int] = foreign_key("samples.id", "CASCADE", index=True)
    same_as_sample_id: Mapped[int] = foreign_key("samples.id", "CASCADE", index=True)
    flag_id: Mapped[int | None] = foreign_key("match_flags.id", "SET NULL")
    how: Mapped[str] = mapped_column(String(24), info=NOT_PERSONAL)  # "same_person": identical profiles
    linked_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
