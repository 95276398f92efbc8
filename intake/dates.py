"""Read the dates and ages parents type by text message, in Chinese or English, into dates and ages.

Ages go up to MAX_AGE_YEARS (40), not 17: a child missing for decades is an adult now, and the parents still search.
Babies are given in months ("八个月", "8 months"), and "两岁半" is 30 months. Every number is bounded before any
date arithmetic, so "1000000天前" is a reason to ask again, never an OverflowError.
"""

from __future__ import annotations

import calendar
import re
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import cn2an

from intake.errors import InputError
from intake.text import END_MARKS, simplified

EARLIEST = date(1900, 1, 1)
MAX_AGE_YEARS = 40
MAX_DIGITS = 6  # more digits than any count of days a parent means; also keeps int() of a huge string cheap

_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_RELATIVE_DAYS = {
    "today": 0, "今天": 0, "今日": 0, "yesterday": 1, "昨天": 1, "昨日": 1, "前天": 2, "前日": 2, "大前天": 3,
    "last week": 7, "a week ago": 7, "上周": 7, "上星期": 7, "上个星期": 7, "上礼拜": 7, "上个礼拜": 7,
    "半个月前": 15, "half a month ago": 15,
}  # fmt: skip
_RELATIVE_MONTHS = {"上个月": 1, "上月": 1, "last month": 1, "a month ago": 1, "去年": 12, "last year": 12}
_AGO = re.compile(
    r"(\d+)\s*(?:(?P<d>天|日|days?)|(?P<w>周|个?星期|个?礼拜|weeks?)|(?P<m>个?月|months?)|(?P<y>年|years?))"
    r"\s*(?:前|以前|ago)"
)
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
# "20 Nov 2026", "Nov 20", "Tue 24 Nov": how reunite itself shows a date in English, read back.
_MONTHS = {name.lower(): n for n in range(1, 13) for name in (calendar.month_abbr[n], calendar.month_name[n])}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?"
_DAY_MONTH = re.compile(rf"{_WEEKDAY}(\d{{1,2}})\s*([a-z]+)\.?,?\s*(\d{{4}})?")
_MONTH_DAY = re.compile(rf"{_WEEKDAY}([a-z]+)\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})?")
_YM = re.compile(r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?")
_YEARS_WORD = r"(?:周岁|岁|years?|yrs?|y)"
_AGE_YEARS = re.compile(rf"(\d+)\s*(?:{_YEARS_WORD}\s*(半|and a half)?)?\s*(?:old|大)?")
_AGE_MONTHS = re.compile(
    rf"(?:(\d+)\s*{_YEARS_WORD}\s*(?:and)?\s*)?(\d+|半)\s*(?:个月|months?|mos?)\s*(?:old|大)?"
)


@dataclass(frozen=True)
class Age:
    """An age as the parent gave it: in whole months, and whether it was said in months (a baby) or in years."""

    months: int
    in_months: bool = False

    @property
    def years(self) -> int:
        """Return the age in whole years."""
        return self.months // 12

    def earliest_birth(self, today: date) -> date:
        """Return the earliest date of birth this age allows (a child of 5 may be 5 years and 11 months old)."""
        return months_before(today, self.months + (1 if self.in_months else 12))


def _arabic(match: re.Match[str]) -> str:
    with warnings.catch_warnings():  # cn2an warns as well as raising on what is not a numeral
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.cn2an(match.group(), "smart"))
        except ValueError:
            return match.group()


def _fold(text: str) -> str:
    # `simplified` turns full-width digits into ASCII and 兩歲 into 两岁; cn2an then reads "二十五" as 25.
    folded = simplified(text).strip().lower().rstrip(END_MARKS)
    return " ".join(_CN_NUMERAL.sub(_arabic, folded).split())


def _count(digits: str, limit: int) -> int:
    """Return the number written in `digits`, or raise InputError when it is beyond `limit`."""
    if len(digits) > MAX_DIGITS or int(digits) > limit:
        raise InputError("That is too long ago. Please check the number.")
    return int(digits)


