"""A run-on first message is an intent: "我要报失我儿子叫王小明" starts the report with the name and sex it tells,
"孩子丢了" starts a report, "我想预约" / "I want to book" starts booking (docs/dialogue.md, "Run-on first messages")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.dialogue.intents import intent_of
from intake.dialogue.keywords import Command
from intake.labs.directory import load_demo_labs
from intake.models import Case, Sex
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript


@pytest.mark.parametrize(
    ("text", "command", "name", "sex"),
    [
        ("我要报失我儿子叫王小明", Command.REPORT, "王小明", Sex.MALE),
        ("孩子丢了", Command.REPORT, None, None),
        ("我女儿叫李丽，在广州走丢了", Command.REPORT, "李丽", Sex.FEMALE),
        ("我的孩子不见了，叫张三", Command.REPORT, "张三", None),
        ("我想预约", Command.BOOK, None, None),
        ("my son is missing", Command.REPORT, None, Sex.MALE),
        ("My daughter Lily is missing", Command.REPORT, "Lily", Sex.FEMALE),
        ("I want to book", Command.BOOK, None, None),
        ("I want to book a DNA appointment", Command.BOOK, None, None),
    ],
)
def test_run_on_messages_are_read_as_intents(text, command, name, sex):
    intent = intent_of(text)
    assert intent is not None and (intent.command, intent.child_name, intent.sex) == (command, name, sex)


@pytest.mark.parametrize(
    "text",
    [
        "你好",
        "hello",
        "李明",
        "I lost my PIN",
        "Hi, I need help",
        "谢谢",
        "我发现一个走失的孩子",
        "I found a lost boy",
    ],
)
def test_a_greeting_or_a_name_is_no_intent(text):
    assert intent_of(text) is None


def test_a_run_on_report_keeps_the_name_and_sex_and_asks_only_what_is_missing(session):
    run_transcript(session, [
        ("我要报失我儿子叫王小明", ("DNA", "1 同意")),
        ("同意", ("保存孩子和家人的信息",)),
        ("同意", ("已记下您第一条消息里的信息：王小明，男孩", "几岁")),  # neither the name nor the sex again
        ("5岁", ("最后一次见到孩子",)),
        ("3天前", ("在哪里",)),
        ("广州火车站", ("穿着",)),
        ("跳过", ("您本人叫什么名字",)),
        ("王芳", ("您是孩子的",)),
        ("1", ("请核对", "王小明", "男孩", "5岁")),
        ("1", ("案件号：MC-",)),
    ])  # fmt: skip
    case = session.scalars(sa.select(Case)).one()
    assert (case.child_name, case.child_sex) == ("王小明", Sex.MALE)


def test_a_run_on_report_in_english_with_only_the_sex_asks_the_name_then_not_the_sex(session):
    run_transcript(session, [
        ("my son is missing", ("DNA sample", "1 Yes")),
        ("yes", ("family's details",)),
        ("yes", ("Noted from your first message: boy", "child's full name")),
        ("Tom Li", ("How old",)),
    ])  # fmt: skip


def test_a_run_on_booking_starts_booking_and_the_menu_still_takes_numbers(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(
        session, [("我想预约", ("还没有登记案件",)), ("孩子丢了", ("DNA", "1 同意")), ("取消", ("已取消",))]
    )
    english = "+8613700000001"
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))], address=english)
    run_transcript(session, [("I want to book", ("Which city or province",)), ("CANCEL", ("Nothing more was saved",)),
                             ("hello", ("Reply a number",)), ("my son is missing, I want to book", ("city",))],
                   address=english)  # fmt: skip


def test_at_the_menu_a_run_on_message_starts_what_it_asks_and_a_number_still_picks(session):
    run_transcript(session, [("你好", ("请回复数字",)), ("孩子丢了", ("DNA", "1 同意")), ("取消", ("已取消",)),
                             ("你好", ("请回复数字",)), ("1", ("DNA", "1 同意"))])  # fmt: skip
    run_transcript(session, [("hello", ("Reply a number",)), ("My daughter Lily is missing", ("DNA sample",))],
                   address="+8613700000002")  # fmt: skip
