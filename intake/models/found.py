"""Found children (sample sources 3, 4 and 5): where and when they were found, registered by whom."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base
from intake.models._common import SampleSource, TZDateTime, enum_column, utcnow


class CaseKind(enum.StrEnum):
    """Which side of the database a case is on."""

    MISSING_CHILD = "missing_child"  # a family looking for their child (sources 1 and 2)
    FOUND_CHILD = "found_child"  # a child looking for their family (sources 3, 4 and 5)


class FoundChild(Base):
    """The found-child details of a case; a case with this row is a found-child case.

    The child's sex and description are the case's `child_sex` and `description`; the child is the case's
    person in role `child`, and for source 4 the adults who claimed to be the parents are persons too.
    """

    __tablename__ = "found_children"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[SampleSource] = mapped_column(enum_column(SampleSource))
    found_place: Mapped[str] = mapped_column(String(200))
    found_date: Mapped[date]
    estimated_age_years: Mapped[int | None]
    registered_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
