"""Read the dates and ages parents and volunteers type, in Chinese or English, into dates and ages.

Dates. `parse_when` returns a `When`: a day and how precisely it is known (`Precision`). What a person says is
kept as precise as they said it, never more: "去年10月" / "in October" is a month, "去年夏天" a season, "两年前" a
year, "上周" / "十多天前" a week around a day, "上周二" / "昨天下午3点" / "腊月初八" a day (the time of day is
dropped). A period is stored as its first day with its precision. Lunar dates (腊月初八, 正月十五, 农历八月十五) and
festivals (春节, 中秋, 国庆节) are converted with the `lunardate` library. A day without a year is the nearer of
this year's and last year's: taken when it is not in the future, else asked ("25 Dec is still to come this
year"). A day and month both up to 12 (3/8/2026) are asked, never guessed. A future day (明天, tomorrow, 下个月)
gets the "not yet" answer.

Ages go up to MAX_AGE_YEARS (40), not 17: a child missing for decades is an adult now, and the parents still search.
Babies are given in months ("八个月", "刚满月"), and "两岁半" / "2.5" is 30 months. An age may be a range ("五六岁",
"5-6岁", "5到6岁", "five or six"), kept as a range; a year of birth ("2019年出生", "born 2019") gives the range of
ages a child born that year can have today. Every number is bounded before any date arithmetic, so "1000000天前"
is a reason to ask again, never an OverflowError.
"""

from __future__ import annotations

import calendar
import enum
import re
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import cn2an
from lunardate import LunarDate

from intake.platform.errors import InputError
from intake.platform.i18n import N_
from intake.platform.text import END_MARKS, simplified

EARLIEST = date(1900, 1, 1)
MAX_AGE_YEARS = 40
MAX_DIGITS = 6  # more digits than any count of days a parent means; also keeps int() of a huge string cheap


class Precision(enum.StrEnum):
    """How precisely a date is known; the stored day is the first day of the period."""

    DAY = "day"
    WEEK = "week"  # a day give or take a few days: "上周", "十多天前", "国庆节"
    MONTH = "month"
    SEASON = "season"  # three months from the stored day: spring from March, summer June, autumn September, winter December
    YEAR = "year"
    UNKNOWN = "unknown"  # not known: the stored day is the day it was asked, the latest it can be


# A season's words, by the month it starts (msgids: the dialogue and the console translate them).
SEASON_WORDS = {3: N_("spring %(year)s"), 6: N_("summer %(year)s"), 9: N_("autumn %(year)s"),
                12: N_("winter %(year)s")}  # fmt: skip


@dataclass(frozen=True)
class When:
    """A past date as a person gave it: the (first) day and how precisely it is known."""

    day: date
    precision: Precision = Precision.DAY

    @property
    def last_day(self) -> date:
        """Return the last day the period may mean (the day itself for a day or a week around it)."""
        if self.precision is Precision.MONTH:
            return _month_end(self.day, 0)
        if self.precision is Precision.SEASON:
            return _month_end(self.day, 2)
        if self.precision is Precision.YEAR:
            return date(self.day.year, 12, 31)
        return self.day


