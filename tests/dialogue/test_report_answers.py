"""The report flow with what parents really type: numerals in words, babies' ages in months, answers that do not
fit the question, the same child reported twice, and the longest names and places within the SMS budget."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.dialogue.casefile import ReportState
from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Booking, Case, Conversation, Sex
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say

SMS_BUDGET = 4  # docs/dialogue.md: no reply takes more than 4 segments


@pytest.fixture
def demo_labs(session):
    load_demo_labs(session)
    session.flush()


TO_CHILD_NAME_ZH = [("报失", ("DNA",))] + t.REPORT_ZH[2:4]  # REPORT and both consents
TO_CHILD_NAME_EN = [("REPORT", ("DNA sample",))] + t.REPORT_EN[2:4]


@pytest.mark.parametrize(
    ("start", "age", "seen", "summary", "stored"),
    [
        (TO_CHILD_NAME_ZH, "十岁", "十天前", ("10岁", "2026年11月13日"), (10, date(2026, 11, 13))),
        (TO_CHILD_NAME_ZH, "两岁半", "上个月", ("2岁6个月", "2026年10月"), (2, date(2026, 10, 1))),
        (TO_CHILD_NAME_ZH, "八个月", "前天", ("8个月", "2026年11月21日"), (0, date(2026, 11, 21))),
        (TO_CHILD_NAME_EN, "8 months", "半个月前", ("8 months", "8 Nov 2026"), (0, date(2026, 11, 8))),
        (TO_CHILD_NAME_EN, "3", "3 months ago", ("3 years", "Aug 2026 at"), (3, date(2026, 8, 1))),
        (TO_CHILD_NAME_EN, "12", "last month", ("12 years", "Oct 2026 at"), (12, date(2026, 10, 1))),
    ],
)
def test_numerals_units_and_babies_months_are_read(session, start, age, seen, summary, stored):
    answers = ("李小明", "1", age, seen, "Wuhan", "skip", "王芳", "1")
    replies = run_transcript(session, start + [(text, ()) for text in answers] + [("1", ("MC-",))])
    assert all(part in replies[-2] for part in summary), replies[-2]
    case = session.scalars(sa.select(Case)).one()
    assert (case.child_age_years, case.last_seen_date) == stored


def test_a_baby_s_age_is_kept_in_months_in_the_conversation(session):
    run_transcript(session, TO_CHILD_NAME_EN + [("Li Ming", ()), ("1", ()), ("8 months", ("last see",))])
    st = ReportState.load(session.scalars(sa.select(Conversation.data)).one())
    assert (st.age_months, st.age_in_months, st.sex) == (8, True, Sex.MALE)


def _to_last_seen(name: str) -> list[t.Turn]:
    return TO_CHILD_NAME_EN + [(name, ("boy",)), ("1", ("How old",)), ("5", ("last see",))]


@pytest.mark.parametrize("huge", ["1000000天前", "1000000 days ago", "99999999999 months ago", "一百万年前"])
def test_a_huge_count_of_days_is_asked_again_with_a_reason(session, huge):
    run_transcript(session, _to_last_seen("Li Ming") + [(huge, ("too long ago", "last see"))])
    assert session.scalars(sa.select(Conversation.step)).one() == "report.last_seen_date"


@pytest.mark.parametrize(
    ("start", "age", "seen", "reason"),
    [
        (
            TO_CHILD_NAME_EN,
            "0",
            "2000-05-01",
            ("A child who is 0 years now was not born yet on that date", "last see"),
        ),
        (TO_CHILD_NAME_EN, "5", "2020-11-22", ("5 years now was not born yet",)),  # a day before the 6th year
        (TO_CHILD_NAME_ZH, "八个月", "2025-01-01", ("孩子现在8个月", "那天还没出生", "哪天")),
    ],
)
def test_an_age_is_checked_against_the_date_last_seen(session, start, age, seen, reason):
    run_transcript(session, start + [("Li Ming", ()), ("1", ()), (age, ()), (seen, reason), ("昨天", ())])
    assert session.scalars(sa.select(Conversation.step)).one() == "report.last_seen_place"


def test_answers_that_are_no_names_or_places_get_reasons_that_fit(session):
    run_transcript(
        session,
        TO_CHILD_NAME_ZH
        + [
            ("😀😀😀", ("请写完整的姓名", "孩子叫什么名字")),
            ("是的。", ("请写完整的姓名",)),
            ("跳过", ("请写完整的姓名",)),  # "skip" answers an optional question, never a name
            ("李" * 61, ("名字太长了", "60")),
            ("李小明", ("男孩",)),
            ("男", ("几岁",)),
            ("5", ("哪天",)),
            ("昨天", ("在哪里",)),
            ("广" * 201, ("地点请不超过200个字", "在哪里")),
            ("🏠🚉", ("请写地点",)),
            ("好", ("请写地点",)),
            ("跳过", ("请写地点",)),
        ],
    )
    replies = run_transcript(session, [("广" * 201, ("200",))])
    assert "姓名" not in replies[0]  # a place is never told to write a full name


def test_a_birth_date_at_the_age_question_is_kept_and_said(session):
    run_transcript(
        session,
        TO_CHILD_NAME_ZH
        + [
            ("李小明", ("男孩",)),
            ("男", ("几岁",)),
            ("2019", ("像是年份", "几岁")),
            ("1980-01-01", ("超过40岁", "出生年份")),
            ("2019年3月2日", ("已记下出生日期：2019年3月2日", "最后一次见到孩子")),
        ],
    )


def test_a_birth_known_to_the_month_is_kept_and_said_as_the_month(session):
    answers = [
        ("李小明", ("男孩",)),
        ("男", ("几岁",)),
        ("2019年5月", ("已记下出生日期：2019年5月。", "最后一次见到孩子")),
    ]
    answers += [(text, ()) for text in ("十天前", "Wuhan", "skip", "王芳", "1")]
    replies = run_transcript(session, TO_CHILD_NAME_ZH + answers + [("1", ("MC-",))])
    assert "2019年5月，" in replies[-2] and "2019年5月1日" not in replies[-2], replies[-2]
    case = session.scalars(sa.select(Case)).one()
    assert (case.child_birth_date, case.child_birth_precision) == (date(2019, 5, 1), "month")
    assert case.place_province == "湖北省"  # Wuhan: the report's province until it is at a lab


def _report(name: str, seen: str, *, new_anyway: bool) -> list[t.Turn]:
    return _to_last_seen(name) + [
        *(
            [(seen, ("You already reported", "case MC-", "1 Continue with that case")), ("2", ("Where was",))]
            if new_anyway
            else [(seen, ("Where was",))]
        ),
        ("Wuhan", ("Describe",)),
        ("skip", ("own full name",)),
        ("Wang Wei", ("Mother",)),
        ("1", ("Please check",)),
        ("1", ("case number",)),
        ("2", ("Send BOOK",)),
    ]


def test_the_same_child_reported_twice_is_pointed_out(session):
    run_transcript(session, _report("Li Ming", "3 days ago", new_anyway=False))
    reference = session.scalars(sa.select(Case.reference)).one()
    run_transcript(
        session, _report("li  ming", "2026-11-20", new_anyway=True)
    )  # the same name, typed otherwise
    assert len(session.scalars(sa.select(Case)).all()) == 2
    run_transcript(session, _report("Li Hua", "3 days ago", new_anyway=False))  # another child: no question
    run_transcript(
        session,
        _to_last_seen("Li Ming")
        + [
            ("3 days ago", (f"case {reference}",)),
            ("1", (f"Case {reference}", "send BOOK")),  # continue with that case: its status, no new case
        ],
    )
    assert len(session.scalars(sa.select(Case)).all()) == 3
    assert session.scalars(sa.select(Conversation.step)).one() is None


def _longest(name: str, place: str, description: str, reporter: str, zh: bool) -> list[str]:
    start = ["你好", "1", "同意", "1"] if zh else ["Hello", "1", "yes", "1"]
    ago, city = ("3天前", "广州") if zh else ("3 days ago", "Guangzhou")
    # name, sex, birth, last seen, place, description, reporter, relation, confirm, book now, city, lab, day, confirm
    return [
        *start,
        name,
        "1",
        "2019-03-02",
        ago,
        place,
        description,
        reporter,
        "1",
        "1",
        "1",
        city,
        "1",
        "1",
        "1",
    ]


@pytest.mark.parametrize(
    ("messages", "zh"),
    [
        (_longest("欧阳" * 30, "广东省广州市越秀区" * 22 + "火车", "红" * 500, "司马" * 30, zh=True), True),
        (
            _longest(
                "Ouyang " * 7 + "Xiaoming Li",
                " ".join(["Guangzhou"] * 20) + "!",
                "red coat " * 55 + "shoes",
                "Sima " * 11 + "WeiWu",
                zh=False,
            ),
            False,
        ),
    ],  # fmt: skip
    ids=["zh", "en"],
)
def test_replies_stay_within_the_sms_budget_with_the_longest_answers(session, demo_labs, messages, zh):
    assert [len(messages[i]) for i in (4, 8, 9, 10)] == [60, 200, 500, 60]  # the longest each step takes
    sent = []
    for text in messages + ["STATUS"]:
        for reply in say(session, text):
            assert segment_count(render_plain(reply)) <= SMS_BUDGET, render_plain(reply)
            sent.append(reply.text)
    assert not any(messages[4] in text or messages[8] in text for text in sent)
    assert any(
        ("…" if zh else "...") in text and "MC-" not in text for text in sent
    )  # the summary, shortened
    case = session.scalars(sa.select(Case)).one()  # the answers are kept whole; only the echo is shortened
    assert case.child_name == messages[4] and case.last_seen_place == messages[8]
    assert session.scalars(sa.select(Booking)).one() is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    number=st.integers(min_value=0, max_value=10**40),
    unit=st.sampled_from(["天前", " months ago", "年前", "岁"]),
)
def test_any_number_at_the_date_and_age_questions_is_answered(session, number, unit):
    for step, accepted in (("report.last_seen_date", "report.last_seen_place"), ("report.child_birth", None)):
        say(session, "REPORT")
        data = {**ReportState(child_name="Li Ming", sex=Sex.MALE, age_months=0).dump(), "last_seen": None}
        session.execute(sa.update(Conversation).values(step=step, data=data))
        replies = say(session, f"{number}{unit}")
        where = session.scalars(sa.select(Conversation.step)).one()
        assert (
            len(replies) == 1 and replies[0].text
        )  # an answer or a reason with the question again, never a crash
        assert where == step or where in (accepted, "report.last_seen_date")
