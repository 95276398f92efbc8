"""Found children (sample sources 3, 4 and 5): where and when they were found, registered by whom."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import (
    NOT_PERSONAL,
    SampleSource,
    TZDateTime,
    enum_column,
    foreign_key,
    personal,
    utcnow,
)
from intake.platform.db import Base


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

    case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", primary_key=True)
    source: Mapped[SampleSource] = mapped_column(enum_column(SampleSource), info=NOT_PERSONAL)
    found_place: Mapped[str] = mapped_column(
        String(200), info=personal(kept="a found child's case is kept by the police; no contact owns it")
    )
    found_date: Mapped[date] = mapped_column(
        info=personal(kept="a found child's case is kept by the police; no contact owns it")
    )
    estimated_age_years: Mapped[int | None] = mapped_column(
        info=personal(kept="a found child's case is kept by the police; no contact owns it")
    )
    estimated_age_max_years: Mapped[int | None] = mapped_column(  # an age range's top ("五六岁")
        info=personal(kept="a found child's case is kept by the police; no contact owns it")
    )
    # intake.platform.dates.Precision: "day" (or NULL), "week", "month", "season", "year", or "unknown" (the volunteer did
    # not know: found_date is then the day of the registration, the latest the child can have been found)
    found_date_precision: Mapped[str | None] = mapped_column(String(8), info=NOT_PERSONAL)
    registered_by: Mapped[str] = mapped_column(
        String(120), info=personal(kept="who registered a found child stays accountable")
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
