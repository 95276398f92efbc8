"""Cases of missing children, the persons in them, and the consents they gave."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base
from intake.models._common import (
    CaseStatus,
    Channel,
    ConsentScope,
    Role,
    Sex,
    TZDateTime,
    enum_column,
    utcnow,
)


class Case(Base):
    """A missing child (or a found child of unknown identity) and everything gathered about them."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    pin: Mapped[str] = mapped_column(String(8))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    child_name: Mapped[str | None] = mapped_column(String(120))
    child_sex: Mapped[Sex] = mapped_column(enum_column(Sex), default=Sex.UNKNOWN)
    child_birth_date: Mapped[date | None]
    child_age_years: Mapped[int | None]
    last_seen_date: Mapped[date | None]
    last_seen_place: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    reported_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)

    persons: Mapped[list[Person]] = relationship(back_populates="case", cascade="all, delete-orphan")


class Person(Base):
    """Someone with a role in a case: a reporting parent or relative, a volunteer, the child."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    name: Mapped[str | None] = mapped_column(String(120))
    relation_note: Mapped[str | None] = mapped_column(String(120))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="persons")


class Consent(Base):
    """One recorded answer to one consent question: what, when, by whom, on which channel."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    scope: Mapped[ConsentScope] = mapped_column(enum_column(ConsentScope))
    granted: Mapped[bool]
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    language: Mapped[str] = mapped_column(String(8))
    text_version: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime())
