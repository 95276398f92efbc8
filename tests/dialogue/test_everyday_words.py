"""What parents really type: Traditional characters, pinyin, everyday yes words, numerals, empty messages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.dialogue.keywords import Command, classify
from intake.dialogue.vocabulary import NO_WORDS, RELATIVE_WORDS, SEX_WORDS, YES_WORDS
from intake.labs.directory import load_demo_labs
from intake.models import AuditEvent, Booking, BookingStatus, Case, CaseStatus, Person, Role, Sex
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say


@pytest.mark.parametrize(
    ("text", "command"),
    [("報失", Command.REPORT), ("刪除", Command.DELETE), ("預約", Command.BOOK), ("查詢", Command.STATUS),
     ("bao shi", Command.REPORT), ("BaoShi", Command.REPORT), ("yu yue", Command.BOOK), ("cha xun", Command.STATUS),
     ("shan chu", Command.DELETE), ("tui ding", Command.OPT_OUT), ("退訂", Command.OPT_OUT), ("？", Command.HELP)],
)  # fmt: skip
def test_traditional_and_pinyin_keywords(text, command):
    assert classify(text) is command


@pytest.mark.parametrize("word", ["好", "好的", "嗯", "行", "可以", "对的", "要", "ok", "Yeah", "是的。"])
def test_everyday_yes_words_give_consent(session, word):
    run_transcript(session, [("报失", ("DNA",)), (word, ("保存孩子和家人的信息",))])


@pytest.mark.parametrize("word", ["一", "①", "１", "第一个"])
def test_a_numeral_picks_option_one(session, word):
    run_transcript(session, [("报失", ("DNA",)), (word, ("保存孩子和家人的信息",))])


def test_yes_words_confirm_a_booking_as_they_confirm_consent(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(session, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH[:5])
    run_transcript(session, [("好", ("预约成功",))])
    assert session.scalars(sa.select(Booking.status)).one() == BookingStatus.BOOKED


def test_the_vocabulary_is_consistent():
    assert not set(YES_WORDS) & set(NO_WORDS)
    assert not set(SEX_WORDS[Sex.MALE]) & set(SEX_WORDS[Sex.FEMALE])
    assert {"男的", "男孩", "儿子"} <= set(SEX_WORDS[Sex.MALE]) and {"女的", "女儿"} <= set(
        SEX_WORDS[Sex.FEMALE]
    )
    assert RELATIVE_WORDS["妈妈"] is Role.MOTHER and RELATIVE_WORDS["母亲"] is Role.MOTHER
    assert RELATIVE_WORDS["爸爸"] is Role.FATHER
    assert {RELATIVE_WORDS[w] for w in ("奶奶", "外婆", "爷爷", "姥姥", "外公")} == {Role.GRANDPARENT}
    assert {RELATIVE_WORDS[w] for w in ("哥哥", "姐姐")} == {Role.FULL_SIBLING}
    assert all(classify(w) is None for w in (*YES_WORDS, *NO_WORDS, *RELATIVE_WORDS))


def test_an_empty_message_does_not_pick_the_first_lab(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN[:2])
    run_transcript(session, [("", ("Your message was empty.", "Choose a lab")), ("  ", ("Choose a lab",))])
    run_transcript(session, [("1", ("Choose a day at Demo sampling point (Guangzhou)",))])


def test_an_empty_message_at_a_free_text_question_stores_nothing(session):
    run_transcript(session, t.REPORT_EN[:9] + [("", ("Your message was empty.", "Describe the child"))])


def test_stop_then_delete_needs_the_pin_on_the_same_line(session):
    run_transcript(session, t.REPORT_ZH + [("2", ("预约",)), ("退订", ("已退订",))])
    run_transcript(session, [("报失", t.SILENT), ("删除", ("删除 123456",)), ("1", t.SILENT)])
    case = session.scalars(sa.select(Case)).one()
    assert case.status == CaseStatus.OPEN and case.child_name == "李小明"  # a bare DELETE asks nothing
    run_transcript(session, [(f"删除 {case.pin}", ("已删除",))])
    session.refresh(case)
    assert case.status == CaseStatus.WITHDRAWN and case.child_name is None


def test_stop_then_delete_without_a_case_erases_at_once(session):
    run_transcript(session, [("你好", ("团圆",)), ("退订", ("已退订",)), ("删除", ("已删除",))])
    assert session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "contact.erase")).one()


def test_after_delete_status_does_not_say_book(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",)), ("DELETE", ())])
    run_transcript(session, [(session.scalars(sa.select(Case.pin)).one(), ("Deleted",))])
    status = say(session, "STATUS")[0].text
    assert "withdrawn" in status and "BOOK" not in status
    run_transcript(session, [("BOOK", ("withdrawn at your request",))])  # as STATUS says


@pytest.mark.parametrize(
    ("word", "sex", "shown"),
    [("男的", Sex.MALE, "男孩"), ("男孩子", Sex.MALE, "男孩"), ("儿子", Sex.MALE, "男孩"), ("女的", Sex.FEMALE, "女孩"),
     ("女儿", Sex.FEMALE, "女孩"), ("闺女", Sex.FEMALE, "女孩")],
)  # fmt: skip
def test_the_sex_question_understands_how_parents_say_it(session, word, sex, shown):
    run_transcript(
        session, [*t.REPORT_ZH[:5], (word, ("几岁",)), *t.REPORT_ZH[6:11], ("1", (f"李小明，{shown}",))]
    )
    run_transcript(session, [t.REPORT_ZH[12]])
    assert session.scalars(sa.select(Case.child_sex)).one() is sex


@pytest.mark.parametrize(
    ("word", "role", "shown"),
    [("奶奶", Role.GRANDPARENT, "祖辈"), ("外婆", Role.GRANDPARENT, "祖辈"), ("姥姥", Role.GRANDPARENT, "祖辈"),
     ("爷爷", Role.GRANDPARENT, "祖辈"), ("外公", Role.GRANDPARENT, "祖辈"), ("我是孩子的奶奶", Role.GRANDPARENT, "祖辈"),
     ("母亲", Role.MOTHER, "妈妈"), ("父亲", Role.FATHER, "爸爸"), ("孩子他妈", Role.MOTHER, "妈妈"),
     ("孩他爸", Role.FATHER, "爸爸"), ("姐姐", Role.FULL_SIBLING, "兄弟姐妹"), ("舅舅", Role.AUNT_UNCLE, "叔伯姑舅姨"),
     ("同父异母的哥哥", Role.HALF_SIBLING, "同父异母"), ("舅妈", Role.OTHER_RELATIVE, "其他亲属"),
     ("3", Role.GRANDPARENT, "祖辈"), ("4", Role.FULL_SIBLING, "兄弟姐妹"), ("5", Role.AUNT_UNCLE, "叔伯姑舅姨"),
     ("6", Role.OTHER_RELATIVE, "其他亲属")],
)  # fmt: skip
def test_the_relation_is_recorded_as_the_family_says_it(session, word, role, shown):
    run_transcript(
        session, [*t.REPORT_ZH[:10], ("王芳", ("您是孩子的", "3 爷爷奶奶或外公外婆", "6 其他亲属"))]
    )
    run_transcript(session, [(word, (f"您：王芳（{shown}",)), t.REPORT_ZH[12]])
    reporter = session.scalars(sa.select(Person).where(Person.role != Role.CHILD)).one()
    assert reporter.role is role


@pytest.mark.parametrize(
    ("word", "role", "shown"),
    [("grandma", Role.GRANDPARENT, "grandparent"), ("I'm his grandmother", Role.GRANDPARENT, "grandparent"),
     ("sister", Role.FULL_SIBLING, "brother or sister"), ("Uncle", Role.AUNT_UNCLE, "aunt or uncle"),
     ("mum", Role.MOTHER, "mother")],
)  # fmt: skip
def test_the_relation_in_english(session, word, role, shown):
    run_transcript(session, [*t.REPORT_EN[:11], (word, ("Please check", f"You: Wang Wei ({shown})."))])
    run_transcript(session, [t.REPORT_EN[12]])
    assert session.scalars(sa.select(Person.role).where(Person.role != Role.CHILD)).one() is role


def test_a_word_that_names_no_relation_is_asked_again(session):
    run_transcript(
        session,
        [
            *t.REPORT_EN[:11],
            ("neighbour", ("Please reply with one of the numbers shown.", "6 Other relative")),
        ],
    )