def _month_end(first: date, more: int) -> date:
    year, month = divmod(first.year * 12 + first.month - 1 + more, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# Two neighbouring numerals are a range: 五六岁 (5-6), 十五六岁 (15-16); 五六十岁 is 50-60 and left to cn2an.
_CN_RANGE = re.compile(
    r"(?<![零〇一二两三四五六七八九十百千])(十)?([一二两三四五六七八])([二三四五六七八九])(?![零〇十百千万])"
)
_EN_NUMBERS = {
    w: n
    for n, w in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}  # fmt: skip
_EN_NUMBER = re.compile(
    r"\b(" + "|".join(_EN_NUMBERS) + r")(?:-(one|two|three|four|five|six|seven|eight|nine))?\b"
)
_EN_ARTICLE = re.compile(r"\b(?:a|an|one)\s+(?=(?:day|week|month|year|fortnight)s?\b)")

_RELATIVE_DAYS = {
    "today": 0, "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "yesterday": 1, "昨天": 1, "昨日": 1, "昨晚": 1, "last night": 1,
    "前天": 2, "前日": 2, "大前天": 3, "the day before yesterday": 2,
}  # fmt: skip
_RELATIVE_WEEKS = {
    "last week": 7, "a week ago": 7, "上周": 7, "上星期": 7, "上个星期": 7, "上礼拜": 7, "上个礼拜": 7,
    "这周": 0, "这个星期": 0, "本周": 0, "this week": 0, "上上周": 14, "上上个星期": 14,
    "半个月前": 15, "half a month ago": 15, "几天前": 3, "前几天": 3, "a few days ago": 3, "few days ago": 3,
    "这几天": 1, "最近": 3, "recently": 3, "a fortnight ago": 14,
}  # fmt: skip
_RELATIVE_MONTHS = {"上个月": 1, "上月": 1, "last month": 1, "这个月": 0, "这月": 0, "本月": 0, "this month": 0,
                    "上上个月": 2}  # fmt: skip
_RELATIVE_YEARS = {"去年": 1, "last year": 1, "今年": 0, "this year": 0, "前年": 2}
_YEAR_WORDS = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}
_FUTURE = re.compile(
    r"明天|明日|明晚|后天|下周|下个?星期|下个?礼拜|下个?月|明年|tomorrow|"
    r"next\s+(?:week|month|year|mon|tue|wed|thu|fri|sat|sun|spring|summer|autumn|fall|winter)|"
    r"in\s+\d+\s+(?:days?|weeks?|months?|years?)|\d+\s*(?:天|周|个?星期|个?月|年)\s*(?:后|以后|之后)"
)
# Words around a date that say nothing of the day: "大概", "on", "那天", and a time of day.
_AROUND = re.compile(
    r"^(?:about|around|approx\.?|approximately|maybe|roughly|on|in|at|since|大约|大概|约|差不多|是|在|于)\s*|"
    r"\s*(?:左右|前后|上下|的时候|时候|那天|那时|那一天|的样子|吧)$"
)
_TIME_OF_DAY = re.compile(
    r"\s*(?:的)?(?:早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜晚|半夜|凌晨|白天|晚)?\s*"
    r"(?:\d{1,2}\s*(?:点|时|:\d{2})\s*(?:\d{1,2}\s*分|半|钟|多)?)?\s*(?:左右)?$"
)
_EN_TIME = re.compile(
    r"\s*(?:(?:in the\s+)?(?:morning|afternoon|evening|night)|at night|"
    r"(?:at\s+)?(?:around\s+)?\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)|at\s+\d{1,2}:\d{2})$"
)
_EN_PART_OF_DAY = {"this morning": 0, "this afternoon": 0, "this evening": 0, "tonight": 0, "last evening": 1}
_AGO = re.compile(
    r"(\d+|半)(?:\s*-\s*(\d+))?\s*个?\s*(?P<more1>多)?\s*(?:(?P<d>天|日|days?)|(?P<w>周|个?星期|个?礼拜|weeks?)|(?P<f>fortnights?)|"
    r"(?P<m>个?月|months?)|(?P<y>年|years?))\s*(?P<more2>多)?\s*(?:前|以前|之前|ago)"
)
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MD_BARE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})")  # 11月20, read as 11月20日 when it is not lunar
_REL_MONTH_DAY = re.compile(r"(上上个?月|上个?月|这个?月|本月)\s*(\d{1,2})\s*[日号]?")
_YEAR_WORD_MD = re.compile(r"(今年|去年|前年|大前年)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_YEAR_WORD_MONTH = re.compile(r"(今年|去年|前年|大前年)?\s*(\d{1,2})\s*月份?")
_YM = re.compile(r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?份?")
_YEAR = re.compile(r"(\d{4})\s*年?")
_LUNAR = re.compile(
    r"(今年|去年|前年)?\s*(?:农历|阴历)?\s*(正|腊|冬|\d{1,2})\s*月\s*(?:初\s*(\d{1,2})|(\d{1,2}))\s*[日号]?"
)
_SEASONS = {
    "春": 3,
    "夏": 6,
    "秋": 9,
    "冬": 12,
    "spring": 3,
    "summer": 6,
    "autumn": 9,
    "fall": 9,
    "winter": 12,
}
_SEASON = re.compile(
    r"(今年|去年|前年|\d{4}\s*年)?\s*的?\s*(春|夏|秋|冬)(?:天|季)|"
    r"(?:(last|this)\s+)?(spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?(\d{4}))?"
)
# Festivals: (lunar?, month, day, precision). 国庆节 and 春节 name the holiday week, so they are a week.
_FESTIVALS = {
    "元旦": (False, 1, 1, Precision.DAY), "new year's day": (False, 1, 1, Precision.DAY),
    "new year": (False, 1, 1, Precision.DAY),
    "五一": (False, 5, 1, Precision.WEEK), "51": (False, 5, 1, Precision.WEEK), "61": (False, 6, 1, Precision.DAY), "劳动节": (False, 5, 1, Precision.WEEK),
    "六一": (False, 6, 1, Precision.DAY), "儿童节": (False, 6, 1, Precision.DAY),
    "国庆": (False, 10, 1, Precision.WEEK), "国庆节": (False, 10, 1, Precision.WEEK),
    "national day": (False, 10, 1, Precision.WEEK), "golden week": (False, 10, 1, Precision.WEEK),
    "圣诞": (False, 12, 25, Precision.DAY), "圣诞节": (False, 12, 25, Precision.DAY),
    "christmas": (False, 12, 25, Precision.DAY),
    "春节": (True, 1, 1, Precision.WEEK), "过年": (True, 1, 1, Precision.WEEK), "大年初1": (True, 1, 1, Precision.DAY),
    "chinese new year": (True, 1, 1, Precision.WEEK), "spring festival": (True, 1, 1, Precision.WEEK),
    "元宵": (True, 1, 15, Precision.DAY), "元宵节": (True, 1, 15, Precision.DAY),
    "端午": (True, 5, 5, Precision.DAY), "端午节": (True, 5, 5, Precision.DAY),
    "dragon boat festival": (True, 5, 5, Precision.DAY),
    "七夕": (True, 7, 7, Precision.DAY), "中秋": (True, 8, 15, Precision.DAY), "中秋节": (True, 8, 15, Precision.DAY),
    "mid-autumn festival": (True, 8, 15, Precision.DAY), "重阳": (True, 9, 9, Precision.DAY),
    "重阳节": (True, 9, 9, Precision.DAY), "腊八": (True, 12, 8, Precision.DAY), "腊八节": (True, 12, 8, Precision.DAY),
    "小年": (True, 12, 23, Precision.DAY),
    "除夕": (True, 0, 0, Precision.DAY), "大年30": (True, 0, 0, Precision.DAY), "年30": (True, 0, 0, Precision.DAY),
    "大年29": (True, 0, 0, Precision.DAY),
}  # fmt: skip
_FESTIVAL = re.compile(r"(今年|去年|前年)?\s*的?\s*(.+?)(?:节日|那天|期间)?")
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}
_UNKNOWN_WORDS = ("不知道", "不清楚", "不记得", "记不清", "忘了", "不确定", "跳过", "skip", "unknown", "dont know",
                  "don't know", "do not know", "not sure", "no idea", "?", "？")  # fmt: skip
# "20 Nov 2026", "Nov 20", "Tue 24 Nov": how reunite itself shows a date in English, read back.
_MONTHS = {name.lower(): n for n in range(1, 13) for name in (calendar.month_abbr[n], calendar.month_name[n])}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?"
_DAY_MONTH = re.compile(rf"{_WEEKDAY}(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?([a-z]+)\.?,?\s*(\d{{4}})?")
_MONTH_DAY = re.compile(rf"{_WEEKDAY}([a-z]+)\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})?")
_MONTH_YEAR = re.compile(r"(?:(last|this)\s+)?([a-z]+)\.?,?\s*(\d{4})?")
_WEEKDAYS_EN = {name.lower(): n for n in range(7) for name in (calendar.day_abbr[n], calendar.day_name[n])}
_WEEKDAY_EN = re.compile(r"(?:(last|this|on)\s+)?([a-z]+)")
_WEEKDAY_ZH = re.compile(r"(上上|上|这|本)?\s*个?\s*(?:周|星期|礼拜)\s*([1-7日天])")
_YEARS_WORD = r"(?:周岁|岁|years?|yrs?|y)"
_AGE_YEARS = re.compile(rf"(\d+)\s*(?:{_YEARS_WORD}\s*(半|and a half)?)?\s*(?:old|大)?")
_AGE_DECIMAL = re.compile(rf"(\d{{1,2}})\.(\d)\s*(?:{_YEARS_WORD})?\s*(?:old|大)?")
_AGE_MONTHS = re.compile(
    rf"(?:(\d+)\s*{_YEARS_WORD}\s*(?:and)?\s*)?(\d+|半)\s*(?:个月|months?|mos?)\s*(?:old|大)?"
)
_AGE_RANGE = re.compile(
    rf"(\d+)\s*(?:-|~|～|到|至|或|或者|or|to)\s*(\d+)\s*(?P<unit>{_YEARS_WORD}|个月|months?)?\s*(?:old|大)?"
)
_AGE_AROUND = re.compile(
    r"^(?:about|around|approx\.?|approximately|maybe|roughly|probably|大约|大概|约|差不多|可能|估计|看起来|看上去|像)\s*|"
    r"\s*(?:左右|上下|的样子|吧)$"
)
_NEWBORN = {"刚满月": 1, "满月": 1, "刚出生": 0, "新生儿": 0, "刚生": 0, "newborn": 0, "new born": 0, "a newborn": 0,
            "1个月": 1}  # fmt: skip
_BORN = re.compile(
    r"^(?:born\s*(?:in|on)?\s*|生于|出生于)\s*(?P<a>.+)$|^(?P<b>.+?)\s*(?:年)?\s*(?:出生|生的|生人|生)$"
)


@dataclass(frozen=True)
class Age:
    """An age as the parent gave it: in whole months, whether said in months (a baby) or years, and a range's top.

    "五六岁" is Age(60, max_months=72): from 5 up to 6 years (and the months of the 6th year).
    """

    months: int
    in_months: bool = False
    max_months: int | None = None  # the top of a range ("5-6岁"), None for one age

    @property
    def years(self) -> int:
        """Return the (lowest) age in whole years."""
        return self.months // 12

    @property
    def max_years(self) -> int | None:
        """Return the top of the range in whole years, None for one age."""
        return None if self.max_months is None else self.max_months // 12

    def earliest_birth(self, today: date) -> date:
        """Return the earliest date of birth this age allows (a child of 5 may be 5 years and 11 months old)."""
        return months_before(today, (self.max_months or self.months) + (1 if self.in_months else 12))


class TooOld(InputError):
    """An age or a date of birth beyond the limit the question has."""


def _arabic(match: re.Match[str]) -> str:
    with warnings.catch_warnings():  # cn2an warns as well as raising on what is not a numeral
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.cn2an(match.group(), "smart"))
        except (ValueError, KeyError, IndexError):  # cn2an raises KeyError on 十十一
            return match.group()


