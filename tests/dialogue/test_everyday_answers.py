"""Everyday dates, ages and places at each question, as a parent or a volunteer answers (issue 17): what is
stored, and what the reply says. Every test runs on SQLite and PostgreSQL. NOW is Monday 23 November 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from intake.cases.found_children import register_found_child
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Case, Channel, FoundChild, SampleSource, Sex
from intake.platform import clock
from intake.platform.errors import InputError
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, run_transcript
from tests.dialogue.test_report_answers import TO_CHILD_NAME_EN, TO_CHILD_NAME_ZH

# --- The parent's report -----------------------------------------------------------------------------------


def _report(session, start, age, seen):
    answers = [
        ("李小明", ()),
        ("1", ()),
        (age, ()),
        (seen, ()),
        ("Wuhan", ()),
        ("skip", ()),
        ("王芳", ()),
        ("1", ()),
    ]
    replies = run_transcript(session, start + answers)
    summary = replies[-1]
    run_transcript(session, [("1", ("MC-",))])
    return summary, session.scalars(sa.select(Case)).one()


@pytest.mark.parametrize(
    ("start", "seen", "shown", "day", "precision"),
    [
        (TO_CHILD_NAME_ZH, "去年10月", "2025年10月在Wuhan", date(2025, 10, 1), "month"),
        (TO_CHILD_NAME_ZH, "上个月15号", "2026年10月15日", date(2026, 10, 15), "day"),
        (TO_CHILD_NAME_ZH, "昨天下午3点", "2026年11月22日", date(2026, 11, 22), "day"),
        (TO_CHILD_NAME_ZH, "国庆节", "2026年10月1日前后", date(2026, 10, 1), "week"),
        (TO_CHILD_NAME_ZH, "去年夏天", "2025年夏天", date(2025, 6, 1), "season"),
        (TO_CHILD_NAME_ZH, "去年腊月初八", "2026年1月26日", date(2026, 1, 26), "day"),
        (TO_CHILD_NAME_EN, "in October", "last seen Oct 2026 at", date(2026, 10, 1), "month"),
        (TO_CHILD_NAME_EN, "last Tuesday", "last seen 17 Nov 2026 at", date(2026, 11, 17), "day"),
        (TO_CHILD_NAME_EN, "two weeks ago", "last seen around 9 Nov 2026 at", date(2026, 11, 9), "week"),
    ],
)
def test_the_date_last_seen_is_stored_as_precisely_as_it_was_given(
    session, start, seen, shown, day, precision
):
    summary, case = _report(session, start, "5", seen)
    assert shown in summary, summary
    assert (case.last_seen_date, case.last_seen_precision) == (day, precision)


def test_a_future_or_ambiguous_date_last_seen_is_asked_again(session):
    to_date = TO_CHILD_NAME_ZH + [("李小明", ()), ("1", ()), ("5", ("最后一次见到孩子",))]
    run_transcript(session, to_date + [
        ("明天", ("这个日期还没到", "最后一次见到孩子")),
        ("3/8/2026", ("3/8/2026是2026-08-03还是2026-03-08？", "例如2026-08-03")),
        ("12月25日", ("今年的2026-12-25还没到", "2025-12-25")),
        ("2026-08-03", ("在哪里",)),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("start", "age", "shown", "stored"),
    [
        (TO_CHILD_NAME_ZH, "大概五六岁", "，5至6岁，", (5, 6)),
        (TO_CHILD_NAME_ZH, "5到6岁", "，5至6岁，", (5, 6)),
        (TO_CHILD_NAME_ZH, "六岁多", "，6岁，", (6, None)),
        (TO_CHILD_NAME_ZH, "刚满月", "，1个月，", (0, None)),
        (TO_CHILD_NAME_ZH, "2019年出生", "，6至7岁，", (6, 7)),
        (TO_CHILD_NAME_EN, "five or six", ", 5 to 6 years,", (5, 6)),
        (TO_CHILD_NAME_EN, "2.5", ", 2 years 6 months,", (2, None)),
        (TO_CHILD_NAME_EN, "two", ", 2 years,", (2, None)),
        (TO_CHILD_NAME_EN, "born 2019", ", 6 to 7 years,", (6, 7)),
    ],
)
def test_an_age_or_age_range_is_kept_as_given(session, start, age, shown, stored):
    summary, case = _report(session, start, age, "3天前")
    assert shown in summary, summary
    assert (case.child_age_years, case.child_age_max_years) == stored


def test_the_age_question_gives_examples_of_ages_not_dates(session):
    zh = run_transcript(session, TO_CHILD_NAME_ZH + [("李小明", ()), ("1", ("几岁", "五六岁", "8个月"))])[-1]
    assert "哪天出生" not in zh and "3月2日" not in zh
    en = run_transcript(session, TO_CHILD_NAME_EN + [("Li Ming", ()), ("1", ("How old", "5-6"))],
                        address="+8613900000001")[-1]  # fmt: skip
    assert "2019-03-02" not in en


def test_a_city_alone_books_at_a_lab_of_its_province(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(
        session, t.REPORT_ZH + [("1", ("哪个城市或省份",)), ("深圳", ("请选采血点", "1 演示采血点（广州）"))]
    )
    run_transcript(session, [("兰考县", ("1 演示采血点（郑州）",))])  # a county: the lab of its province


def test_a_pinyin_city_alone_books_at_a_lab_of_its_province(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(session, t.REPORT_EN + [("1", ("Which city or province",)),
                                          ("shenzhen", ("Choose a lab", "1 Demo sampling point (Guangzhou)"))])  # fmt: skip


# --- The volunteer's registration --------------------------------------------------------------------------


@pytest.fixture
def chat(session_factory):
    """Send messages through the inbox, as a channel does, at `now` (NOW unless given)."""
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    sids = iter(range(1, 10_000))

    def send(
        text: str,
        *,
        now: datetime = NOW,
        channel: Channel = Channel.SMS,
        address: str = "+8613800138000",
        **kw: object,
    ) -> str:
        incoming = Incoming(channel, address, text, now, provider_id=f"SM{next(sids)}", **kw)  # type: ignore[arg-type]
        with clock.pinned(now):
            return "\n".join(render_plain(r) for r in process(session_factory, incoming))

    return send


def _found(session_factory):
    with session_factory() as s:
        return s.scalars(sa.select(FoundChild)).one(), s.scalars(sa.select(Case)).one()


def test_unknown_found_date_and_an_age_range_are_stored_and_shown(chat, session_factory):
    for text in ("FOUND", "yes", "Guangzhou East station"):
        chat(text)
    assert "About how old" in chat("don't know")
    assert "boy or a girl" in chat("about five or six")
    for text in ("boy", "skip", "skip", "Zhang Wei"):
        chat(text)
    summary = chat("1")
    assert (
        "child found date not known at Guangzhou East station" in summary and "about 5 to 6 years" in summary
    )
    assert "Registered" in chat("1")
    found, case = _found(session_factory)
    assert (found.found_date, found.found_date_precision) == (date(2026, 11, 23), "unknown")
    assert (found.estimated_age_years, found.estimated_age_max_years) == (5, 6)
    assert (case.child_age_years, case.child_age_max_years) == (5, 6)


def test_an_adult_is_not_registered_as_a_child_and_every_adult_age_gets_one_answer(chat, session_factory):
    for text in ("发现", "1", "广州东站", "昨天"):
        chat(text)
    answers = {text: chat(text) for text in ("25", "40", "41", "18", "1990年出生")}
    for text, reply in answers.items():
        assert "这里只登记未满18岁的儿童" in reply and "110" in reply, (text, reply)
    assert "男孩还是女孩" in chat("大概十五六岁")  # a range that starts below 18 is a child's
    with session_factory() as s:
        assert s.scalars(sa.select(Case)).all() == []


def test_a_date_without_year_still_to_come_is_asked_in_december(chat, session_factory):
    december = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    for text in ("发现", "1", "广州东站"):
        chat(text, now=december)
    reply = chat("12月25日", now=december)
    assert "今年的2026-12-25还没到" in reply and "2025-12-25" in reply
    assert "大约几岁" in chat("12月5日", now=december)
    for text in ("6", "男", "跳过", "跳过", "张伟"):
        chat(text, now=december)
    assert "2026年12月5日" in chat("1", now=december)
    assert "登记成功" in chat("1", now=december)
    found, _case = _found(session_factory)
    assert (found.found_date, found.found_date_precision) == (date(2026, 12, 5), "day")


def test_a_place_abroad_or_a_location_at_sea_is_asked_again(chat):
    chat("FOUND", channel=Channel.TELEGRAM, address="42")
    chat("yes", channel=Channel.TELEGRAM, address="42")
    at_sea = chat("", channel=Channel.TELEGRAM, address="42", location=(30.0, 125.5))
    assert "at sea or outside China" in at_sea and "When did you find" not in at_sea
    abroad = chat("Hanoi, Vietnam", channel=Channel.TELEGRAM, address="42")
    assert "abroad (vietnam)" in abroad and "Chinese embassy" in abroad
    assert "When did you find" in chat("", channel=Channel.TELEGRAM, address="42", location=(23.13, 113.26))


def test_registering_an_adult_of_unknown_identity_is_refused_on_every_path(session):
    common = {"sex": Sex.UNKNOWN, "found_place": "深圳", "found_date": date(2026, 11, 20), "actor": "officer:test",
              "today": date(2026, 11, 23)}  # fmt: skip
    with pytest.raises(InputError, match="is an adult"):
        register_found_child(session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, age_years=18, **common)
    child = register_found_child(session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, age_years=17, **common)
    rescued = register_found_child(session, source=SampleSource.RESCUED_CHILD, age_years=20, **common)
    assert (
        child.case.child_age_years == 17 and rescued.case.child_age_years == 20
    )  # sources 3 and 4: up to 25
