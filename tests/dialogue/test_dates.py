"""The date and age reader: the forms parents type, and helpful refusals."""

from __future__ import annotations

from datetime import date

import pytest

from intake.dates import parse_age_or_birth, parse_date
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
        ("12月25日", date(2025, 12, 25)),  # no year and not yet this year: last year
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
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY, lang="zh_CN") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "could not read"),
        ("2026-12-01", "future"),
        ("30/11/2026", "future"),
        ("1899-12-31", "too long ago"),
        ("2026-02-30", "no such date"),
        ("13/13/2026", "no such date"),
        ("", "could not read"),
        ("11/20/2026", "no such date"),  # month first is not read as a US date
    ],
)
def test_parse_date_refuses(text, reason):
    with pytest.raises(InputError) as caught:
        parse_date(text, today=TODAY)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (None, 5)),
        ("5岁", (None, 5)),
        ("五岁", (None, 5)),
        ("5 years", (None, 5)),
        ("5 years old", (None, 5)),
        ("0", (None, 0)),
        ("40", (None, 40)),
        ("2019-03-02", (date(2019, 3, 2), None)),
        ("2019年3月2日", (date(2019, 3, 2), None)),
        ("2019年3月", (date(2019, 3, 1), None)),
        ("2019-03", (date(2019, 3, 1), None)),
    ],
)
def test_parse_age_or_birth(text, expected):
    assert parse_age_or_birth(text, TODAY) == expected


@pytest.mark.parametrize("text", ["41", "1980-01-01", "2027-01-01", "abc", "2019", "-3"])
def test_parse_age_or_birth_refuses(text):
    with pytest.raises(InputError):
        parse_age_or_birth(text, TODAY)
