"""The lab directory: import, demo data, search, free days."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.labs.directory import (
    DEMO_LABS,
    find_labs,
    free_days,
    import_labs,
    load_demo_labs,
    parse_opening_days,
    parse_opening_hours,
)
from intake.labs.slots import china_today
from intake.models import AuditEvent, Lab, LabDay
from intake.platform.errors import InputError
from tests.labs.helpers import import_errors
from tests.support.factories import TODAY, make_lab

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


@pytest.mark.parametrize(
    ("query", "city"),
    [("西安市", "西安"), ("Xi'an", "西安"), ("XIAN", "西安"), ("Ürümqi", "乌鲁木齐"), ("wulumuqi", "乌鲁木齐"),
     ("ＢＥＩＪＩＮＧ", "北京"), ("内蒙古", "呼和浩特"), ("Inner Mongolia", "呼和浩特"), ("新疆维吾尔自治区", "乌鲁木齐"),
     ("Xizang", "拉萨"), ("guangzhou city", "广州")],
)  # fmt: skip
def test_find_labs_folds_suffixes_width_accents_and_pinyin(session, query, city):
    load_demo_labs(session)
    assert [o.lab.city for o in find_labs(session, query, today=TODAY)] == [city]


def test_find_labs_offers_at_most_limit_active_labs_with_free_days(session):
    labs = [make_lab(session, city=f"广州{i}") for i in range(7)]
    for lab in labs:
        lab.city, lab.province, lab.province_en = "广州", "广东省", "Guangdong"
    labs[0].active = False
    full = make_lab(session, city="广州x", capacity=1)
    full.city, full.province = "广州", "广东省"
    session.flush()
    for day in free_days(session, full, today=TODAY, horizon_days=14, count=14):
        session.execute(
            sa.update(LabDay).where(LabDay.lab_id == full.id, LabDay.day == day.day).values(booked=1)
        )
    options = find_labs(session, "guangdong", today=TODAY, limit=5)
    assert [o.lab.id for o in options] == [lab.id for lab in labs[1:6]]
    assert all(len(o.days) == 3 and o.days[0].day == date(2026, 11, 30) for o in options)
    assert find_labs(session, "", today=TODAY) == []


def test_free_days_create_each_lab_day_once_and_skip_full_days(session):
    lab = make_lab(session, capacity=2)
    free_days(session, lab, today=TODAY)
    free_days(session, lab, today=TODAY)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(LabDay)) == 10
    )  # weekdays of the next 14 days
    session.execute(sa.update(LabDay).where(LabDay.day == date(2026, 11, 30)).values(booked=2))
    days = free_days(session, lab, today=TODAY)
    assert [(d.day, d.free) for d in days] == [
        (date(2026, 12, 1), 2),
        (date(2026, 12, 2), 2),
        (date(2026, 12, 3), 2),
    ]


def test_bad_rows_say_what_is_wrong(session):
    csv = HEADER + (
        "A,广东省,广州,路1号,abc,113.2,020,1-5,09:00-17:00,10\n"
        "B,广东省,广州,路2号,23.1,113.2,020,1-5,9-5,10\n"
        "C,广东省,广州,,23.1,113.2,020,1-5,09:00-17:00,ten\n"
        "D,广东省,广州,路4号,23.1,113.2,020,1-5,09:00-17:00,10\n"
        "D,广东省,广州,路4号,23.1,113.2,020,1-5,09:00-17:00,10\n"
    )
    message = import_errors(session, csv)
    assert "line 2: latitude 'abc' is not a number" in message
    assert "line 3: cannot read opening hours '9-5'" in message
    assert "line 4: empty address" in message
    assert "line 6: repeats the lab of line 5" in message


def test_reimport_updates_fields_and_future_capacity_without_going_below_bookings(session):
    row = "A,广东省,广州,路1号,23.1,113.2,020,1-5,09:00-17:00,{cap}\n"
    import_labs(session, io.StringIO(HEADER + row.format(cap=10)))
    lab = session.scalars(sa.select(Lab)).one()
    tomorrow = china_today() + timedelta(days=1)
    session.add_all([LabDay(lab_id=lab.id, day=tomorrow, capacity=10, booked=4),
                     LabDay(lab_id=lab.id, day=tomorrow + timedelta(days=1), capacity=10, booked=0)])  # fmt: skip
    session.flush()
    report = import_labs(session, io.StringIO(HEADER + row.format(cap=2).replace("路1号", "新路9号")))
    assert (report.created, report.updated) == (0, 1)
    session.expire_all()
    assert lab.address == "新路9号" and lab.daily_capacity == 2
    assert sorted(session.scalars(sa.select(LabDay.capacity))) == [2, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Mon - Fri", "1,2,3,4,5"), ("Monday to Friday", "1,2,3,4,5"), ("周一至周六", "1,2,3,4,5,6"),
     ("星期一、星期三", "1,3"), ("1,2,3,4,5", "1,2,3,4,5"), ("Sat,Sun", "6,7")],
)  # fmt: skip
def test_more_opening_day_spellings(text, expected):
    assert parse_opening_days(text) == expected


@pytest.mark.parametrize("text", ["Funday", "5-1", "", "Mon-Wed-Fri"])
def test_unreadable_opening_days(text):
    with pytest.raises(ValueError):
        parse_opening_days(text)


def test_opening_hours():
    assert parse_opening_hours("9:00~17:30") == "09:00-17:30"
    assert parse_opening_hours("8：30至12：00") == "08:30-12:00"
    for bad in ("17:00-09:00", "9-5", "25:00-26:00"):
        with pytest.raises(ValueError):
            parse_opening_hours(bad)


def test_demo_labs_are_marked_and_plausible(session):
    load_demo_labs(session)
    for lab in session.scalars(sa.select(Lab)):
        assert lab.is_demo and "演示" in lab.name and lab.name_en and "Demo" in lab.name_en
        assert lab.phone and lab.phone.endswith("0000-0001")
        assert 18 < (lab.latitude or 0) < 54 and 73 < (lab.longitude or 0) < 135
    assert "DEMO" in DEMO_LABS.name.upper()
