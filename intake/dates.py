"""Read the dates and ages parents type by text message, in Chinese or English, into dates and whole years.

Ages go up to MAX_AGE_YEARS (40), not 17: a child missing for decades is an adult now, and the parents still search.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from intake.errors import InputError

EARLIEST = date(1900, 1, 1)
MAX_AGE_YEARS = 40

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_RELATIVE = {
    "today": 0, "今天": 0, "今日": 0, "yesterday": 1, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3,
    "last week": 7, "a week ago": 7, "上周": 7, "上星期": 7, "一周前": 7, "上个星期": 7,
}  # fmt: skip
_DAYS_AGO = re.compile(r"(\d+)\s*(?:天前|日前|days?\s+ago)")
_WEEKS_AGO = re.compile(r"(\d+)\s*(?:周前|个?星期前|weeks?\s+ago)")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_YM = re.compile(r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?")
_AGE = re.compile(r"(\d{1,3})\s*(?:岁|周岁|歲|years?(?:\s*old)?|yrs?|y)?")


def _fold(text: str) -> str:
    # NFKC turns full-width digits and punctuation from a Chinese input method into ASCII.
    folded = unicodedata.normalize("NFKC", text).strip().lower().rstrip("。.!！")
    return re.sub(r"[零〇一二两三四五六七八九]", lambda m: str(_CN_DIGITS[m.group()]), folded)


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


def parse_date(text: str, *, today: date, lang: str = "zh_CN") -> date:
    """Return the past date written in `text` ("2026-11-20", "20/11/2026", "11月20日", "昨天", "3 days ago")."""
    value = _fold(text)
    if value in _RELATIVE:
        return today - timedelta(days=_RELATIVE[value])
    if m := _DAYS_AGO.fullmatch(value):
        return _check_past(today - timedelta(days=int(m.group(1))), today)
    if m := _WEEKS_AGO.fullmatch(value):
        return _check_past(today - timedelta(weeks=int(m.group(1))), today)
    if m := _YMD.fullmatch(value):
        return _check_past(_make(int(m.group(1)), int(m.group(2)), int(m.group(3))), today)
    if m := _DMY.fullmatch(value):
        # Day first, as in China's neighbours and Europe; month-first US dates would be ambiguous.
        return _check_past(_make(int(m.group(3)), int(m.group(2)), int(m.group(1))), today)
    if m := _MD.fullmatch(value):
        # A month and day without a year means the latest such day up to today.
        guess = _make(today.year, int(m.group(1)), int(m.group(2)))
        return guess if guess <= today else _make(today.year - 1, guess.month, guess.day)
    raise InputError("Sorry, I could not read that date. Please write it like 2026-11-20 or 3 days ago.")


def _looks_like_date(value: str) -> bool:
    return any(p.fullmatch(value) for p in (_YMD, _DMY, _MD))


def _years_between(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def parse_age_or_birth(text: str, today: date) -> tuple[date | None, int | None]:
    """Return (birth date, age in years) from "5", "5岁", "5 years", "2019-03-02" or "2019年3月"; one is None."""
    value = _fold(text)
    if m := _AGE.fullmatch(value):
        age = int(m.group(1))
        if age > MAX_AGE_YEARS:
            raise InputError("Please give an age from 0 to %(max)s, or the date of birth.", max=MAX_AGE_YEARS)
        return None, age
    if m := _YM.fullmatch(value):
        # Only a month: keep the 1st, which is within a month of the truth.
        born = _check_past(_make(int(m.group(1)), int(m.group(2)), 1), today)
    elif _looks_like_date(value):
        born = parse_date(value, today=today)
    else:
        raise InputError("Please give the age (like 5) or the date of birth (like 2019-03-02).")
    if _years_between(born, today) > MAX_AGE_YEARS:
        raise InputError("Please give an age from 0 to %(max)s, or the date of birth.", max=MAX_AGE_YEARS)
    return born, None