def _range(match: re.Match[str]) -> str:
    ten, low, high = match.group(1), _CN_DIGIT[match.group(2)], _CN_DIGIT[match.group(3)]
    if high != low + 1:
        return match.group()
    base = 10 if ten else 0
    return f"{base + low}-{base + high}"


def _english_number(match: re.Match[str]) -> str:
    return str(_EN_NUMBERS[match.group(1)] + (_EN_NUMBERS[match.group(2)] if match.group(2) else 0))


def _fold(text: str) -> str:
    # `simplified` turns full-width digits into ASCII and 兩歲 into 两岁; cn2an then reads "二十五" as 25.
    folded = simplified(text).strip().lower().rstrip(END_MARKS)
    folded = _CN_RANGE.sub(_range, folded)
    folded = _CN_NUMERAL.sub(_arabic, folded)
    folded = _EN_ARTICLE.sub("1 ", _EN_NUMBER.sub(_english_number, folded))
    return " ".join(folded.replace("’", "'").split())


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


def _future() -> InputError:
    return InputError("That date is in the future. Please give a date up to today.")


def _check_past(value: date, today: date) -> date:
    if value > today:
        raise _future()
    if value < EARLIEST:
        raise InputError("That date is too long ago. Please check the year.")
    return value


def _past(value: date, today: date, precision: Precision = Precision.DAY) -> When:
    return When(_check_past(value, today), precision)


