"""The date and age reader: the forms parents type, and helpful refusals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.dates import MAX_AGE_YEARS, Age, parse_age_or_birth, parse_date, parse_past_date
from intake.errors import InputError

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
