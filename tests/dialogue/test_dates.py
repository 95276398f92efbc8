"""The date and age reader: the forms parents type, and helpful refusals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from intake.platform.dates import (
    MAX_AGE_YEARS,
    Age,
    Precision,
    TooOld,
    When,
    parse_age_or_birth,
    parse_date,
    parse_past_date,
    parse_when,
)
from intake.platform.errors import InputError

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", date(2026, 11, 20)),
        ("2026/11/20", date(2026, 11, 20)),
        ("20/11/2026", date(2026, 11, 20)),
        ("20.11.2026", date(2026, 11, 20)),
        ("11月20日", date(2026, 11, 20)),
        ("11月20号", date(2026, 11, 20)),
        ("2026年11月20日", date(2026, 11, 20)),
        ("２０２６年１１月２０日", date(2026, 11, 20)),
        ("yesterday", date(2026, 11, 22)),
        ("Today", date(2026, 11, 23)),
        ("昨天", date(2026, 11, 22)),
        ("今天", date(2026, 11, 23)),
        ("前天", date(2026, 11, 21)),
        ("3天前", date(2026, 11, 20)),
        ("三天前", date(2026, 11, 20)),
        ("3 days ago", date(2026, 11, 20)),
        ("1 day ago", date(2026, 11, 22)),
        ("2 weeks ago", date(2026, 11, 9)),
        ("上周", date(2026, 11, 16)),
        ("1990-06-01", date(1990, 6, 1)),
        ("十天前", date(2026, 11, 13)),
        ("二十五天前", date(2026, 10, 29)),
        ("半个月前", date(2026, 11, 8)),
        ("上个月", date(2026, 10, 1)),  # a month: its first day, kept with the precision month
        ("两个月前", date(2026, 9, 1)),
        ("3个月前", date(2026, 8, 1)),
        ("一年前", date(2025, 1, 1)),
        ("三个星期前", date(2026, 11, 2)),
        ("上个星期", date(2026, 11, 16)),
        ("大前天", date(2026, 11, 20)),
        ("3 months ago", date(2026, 8, 1)),
        ("last month", date(2026, 10, 1)),
        ("2 years ago", date(2024, 1, 1)),
        ("十一月二十日", date(2026, 11, 20)),
        ("三個月前", date(2026, 8, 1)),
        ("上個月", date(2026, 10, 1)),
        ("20 Nov 2026", date(2026, 11, 20)),  # how a summary shows a date in English, typed back
        ("Nov 20", date(2026, 11, 20)),
        ("November 20th, 2025", date(2025, 11, 20)),
        ("Fri 20 Nov", date(2026, 11, 20)),
        ("11/20/2026", date(2026, 11, 20)),  # only month first makes a date
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY, lang="zh_CN") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "future"),
        ("12月25日", "still to come this year"),  # not silently last year
        ("28 Nov", "still to come this year"),
        ("2026-12-01", "future"),
        ("30/11/2026", "future"),
        ("1899-12-31", "too long ago"),
        ("2026-02-30", "no such date"),
        ("13/13/2026", "no such date"),
        ("", "could not read"),
        ("3/8/2026", "2026-08-03 or the 2026-03-08"),  # day and month both up to 12: asked
        ("1000000天前", "too long ago"),
        ("1000000 days ago", "too long ago"),
        ("一百万天前", "too long ago"),
        ("99999 weeks ago", "too long ago"),
        ("5000 years ago", "too long ago"),
        ("200年前", "too long ago"),
        ("9" * 5000 + " days ago", "too long ago"),  # int() of it would raise ValueError
        ("20 Foo", "could not read"),
        ("31 Feb", "no such date"),
    ],
)
def test_parse_date_refuses(text, reason):
    with pytest.raises(InputError) as caught:
        parse_date(text, today=TODAY)
    assert reason in str(caught.value)


def _years(n: int) -> tuple[None, Age]:
    return None, Age(n * 12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", _years(5)),
        ("5岁", _years(5)),
        ("五岁", _years(5)),
        ("十岁", _years(10)),
        ("十二周岁", _years(12)),
        ("5 years", _years(5)),
        ("5 years old", _years(5)),
        ("0", _years(0)),
        ("40", _years(40)),
        ("八个月", (None, Age(8, in_months=True))),
        ("8 months", (None, Age(8, in_months=True))),
        ("18个月大", (None, Age(18, in_months=True))),
        ("两岁半", (None, Age(30, in_months=True))),
        ("兩歲半", (None, Age(30, in_months=True))),  # Traditional, as a Hong Kong or Taiwan phone sends it
        ("八個月", (None, Age(8, in_months=True))),
        ("2岁3个月", (None, Age(27, in_months=True))),
        ("1 year and 6 months", (None, Age(18, in_months=True))),
        ("2019-03-02", (date(2019, 3, 2), None)),
        ("2019年3月2日", (date(2019, 3, 2), None)),
        ("二零一九年三月二日", (date(2019, 3, 2), None)),
        ("2019年3月", (date(2019, 3, 1), None)),
        ("2019-03", (date(2019, 3, 1), None)),
        ("2 Mar 2019", (date(2019, 3, 2), None)),
    ],
)
def test_parse_age_or_birth(text, expected):
    assert parse_age_or_birth(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("41", "from 0 to 40"),
        ("1000000", "from 0 to 40"),
        ("500个月", "from 0 to 40"),
        ("1980-01-01", "over 40 years old"),  # a date of birth is told about the date of birth, not the age
        ("2019", "looks like a year"),
        ("2027-01-01", "future"),
        ("abc", "age (like 5)"),
        ("-3", "age (like 5)"),
    ],
)
def test_parse_age_or_birth_refuses(text, reason):
    with pytest.raises(InputError) as caught:
        parse_age_or_birth(text, TODAY)
    assert reason in str(caught.value)


def test_an_age_allows_births_up_to_its_next_birthday():
    assert Age(0).earliest_birth(TODAY) == date(2025, 11, 23)
    assert Age(60).earliest_birth(TODAY) == date(2020, 11, 23)
    assert Age(8, in_months=True).earliest_birth(TODAY) == date(2026, 2, 23)


UNITS = [
    "天前",
    "日前",
    "周前",
    "个星期前",
    "个月前",
    "年前",
    " days ago",
    " weeks ago",
    " months ago",
    " years ago",
]


@given(st.integers(min_value=0, max_value=10**30), st.sampled_from(UNITS))
def test_any_count_of_days_weeks_months_or_years_ago_is_a_date_or_a_reason(number, unit):
    try:
        found = parse_date(f"{number}{unit}", today=TODAY)
    except InputError as refused:
        assert "too long ago" in str(refused)
    else:
        assert date(1900, 1, 1) <= found <= TODAY


@given(
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from(["", "岁", "个月", " years", " months", "岁半"]),
)
@example(40, "岁半")  # found by a random run: 40 and a half was taken, over the 40 years' limit
def test_any_age_is_an_age_or_a_reason(number, unit):
    try:
        _born, age = parse_age_or_birth(f"{number}{unit}", TODAY)
    except InputError as refused:
        assert str(refused)
    else:
        assert age is not None and 0 <= age.months <= MAX_AGE_YEARS * 12


@pytest.mark.parametrize(("text", "reason"), [("5岁", "looks like an age"), ("5", "looks like an age"),
                                              ("八个月", "looks like an age"), ("next friday", "future"), ("blah", "could not read")])  # fmt: skip
def test_an_age_at_the_date_question_is_told_to_give_a_day(text, reason):
    with pytest.raises(InputError) as caught:
        parse_past_date(text, today=TODAY)
    assert reason in str(caught.value)
    assert parse_past_date("3天前", today=TODAY) == date(2026, 11, 20)


# Everyday forms (issue 17): each kept as precisely as it was said. TODAY is Monday 23 November 2026.
@pytest.mark.parametrize(
    ("text", "day", "precision"),
    [
        ("上个月15号", date(2026, 10, 15), Precision.DAY),
        ("上个月15日", date(2026, 10, 15), Precision.DAY),
        ("上周二", date(2026, 11, 17), Precision.DAY),
        ("上星期三", date(2026, 11, 18), Precision.DAY),
        ("上礼拜天", date(2026, 11, 22), Precision.DAY),
        ("这周一", date(2026, 11, 23), Precision.DAY),
        ("周六", date(2026, 11, 21), Precision.DAY),
        ("昨天晚上", date(2026, 11, 22), Precision.DAY),
        ("昨天下午3点", date(2026, 11, 22), Precision.DAY),
        ("昨天晚上8点左右", date(2026, 11, 22), Precision.DAY),
        ("前天上午十点半", date(2026, 11, 21), Precision.DAY),
        ("昨晚", date(2026, 11, 22), Precision.DAY),
        ("半年前", date(2026, 5, 1), Precision.MONTH),
        ("大概半年前", date(2026, 5, 1), Precision.MONTH),
        ("一个多月前", date(2026, 10, 1), Precision.MONTH),
        ("两个多月前", date(2026, 9, 1), Precision.MONTH),
        ("十多天前", date(2026, 11, 13), Precision.WEEK),
        ("五六天前", date(2026, 11, 17), Precision.WEEK),
        ("几天前", date(2026, 11, 20), Precision.WEEK),
        ("上周", date(2026, 11, 16), Precision.WEEK),
        ("一年多前", date(2025, 1, 1), Precision.YEAR),
        ("去年10月", date(2025, 10, 1), Precision.MONTH),
        ("去年10月份", date(2025, 10, 1), Precision.MONTH),
        ("今年3月", date(2026, 3, 1), Precision.MONTH),
        ("10月", date(2026, 10, 1), Precision.MONTH),
        ("12月", date(2025, 12, 1), Precision.MONTH),  # a month not begun yet this year: last year's
        ("2026年11月", date(2026, 11, 1), Precision.MONTH),
        ("2025-10", date(2025, 10, 1), Precision.MONTH),
        ("去年10月1日", date(2025, 10, 1), Precision.DAY),
        ("去年", date(2025, 1, 1), Precision.YEAR),
        ("前年", date(2024, 1, 1), Precision.YEAR),
        ("2019年", date(2019, 1, 1), Precision.YEAR),
        ("去年夏天", date(2025, 6, 1), Precision.SEASON),
        ("今年春天", date(2026, 3, 1), Precision.SEASON),
        ("秋天", date(2026, 9, 1), Precision.SEASON),
        ("国庆节", date(2026, 10, 1), Precision.WEEK),
        ("国庆", date(2026, 10, 1), Precision.WEEK),
        ("去年国庆节", date(2025, 10, 1), Precision.WEEK),
        ("五一", date(2026, 5, 1), Precision.WEEK),
        ("元旦", date(2026, 1, 1), Precision.DAY),
        ("春节", date(2026, 2, 17), Precision.WEEK),  # 2026's lunar new year
        ("大年初一", date(2026, 2, 17), Precision.DAY),
        ("去年除夕", date(2026, 2, 16), Precision.DAY),  # New Year's Eve of the lunar year 2025
        ("正月十五", date(2026, 3, 3), Precision.DAY),
        ("元宵节", date(2026, 3, 3), Precision.DAY),
        ("中秋节", date(2026, 9, 25), Precision.DAY),
        ("农历八月十五", date(2026, 9, 25), Precision.DAY),
        ("端午节", date(2026, 6, 19), Precision.DAY),
        ("去年腊月初八", date(2026, 1, 26), Precision.DAY),  # the 12th month of the lunar year 2025
        ("十月初一", date(2026, 11, 9), Precision.DAY),  # 初: a lunar day
        ("last Tuesday", date(2026, 11, 17), Precision.DAY),
        ("on Saturday", date(2026, 11, 21), Precision.DAY),
        ("last Monday", date(2026, 11, 16), Precision.DAY),  # today is a Monday: last week's
        ("yesterday evening", date(2026, 11, 22), Precision.DAY),
        ("yesterday at 3pm", date(2026, 11, 22), Precision.DAY),
        ("last night", date(2026, 11, 22), Precision.DAY),
        ("this morning", date(2026, 11, 23), Precision.DAY),
        ("two weeks ago", date(2026, 11, 9), Precision.WEEK),
        ("a week ago", date(2026, 11, 16), Precision.WEEK),
        ("three days ago", date(2026, 11, 20), Precision.DAY),
        ("a month ago", date(2026, 10, 1), Precision.MONTH),
        ("six months ago", date(2026, 5, 1), Precision.MONTH),
        ("in October", date(2026, 10, 1), Precision.MONTH),
        ("October", date(2026, 10, 1), Precision.MONTH),
        ("October 2025", date(2025, 10, 1), Precision.MONTH),
        ("Oct 2025", date(2025, 10, 1), Precision.MONTH),
        ("last summer", date(2026, 6, 1), Precision.SEASON),
        ("winter 2024", date(2024, 12, 1), Precision.SEASON),
        ("about a year ago", date(2025, 1, 1), Precision.YEAR),
        ("National Day", date(2026, 10, 1), Precision.WEEK),
        ("Chinese New Year", date(2026, 2, 17), Precision.WEEK),
        ("3/13/2026", date(2026, 3, 13), Precision.DAY),
        ("13/3/2026", date(2026, 3, 13), Precision.DAY),
        ("8/8/2026", date(2026, 8, 8), Precision.DAY),  # the same either way: not asked
    ],
)
def test_everyday_dates_keep_their_precision(text, day, precision):
    assert parse_when(text, today=TODAY) == When(day, precision)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("明天", "future"), ("明天下午", "future"), ("后天", "future"), ("下周二", "future"), ("下个月", "future"),
        ("明年", "future"), ("tomorrow", "future"), ("next week", "future"), ("in 3 days", "future"),
        ("3天后", "future"), ("2026年12月", "future"), ("今年冬天", "future"),
        ("3/8/2026", "Is 3/8/2026 the 2026-08-03 or the 2026-03-08?"),
        ("12/11/2026", "the 2026-11-12 or the 2026-12-11?"),
        ("12月25日", "2026-12-25 is still to come this year. If you mean last year, write the year too, like 2025-12-25"),
        ("Dec 25", "still to come this year"), ("腊月初八", "still to come this year"),
        ("不知道", "could not read"),  # not a date where a date is needed (the volunteer's question allows it)
        ("农历13月1日", "no such date"),
    ],
)  # fmt: skip
def test_future_ambiguous_and_unknown_dates_are_asked(text, reason):
    with pytest.raises(InputError) as caught:
        parse_when(text, today=TODAY)
    assert reason in str(caught.value)


def test_a_yearless_date_is_this_year_s_when_past_and_last_year_s_when_that_is_nearer():
    december = date(2026, 12, 6)
    with pytest.raises(InputError, match="still to come"):
        parse_when("12月25日", today=december)  # written in December: not silently a year ago
    assert parse_when("12月25日", today=date(2026, 12, 26)).day == date(2026, 12, 25)
    assert parse_when("12月25日", today=date(2027, 1, 5)).day == date(2026, 12, 25)  # 11 days ago
    assert parse_when("腊月初八", today=date(2026, 3, 1)).day == date(2026, 1, 26)
    assert parse_when("2月29日", today=date(2027, 3, 1)).day == date(2027, 2, 28)


@pytest.mark.parametrize("text", ["不知道", "不清楚", "跳过", "skip", "unknown", "Don't know", "not sure"])
def test_unknown_is_a_date_only_where_it_is_allowed(text):
    assert parse_when(text, today=TODAY, allow_unknown=True) == When(TODAY, Precision.UNKNOWN)


def test_a_period_ends_on_its_last_day():
    assert When(date(2026, 2, 1), Precision.MONTH).last_day == date(2026, 2, 28)
    assert When(date(2025, 12, 1), Precision.SEASON).last_day == date(2026, 2, 28)
    assert When(date(2025, 1, 1), Precision.YEAR).last_day == date(2025, 12, 31)
    assert When(date(2025, 1, 9), Precision.WEEK).last_day == date(2025, 1, 9)


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("六岁多", Age(72)), ("6岁多", Age(72)), ("刚满月", Age(1, in_months=True)), ("满月", Age(1, in_months=True)),
        ("刚出生", Age(0, in_months=True)), ("newborn", Age(0, in_months=True)), ("2.5", Age(30, in_months=True)),
        ("2.5岁", Age(30, in_months=True)), ("1.5 years", Age(18, in_months=True)), ("two", Age(24)),
        ("Two years old", Age(24)), ("twenty-one", Age(252)), ("五六岁", Age(60, max_months=72)),
        ("大概五六岁", Age(60, max_months=72)), ("5-6岁", Age(60, max_months=72)), ("5到6岁", Age(60, max_months=72)),
        ("5至6岁", Age(60, max_months=72)), ("5~6", Age(60, max_months=72)), ("five or six", Age(60, max_months=72)),
        ("about five or six years old", Age(60, max_months=72)), ("5 to 6 years", Age(60, max_months=72)),
        ("两三岁", Age(24, max_months=36)), ("十五六岁", Age(180, max_months=192)), ("6-5岁", Age(60, max_months=72)),
        ("3到4个月", Age(3, in_months=True, max_months=4)), ("6岁左右", Age(72)), ("差不多7岁", Age(84)),
        ("born 2019", Age(72, max_months=84)), ("2019年出生", Age(72, max_months=84)),
        ("2019年生", Age(72, max_months=84)), ("生于2019年", Age(72, max_months=84)), ("Born in 2019", Age(72, max_months=84)),
        ("2026年出生", Age(0)),
    ],
)  # fmt: skip
def test_everyday_ages_and_ranges(text, age):
    assert parse_age_or_birth(text, TODAY) == (None, age)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("五六十岁", "age (like 5)"), ("41", "from 0 to 40"), ("41-45", "from 0 to 40"), ("born 2030", "future"),
     ("1970年出生", "over 40 years old"), ("九十", "from 0 to 40")],
)  # fmt: skip
def test_ages_beyond_the_limit_or_unreadable_are_refused(text, reason):
    with pytest.raises(InputError) as caught:
        parse_age_or_birth(text, TODAY)
    assert reason in str(caught.value)


def test_one_limit_for_every_age_above_it():
    # The volunteers' question passes its own limit: 25, 40 and 41 are refused the same way (TooOld).
    for text in ("18", "25", "40", "41", "1000", "2000年出生", "20-25"):
        with pytest.raises(TooOld):
            parse_age_or_birth(text, TODAY, max_years=17)
    assert parse_age_or_birth("16-19", TODAY, max_years=17) == (None, Age(192, max_months=204))


def test_a_range_allows_births_up_to_the_top_s_next_birthday():
    assert Age(60, max_months=72).earliest_birth(TODAY) == date(2019, 11, 23)


_PIECES = st.sampled_from(
    [*"0123456789年月日号-/.半多个前后上下周星期天去今明农历初正腊冬春夏秋岁出生 一二三四五六七八九十两",
     "ago", "last", "born", "october", "国庆", "除夕", "腊月", "2019", "9999", "0000", "1899", "to", "or"]
)  # fmt: skip


@given(st.one_of(st.lists(_PIECES, max_size=8).map("".join), st.text(max_size=30)))
def test_any_text_is_a_past_date_an_age_or_a_reason(text):
    for allow_unknown in (False, True):
        try:
            when = parse_when(text, today=TODAY, allow_unknown=allow_unknown)
        except InputError as refused:
            assert str(refused)
        else:
            assert date(1900, 1, 1) <= when.day <= TODAY and when.last_day >= when.day
    for limit in (MAX_AGE_YEARS, 17):
        try:
            born, age = parse_age_or_birth(text, TODAY, max_years=limit)
        except InputError as refused:
            assert str(refused)
        else:
            assert (born is None) != (age is None)
            if age is not None:
                assert 0 <= age.months <= (age.max_months or age.months) <= limit * 12