def months_before(day: date, months: int) -> date:
    """Return the same day `months` months before `day` (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    if year < EARLIEST.year:
        raise InputError("That date is too long ago. Please check the year.")
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError("There is no such date. Please write it like 2026-11-20.") from None


def _check_past(value: date, today: date) -> date:
    if value > today:
        raise InputError("That date is in the future. Please give a date up to today.")
    if value < EARLIEST:
        raise InputError("That date is too long ago. Please check the year.")
    return value


def _ago(m: re.Match[str], today: date) -> date:
    span_days, span_months = (today - EARLIEST).days, (today.year - EARLIEST.year + 1) * 12
    if m.group("d"):
        return _check_past(today - timedelta(days=_count(m.group(1), span_days)), today)
    if m.group("w"):
        return _check_past(today - timedelta(weeks=_count(m.group(1), span_days // 7)), today)
    months = _count(m.group(1), span_months // 12) * 12 if m.group("y") else _count(m.group(1), span_months)
    return _check_past(months_before(today, months), today)


def _month_day(month: int, day: int, year: str | None, today: date) -> date:
    if year is not None:
        return _check_past(_make(int(year), month, day), today)
    # A month and day without a year means the latest such day up to today.
    guess = _make(today.year, month, day)
    return guess if guess <= today else _make(today.year - 1, month, day)


def parse_date(text: str, *, today: date, lang: str = "zh_CN") -> date:
    """Return the past date in `text` ("2026-11-20", "20/11/2026", "11月20日", "20 Nov", "十天前", "last month")."""
    value = _fold(text)
    if value in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[value])
    if value in _RELATIVE_MONTHS:
        return months_before(today, _RELATIVE_MONTHS[value])
    if m := _AGO.fullmatch(value):
        return _ago(m, today)
    if m := _YMD.fullmatch(value):
        return _check_past(_make(int(m.group(1)), int(m.group(2)), int(m.group(3))), today)
    if m := _DMY.fullmatch(value):
        # Day first, as in China's neighbours and Europe; month-first US dates would be ambiguous.
        return _check_past(_make(int(m.group(3)), int(m.group(2)), int(m.group(1))), today)
    if m := _MD.fullmatch(value):
        return _month_day(int(m.group(1)), int(m.group(2)), None, today)
    if (m := _DAY_MONTH.fullmatch(value)) and m.group(2) in _MONTHS:
        return _month_day(_MONTHS[m.group(2)], int(m.group(1)), m.group(3), today)
    if (m := _MONTH_DAY.fullmatch(value)) and m.group(1) in _MONTHS:
        return _month_day(_MONTHS[m.group(1)], int(m.group(2)), m.group(3), today)
    raise InputError("Sorry, I could not read that date. Please write it like 2026-11-20 or 3 days ago.")


def _looks_like_date(value: str) -> bool:
    return any(p.fullmatch(value) for p in (_YMD, _DMY, _MD, _DAY_MONTH, _MONTH_DAY))


def years_between(born: date, today: date) -> int:
    """Return the whole years from `born` to `today` (a birthday not yet reached this year does not count)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _age(value: str, today: date) -> Age | None:
    too_old = InputError("Please give an age from 0 to %(max)s, or the date of birth.", max=MAX_AGE_YEARS)
    if m := _AGE_MONTHS.fullmatch(value):
        years, months = m.group(1) or "0", m.group(2)
        if len(years) > MAX_DIGITS or (months != "半" and len(months) > MAX_DIGITS):
            raise too_old
        total = int(years) * 12 + (6 if months == "半" else int(months))
        if total > MAX_AGE_YEARS * 12:
            raise too_old
        return Age(total, in_months=True)
    if m := _AGE_YEARS.fullmatch(value):
        if len(m.group(1)) > MAX_DIGITS:
            raise too_old
        years = int(m.group(1))
        if EARLIEST.year <= years <= today.year and not m.group(2):
            raise InputError(
                "That looks like a year. Please give the full date of birth (like 2019-03-02) or the age."
            )
        if years > MAX_AGE_YEARS:
            raise too_old
        return Age(years * 12 + (6 if m.group(2) else 0), in_months=bool(m.group(2)))
    return None


def parse_past_date(text: str, *, today: date) -> date:
    """Return the date a child was last seen; an age typed here is told to give a day instead."""
    try:
        return parse_date(text, today=today)
    except InputError:
        try:
            age = _age(_fold(text), today)
        except InputError:
            age = None
        if age is not None:
            raise InputError(
                "That looks like an age. Please give the day, like 2026-11-20 or 3 days ago."
            ) from None
        raise


def parse_age_or_birth(text: str, today: date) -> tuple[date | None, Age | None]:
    """Return (birth date, age) from "5", "十岁", "两岁半", "八个月", "2019-03-02" or "2019年3月"; one is None."""
    value = _fold(text)
    if (age := _age(value, today)) is not None:
        return None, age
    if m := _YM.fullmatch(value):
        # Only a month: keep the 1st, which is within a month of the truth.
        born = _check_past(_make(int(m.group(1)), int(m.group(2)), 1), today)
    elif _looks_like_date(value):
        born = parse_date(value, today=today)
    else:
        raise InputError("Please give the age (like 5) or the date of birth (like 2019-03-02).")
    if years_between(born, today) > MAX_AGE_YEARS:
        raise InputError("A child born then is over %(max)s years old now. Please check the year of birth.",
                         max=MAX_AGE_YEARS)  # fmt: skip
    return born, None