def _ago(m: re.Match[str], today: date) -> When:
    span_days, span_months = (today - EARLIEST).days, (today.year - EARLIEST.year + 1) * 12
    more = bool(m.group("more1") or m.group("more2"))  # 一个多月前: more than, so only roughly
    count = m.group(2) or m.group(1)  # a range "5-6天前": the earlier
    if count == "半":
        if m.group("y"):
            return _past(months_before(today, 6).replace(day=1), today, Precision.MONTH)
        if m.group("m"):
            return _past(today - timedelta(days=15), today, Precision.WEEK)
        raise InputError("Sorry, I could not read that date. Please write it like 2026-11-20 or 3 days ago.")
    if m.group("d"):
        days = _count(count, span_days)
        rough = more or m.group(2) is not None
        return _past(today - timedelta(days=days), today, Precision.WEEK if rough else Precision.DAY)
    if m.group("w") or m.group("f"):
        weeks = _count(count, span_days // 7) * (2 if m.group("f") else 1)
        return _past(today - timedelta(weeks=weeks), today, Precision.WEEK)
    if m.group("y"):
        year = today.year - _count(count, span_months // 12)
        if year < EARLIEST.year:
            raise InputError("That is too long ago. Please check the number.")
        return _past(date(year, 1, 1), today, Precision.YEAR)
    return _past(months_before(today, _count(count, span_months)).replace(day=1), today, Precision.MONTH)


def _nearer(this_year: date, last_year: date, today: date, precision: Precision = Precision.DAY) -> When:
    """Return this year's day when it is past; else last year's, unless this year's is the nearer (then ask)."""
    if this_year <= today:
        return When(this_year, precision)
    if (this_year - today) < (today - last_year):
        raise InputError(
            "%(date)s is still to come this year. If you mean last year, write the year too, like %(iso)s.",
            date=this_year.isoformat(), iso=last_year.isoformat(),
        )  # fmt: skip
    return _past(last_year, today, precision)


def _month_day(month: int, day: int, year: str | None, today: date) -> When:
    if year is not None:
        return _past(_make(int(year), month, day), today)
    # A month and day without a year: the nearer of this year's and last year's, never silently a year ago.
    this_year = _make(today.year, month, day) if (month, day) != (2, 29) else _leap_day(today.year)
    last_year = _make(today.year - 1, month, day) if (month, day) != (2, 29) else _leap_day(today.year - 1)
    return _nearer(this_year, last_year, today)


def _leap_day(year: int) -> date:
    return date(year, 2, 29) if calendar.isleap(year) else date(year, 2, 28)


def _lunar(year: int, month: int, day: int) -> date:
    """Return the solar date of a lunar day (month 0: New Year's Eve, the last day of the 12th month)."""
    try:
        solar: date = (
            LunarDate(year + 1, 1, 1).to_solar_date() - timedelta(days=1)
            if month == 0
            else (LunarDate(year, month, day).to_solar_date())
        )
    except (ValueError, IndexError, KeyError):
        raise InputError("There is no such date. Please write it like 2026-11-20.") from None
    return solar


def _lunar_year_of(today: date) -> int:
    year: int = LunarDate.from_solar_date(today.year, today.month, today.day).year
    return year


def _lunar_when(year_word: str | None, month: int, day: int, today: date, precision: Precision) -> When:
    if not (0 <= month <= 12 and (month == 0 or 1 <= day <= 30)):
        raise InputError("There is no such date. Please write it like 2026-11-20.")
    current = _lunar_year_of(today)
    if year_word is not None:
        return _past(_lunar(current - _YEAR_WORDS[year_word], month, day), today, precision)
    this_year, last_year = _lunar(current, month, day), _lunar(current - 1, month, day)
    return _nearer(this_year, last_year, today, precision)


def _weekday(back_weeks: int | None, weekday: int, today: date) -> When:
    """Return the weekday (0 Monday) of the week `back_weeks` before this one, or the latest one up to today."""
    if back_weeks is None:
        return When(today - timedelta(days=(today.weekday() - weekday) % 7))
    monday = today - timedelta(days=today.weekday() + 7 * back_weeks)
    return _past(monday + timedelta(days=weekday), today)


def _season(year: int | None, start_month: int, today: date) -> When:
    if year is not None:
        return _past(date(year, start_month, 1), today, Precision.SEASON)
    this_year = date(today.year, start_month, 1)
    first = this_year if this_year <= today else date(today.year - 1, start_month, 1)
    return When(first, Precision.SEASON)


def _month(year: int | None, month: int, today: date) -> When:
    if not 1 <= month <= 12:
        raise InputError("There is no such date. Please write it like 2026-11-20.")
    if year is not None:
        return _past(date(year, month, 1), today, Precision.MONTH)
    this_year = date(today.year, month, 1)
    return When(this_year if this_year <= today else date(today.year - 1, month, 1), Precision.MONTH)


def _strip_time(value: str) -> str:
    for pattern in (_AROUND, _EN_TIME, _TIME_OF_DAY, _AROUND):
        stripped = pattern.sub("", value).strip()
        value = stripped or value
    return value


def _dmy(m: re.Match[str], today: date) -> When:
    first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if first <= 12 and second <= 12 and first != second:
        raise InputError(
            "Is %(text)s the %(dm)s or the %(md)s? Please write it with the year first, like %(iso)s.",
            text=m.group(0), dm=_make(year, second, first).isoformat(), md=_make(year, first, second).isoformat(),
            iso=_make(year, second, first).isoformat(),
        )  # fmt: skip
    # Day first, as in China's neighbours and Europe, unless only month first makes a date (11/20/2026).
    if first > 12 >= second:
        return _past(_make(year, second, first), today)
    if second > 12 >= first:
        return _past(_make(year, first, second), today)
    return _past(_make(year, second, first), today)


def parse_when(text: str, *, today: date, allow_unknown: bool = False) -> When:
    """Return the past date in `text` with its precision ("2026-11-20", "上周二", "去年10月", "腊月初八", ...)."""
    value = _fold(text)
    if allow_unknown and value in _UNKNOWN_WORDS:
        return When(today, Precision.UNKNOWN)
    if _FUTURE.match(value) or _FUTURE.match(_strip_time(value)):
        raise _future()
    if value in _EN_PART_OF_DAY:
        return When(today - timedelta(days=_EN_PART_OF_DAY[value]))
    try:
        return _read(value, today)
    except InputError as unread:
        if "could not read" not in unread.message or _strip_time(value) == value:
            raise
    return _read(_strip_time(value), today)


def _read(value: str, today: date) -> When:
    if value in _RELATIVE_DAYS:
        return When(today - timedelta(days=_RELATIVE_DAYS[value]))
    if value in _RELATIVE_WEEKS:
        return When(today - timedelta(days=_RELATIVE_WEEKS[value]), Precision.WEEK)
    if value in _RELATIVE_MONTHS:
        return When(months_before(today, _RELATIVE_MONTHS[value]).replace(day=1), Precision.MONTH)
    if value in _RELATIVE_YEARS:
        return When(date(today.year - _RELATIVE_YEARS[value], 1, 1), Precision.YEAR)
    if (m := _FESTIVAL.fullmatch(value)) and m.group(2) in _FESTIVALS:
        lunar, month, day, precision = _FESTIVALS[m.group(2)]
        if lunar:
            return _lunar_when(m.group(1), month, day, today, precision)
        if m.group(1) is not None:
            return _past(date(today.year - _YEAR_WORDS[m.group(1)], month, day), today, precision)
        return _nearer(date(today.year, month, day), date(today.year - 1, month, day), today, precision)
    if m := _AGO.fullmatch(value):
        return _ago(m, today)
    if m := _WEEKDAY_ZH.fullmatch(value):
        weekday = 6 if m.group(2) in "日天" else int(m.group(2)) - 1
        back = {"上上": 2, "上": 1, "这": 0, "本": 0}.get(m.group(1) or "")
        return _weekday(back, weekday, today)
    if (m := _WEEKDAY_EN.fullmatch(value)) and m.group(2) in _WEEKDAYS_EN:
        weekday = _WEEKDAYS_EN[m.group(2)]
        if m.group(1) == "this":
            return _weekday(0, weekday, today)
        # "last Tuesday", "on Tuesday", "Tuesday": the latest Tuesday before today ("last") or up to today.
        days = (today.weekday() - weekday) % 7 or (7 if m.group(1) == "last" else 0)
        return When(today - timedelta(days=days))
    if m := _REL_MONTH_DAY.fullmatch(value):
        back = 2 if m.group(1).startswith("上上") else 1 if m.group(1).startswith("上") else 0
        first = months_before(today, back).replace(day=1)
        return _past(_make(first.year, first.month, int(m.group(2))), today)
    if m := _YEAR_WORD_MD.fullmatch(value):
        return _past(_make(today.year - _YEAR_WORDS[m.group(1)], int(m.group(2)), int(m.group(3))), today)
    if m := _YMD.fullmatch(value):
        return _past(_make(int(m.group(1)), int(m.group(2)), int(m.group(3))), today)
    if m := _DMY.fullmatch(value):
        return _dmy(m, today)
    if (m := _LUNAR.fullmatch(value)) and ("初" in value or "农历" in value or "阴历" in value
                                           or m.group(2) in _LUNAR_MONTHS):  # fmt: skip
        month = _LUNAR_MONTHS.get(m.group(2)) or int(m.group(2))
        return _lunar_when(m.group(1), month, int(m.group(3) or m.group(4)), today, Precision.DAY)
    if m := _MD.fullmatch(value) or _MD_BARE.fullmatch(value):
        return _month_day(int(m.group(1)), int(m.group(2)), None, today)
    if m := _SEASON.fullmatch(value):
        if m.group(2):
            word, start = m.group(1), _SEASONS[m.group(2)]
            if word is None:
                return _season(None, start, today)
            year = today.year - _YEAR_WORDS[word] if word in _YEAR_WORDS else int(word.rstrip("年").strip())
            return _season(year, start, today)
        start, year_text = _SEASONS[m.group(4)], m.group(5)
        if year_text:
            return _season(int(year_text), start, today)
        if m.group(3) == "this":
            return _season(today.year, start, today)
        return _season(None, start, today)
    if m := _YEAR_WORD_MONTH.fullmatch(value):
        return _month(
            None if m.group(1) is None else today.year - _YEAR_WORDS[m.group(1)], int(m.group(2)), today
        )
    if m := _YM.fullmatch(value):
        return _month(int(m.group(1)), int(m.group(2)), today)
    if (m := _DAY_MONTH.fullmatch(value)) and m.group(2) in _MONTHS:
        return _month_day(_MONTHS[m.group(2)], int(m.group(1)), m.group(3), today)
    if (m := _MONTH_DAY.fullmatch(value)) and m.group(1) in _MONTHS:
        return _month_day(_MONTHS[m.group(1)], int(m.group(2)), m.group(3), today)
    if (m := _MONTH_YEAR.fullmatch(value)) and m.group(2) in _MONTHS:
        return _month(int(m.group(3)) if m.group(3) else None, _MONTHS[m.group(2)], today)
    if (m := _YEAR.fullmatch(value)) and EARLIEST.year <= int(m.group(1)) <= 9999:
        return _past(date(int(m.group(1)), 1, 1), today, Precision.YEAR)
    raise InputError("Sorry, I could not read that date. Please write it like 2026-11-20 or 3 days ago.")


def parse_date(text: str, *, today: date, lang: str = "zh_CN") -> date:
    """Return the (first) past day in `text`; `parse_when` also says how precisely it is known."""
    return parse_when(text, today=today).day


def _looks_like_date(value: str) -> bool:
    return any(p.fullmatch(value) for p in (_YMD, _DMY, _MD, _DAY_MONTH, _MONTH_DAY))


def years_between(born: date, today: date) -> int:
    """Return the whole years from `born` to `today` (a birthday not yet reached this year does not count)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _too_old(max_years: int) -> TooOld:
    return TooOld("Please give an age from 0 to %(max)s, or the date of birth.", max=max_years)


def _age(value: str, today: date, max_years: int = MAX_AGE_YEARS) -> Age | None:
    value = _AGE_AROUND.sub("", _AGE_AROUND.sub("", value)).strip()
    value = re.sub(r"(岁|周岁)多$", r"\1", value).removesuffix("多")  # 六岁多: six and some months
    if value in _NEWBORN:
        return Age(_NEWBORN[value], in_months=True)
    if m := _AGE_RANGE.fullmatch(value):
        low, high = m.group(1), m.group(2)
        if len(low) > MAX_DIGITS or len(high) > MAX_DIGITS:
            raise _too_old(max_years)
        low_n, high_n = sorted((int(low), int(high)))
        months = bool(m.group("unit")) and m.group("unit").startswith(("个月", "month"))
        scale = 1 if months else 12
        if high_n >= 100:  # 2019-03, 2018-2019: a month or years, not ages
            return None
        if low_n * scale > max_years * 12:
            raise _too_old(max_years)
        if high_n == low_n:
            return Age(low_n * scale, in_months=months)
        return Age(low_n * scale, in_months=months, max_months=min(high_n * scale, max_years * 12))
    if m := _AGE_DECIMAL.fullmatch(value):
        total = int(m.group(1)) * 12 + round(int(m.group(2)) * 12 / 10)
        if total > max_years * 12:
            raise _too_old(max_years)
        return Age(total, in_months=True)
    if m := _AGE_MONTHS.fullmatch(value):
        years, months = m.group(1) or "0", m.group(2)
        if len(years) > MAX_DIGITS or (months != "半" and len(months) > MAX_DIGITS):
            raise _too_old(max_years)
        total = int(years) * 12 + (6 if months == "半" else int(months))
        if total > max_years * 12:
            raise _too_old(max_years)
        return Age(total, in_months=True)
    if m := _AGE_YEARS.fullmatch(value):
        if len(m.group(1)) > MAX_DIGITS:
            raise _too_old(max_years)
        years = int(m.group(1))
        if EARLIEST.year <= years <= today.year and not m.group(2):
            raise InputError(
                "That looks like a year. Please give the full date of birth (like 2019-03-02) or the age."
            )
        total = years * 12 + (6 if m.group(2) else 0)
        if total > max_years * 12:  # 40岁半 is over 40
            raise _too_old(max_years)
        return Age(total, in_months=bool(m.group(2)))
    return None


def _born_in_year(year: int, today: date, max_years: int) -> Age:
    """Return the ages a child born in `year` may have today: 6 to 7 for 2019 in November 2026."""
    if not EARLIEST.year <= year <= today.year:
        raise (
            _future()
            if year > today.year
            else InputError("That date is too long ago. Please check the year.")
        )
    low, high = years_between(date(year, 12, 31), today), years_between(date(year, 1, 1), today)
    if low > max_years:
        raise TooOld("A child born then is over %(max)s years old now. Please check the year of birth.",
                     max=max_years)  # fmt: skip
    low = max(low, 0)
    return Age(low * 12, max_months=high * 12 if high > low else None)


def parse_age_or_birth(
    text: str, today: date, *, max_years: int = MAX_AGE_YEARS
) -> tuple[date | None, Age | None]:
    """Return (birth date, age) from "5", "十岁", "两岁半", "五六岁", "2019年出生", "2019-03-02"...; one is None.

    Ages above `max_years` (and births longer ago) raise TooOld.
    """
    born, age = parse_birth(text, today, max_years=max_years)
    return (born.day if born else None), age


def parse_birth(text: str, today: date, *, max_years: int = MAX_AGE_YEARS) -> tuple[When | None, Age | None]:
    """Like `parse_age_or_birth`, with how precisely the birth is known: "2019-05" is a month (its first day)."""
    value = _fold(text)
    if m := _BORN.fullmatch(value):  # "born 2019", "2019年出生", "生于2019年3月2日"
        rest = (m.group("a") or m.group("b") or "").strip()
        if re.fullmatch(r"\d{4}\s*年?", rest):
            return None, _born_in_year(int(rest.removesuffix("年").strip()), today, max_years)
        if _YM.fullmatch(rest) or _looks_like_date(rest):
            value = rest
    if (age := _age(value, today, max_years)) is not None:
        return None, age
    if m := _YM.fullmatch(value):
        # Only a month: keep the 1st, which is within a month of the truth.
        born = When(_check_past(_make(int(m.group(1)), int(m.group(2)), 1), today), Precision.MONTH)
    elif _looks_like_date(value):
        born = When(parse_date(value, today=today))
    else:
        raise InputError("Please give the age (like 5) or the date of birth (like 2019-03-02).")
    if years_between(born.day, today) > max_years:
        raise TooOld("A child born then is over %(max)s years old now. Please check the year of birth.",
                     max=max_years)  # fmt: skip
    return born, None


def parse_past_when(text: str, *, today: date, allow_unknown: bool = False) -> When:
    """Return the date a child was last seen (or found); an age typed here is told to give a day instead."""
    try:
        return parse_when(text, today=today, allow_unknown=allow_unknown)
    except InputError as refused:
        if "could not read" not in refused.message:
            raise
        try:
            age = _age(_fold(text), today)
        except InputError:
            age = None
        if age is not None:
            raise InputError(
                "That looks like an age. Please give the day, like 2026-11-20 or 3 days ago."
            ) from None
        raise


def parse_past_date(text: str, *, today: date) -> date:
    """Return the (first) day a child was last seen; `parse_past_when` also gives the precision."""
    return parse_past_when(text, today=today).day
