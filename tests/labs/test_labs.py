"""The lab directory: import, demo data, search, free days."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from intake.errors import InputError
from intake.labs import find_labs, free_days, import_labs, load_demo_labs, parse_opening_days
from intake.models import AuditEvent, Lab
from tests.labs.factories import TODAY, make_lab

HEADER = "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity\n"


def test_demo_directory_covers_every_provincial_capital_and_reimports_idempotently(session):
    report = load_demo_labs(session)
    assert (report.created, report.updated) == (31, 0)
    again = load_demo_labs(session)
    assert (again.created, again.updated) == (0, 31)
    labs = session.scalars(sa.select(Lab)).all()
    assert len(labs) == 31 and all(lab.is_demo for lab in labs)
    assert len({lab.province for lab in labs}) == 31
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "labs.import")
        )
        == 2
    )


def test_a_bad_file_names_its_bad_lines_and_imports_nothing(session):
    csv = HEADER + (
        "A,广东省,广州,路1号,23.1,113.2,020,1-5,09:00-17:00,10\n"
        "B,广东省,广州,路2号,999,113.2,020,1-5,09:00-17:00,10\n"
        "C,广东省,广州,路3号,23.1,113.2,020,Funday,09:00-17:00,10\n"
        "D,广东省,广州,路4号,23.1,113.2,020,1-5,17:00-09:00,0\n"
    )
    with pytest.raises(InputError) as err:
        import_labs(session, io.StringIO(csv))
    message = str(err.value)
    assert "line 3" in message and "line 4" in message and "line 5" in message and "line 2" not in message
    assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0


def test_a_file_without_the_columns_is_refused(session):
    with pytest.raises(InputError, match="daily_capacity"):
        import_labs(session, io.StringIO("name,city\nA,B\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-5", "1,2,3,4,5"),
        ("Mon-Fri", "1,2,3,4,5"),
        ("周一至周五", "1,2,3,4,5"),
        ("1,3,5", "1,3,5"),
        ("Mon-Sat", "1,2,3,4,5,6"),
    ],
)
def test_opening_days_in_several_spellings(text, expected):
    assert parse_opening_days(text) == expected


@pytest.mark.parametrize("query", ["北京", "北京市", "Beijing", " beijing ", "BEIJING"])
def test_find_labs_by_city_in_chinese_or_english(session, query):
    load_demo_labs(session)
    options = find_labs(session, query, today=TODAY)
    assert [o.lab.city for o in options] == ["北京"]


@pytest.mark.parametrize("query", ["广东", "广东省", "Guangdong", "guangdong province"])
def test_find_labs_by_province(session, query):
    load_demo_labs(session)
    assert [o.lab.city for o in find_labs(session, query, today=TODAY)] == ["广州"]


def test_find_labs_tolerates_apostrophes_and_finds_nothing_for_unknown_places(session):
    load_demo_labs(session)
    assert [o.lab.city_en for o in find_labs(session, "xian", today=TODAY)] == ["Xi'an"]
    assert find_labs(session, "Atlantis", today=TODAY) == []


def test_free_days_start_tomorrow_and_skip_closed_weekdays(session):
    lab = make_lab(session, days="1,3,5")
    days = free_days(session, lab, today=TODAY, count=4)  # Friday 27 Nov 2026
    assert [d.day for d in days] == [
        date(2026, 11, 30),
        date(2026, 12, 2),
        date(2026, 12, 4),
        date(2026, 12, 7),
    ]
    assert all(d.free == 10 for d in days)
