"""Dates as precisely as they are known, and ages as they were given, on the console's pages.

A date known to the month ("2019年5月", a child's birth) is stored as the month's first day with its precision
(`intake.dates.Precision`); a page shows the month ("May 2019", "2019年5月"), never "2019-05-01", and an age
range ("五六岁") as the range. Template filters: `born`, `age`, `last_seen`.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from intake.models import Case
from intake.platform.dates import SEASON_WORDS, Precision
from intake.platform.i18n import CHINESE, N_
from intake.web.console.app import bp, language, t


def period(day: date | None, precision: str | None) -> str:
    """Write a stored date as precisely as it is known: a day (ISO), around a day, a month, a season, a year."""
    if day is None:
        return "–"
    chinese = language() == CHINESE
    match Precision(precision or Precision.DAY):
        case Precision.DAY:
            return day.isoformat()
        case Precision.WEEK:
            return t(N_("around %(date)s"), date=day.isoformat())
        case Precision.MONTH:
            return str(
                format_date(day, "y年M月" if chinese else "MMM y", locale="zh_CN" if chinese else "en")
            )
        case Precision.SEASON:
            return t(SEASON_WORDS[day.month], year=day.year)
        case Precision.YEAR:
            return f"{day.year}年" if chinese else str(day.year)
    return t(N_("date not known"))


@bp.app_template_filter("born")
def born(case: Case) -> str:
    """The child's date of birth as precisely as it was given."""
    return period(case.child_birth_date, case.child_birth_precision)


@bp.app_template_filter("age")
def age(case: Case) -> str:
    """The child's age as it was given (a range as a range), else their birth ("born May 2019"), else "–"."""
    low, high = case.child_age_years, case.child_age_max_years
    if low is not None and high is not None and high > low:
        return t(N_("%(low)s to %(high)s years"), low=low, high=high)
    if low is not None:
        return t(N_("%(age)s years"), age=low)
    if case.child_birth_date is not None:
        return t(N_("born %(date)s"), date=born(case))
    return "–"


@bp.app_template_filter("last_seen")
def last_seen(case: Case) -> str:
    """When the child was last seen, as precisely as it was given."""
    return period(case.last_seen_date, case.last_seen_precision)
