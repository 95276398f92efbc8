"""Keywords in both languages: opt-out and back, help, status, language detection and switching."""

from __future__ import annotations

import sqlalchemy as sa

from intake.dialogue.keywords import Command, argument_of, classify
from intake.models import AuditEvent, Case, CaseStatus, Contact
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say
from tests.dialogue.transcripts import SILENT


def test_keyword_words():
    assert classify(" stop ") is Command.OPT_OUT and classify("Stop All") is Command.OPT_OUT
    assert classify("退订") is Command.OPT_OUT and classify("ＴＤ") is Command.OPT_OUT
    assert classify("取消") is Command.CANCEL and classify("cancel") is Command.CANCEL
    assert classify("start") is Command.OPT_IN and classify("帮助") is Command.HELP
    assert classify("查询。") is Command.STATUS and classify("语言") is Command.LANGUAGE
    assert classify("please stop") is None and classify("李明") is None


def test_stop_silences_until_start(session):
    run_transcript(session, t.STOP_START_EN)
    contact = session.scalars(sa.select(Contact)).one()
    assert not contact.opted_out and contact.opted_out_at is None
    actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["contact.opt_out", "contact.opt_in"]


def test_stop_in_chinese_keeps_the_unfinished_report_and_start_goes_on_with_it(session):
    run_transcript(session, t.STOP_START_ZH)
    run_transcript(session, [("1", ("保存孩子和家人的信息",))])  # the report goes on where 退订 came


def test_stop_in_the_middle_of_a_report_keeps_its_answers_and_start_asks_where_it_stopped(session_factory):
    run_transcript(session_factory, [
        *t.REPORT_EN[:6],  # the menu, REPORT, consents, name, sex: at the age question
        ("STOP", ("no more messages", "Your unfinished report is kept but not sent", "START")),
        ("7", SILENT),  # not an answer while opted out
        ("START", ("Welcome back. Your report is not sent yet", "where you stopped", "How old")),
        ("7", ("When did you last see",)),
    ])  # fmt: skip
    run_transcript(session_factory, [("STOP", ("no more messages",)), ("START", ("Welcome back",)),
                                     ("CANCEL", ("Nothing more was saved",)), ("hello", ("Reply a number",))])  # fmt: skip


def test_stop_outside_a_flow_and_start_say_nothing_of_a_report(session):
    run_transcript(session, [("hi", ("reunite",)), ("STOP", ("Send START to receive them again",)),
                             ("START", ("Welcome back. Send HELP",))])  # fmt: skip
    assert "question" not in say(session, "HELP")[0].text


def test_opted_out_state_is_recorded(session):
    say(session, "STOP")
    contact = session.scalars(sa.select(Contact)).one()
    assert contact.opted_out and contact.opted_out_at is not None
    assert say(session, "STOP") == [] and say(session, "hello") == []


def test_language_from_first_message_and_switch(session):
    run_transcript(
        session,
        [
            ("hello", ("Reply a number",)),
            (
                "你好",
                ("请回复数字",),
            ),  # Latin letters did not fix English: the Chinese message is answered in Chinese
            ("hello", ("请回复数字",)),  # and Chinese characters fixed Chinese
            ("EN", ("Reply a number",)),
            ("REPORT", ("DNA sample",)),
            ("中文", ("DNA",)),  # switching re-asks the current step in the new language
            ("LANGUAGE", ("1 中文", "2 English")),
            ("2", ("DNA sample",)),
            ("1", ("family's details",)),  # the step goes on after the language pick
        ],
    )
    contact = session.scalars(sa.select(Contact)).one()
    assert (contact.language, contact.language_chosen) == ("en", True)


def test_digits_first_default_to_chinese_until_words(session):
    assert "请回复数字" in say(session, "123")[0].text
    assert "Reply a number" in say(session, "hi")[0].text  # words decide
    assert "请回复数字" in say(session, "好")[0].text  # and Chinese words decide again, until fixed


def test_a_chinese_parent_who_starts_with_hi_is_not_held_in_english(session):
    run_transcript(
        session,
        [
            ("Hi", ("Reply a number",)),
            ("1", ("DNA sample", "1 Yes")),  # digits decide nothing
            ("同意", ("保存孩子和家人的信息",)),  # an answer in Chinese: the conversation goes on in Chinese
            ("ok", ("孩子叫什么名字",)),  # and stays Chinese: Chinese characters fixed it
        ],
    )
    assert session.scalars(sa.select(Contact.language_chosen)).one() is True


def test_pinyin_keywords_act_and_mean_chinese(session):
    run_transcript(session, [("bao shi", ("DNA", "1 同意"))])
    assert session.scalars(sa.select(Contact.language)).one() == "zh_CN"
    assert classify("Yu Yue") is Command.BOOK and classify("chaxun") is Command.STATUS
    assert classify("shan chu") is Command.DELETE and classify("tui ding") is Command.OPT_OUT


def test_free_text_at_a_question_without_options_keeps_the_language(session):
    run_transcript(session, [("REPORT", ("DNA sample",)), ("yes", ("family",)), ("1", ("full name",))])
    run_transcript(session, [("李明", ("Is 李明 a boy or a girl?",))])  # a name does not switch to Chinese


def test_a_first_stop_is_answered_in_its_language(session):
    assert say(session, "STOP")[0].text.startswith("You will get no more messages")
    assert say(session, "退订", address="+8613900000000")[0].text.startswith("已退订")


def test_help_mid_flow_reasks(session):
    run_transcript(session, [("REPORT", ("DNA",)), ("HELP", ("STATUS", "DNA sample")), ("1", ("family",))])


def test_status_without_and_with_case(session):
    run_transcript(session, [("STATUS", ("not reported a missing child", "REPORT"))])
    run_transcript(session, t.REPORT_EN)
    run_transcript(session, [("2", ("BOOK",)), ("STATUS", ("Case MC-", "open, waiting for a DNA sample"))])


def test_cancel_outside_a_flow_without_booking(session):
    run_transcript(session, [("取消", ("没有可取消",))])


def test_book_without_a_case(session):
    run_transcript(session, [("BOOK", ("no case", "REPORT"))])


def test_status_does_not_tell_of_an_unconfirmed_candidate_match(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    session.execute(sa.update(Case).values(status=CaseStatus.CANDIDATE_MATCH))
    reply = say(session, "STATUS")[0].text
    assert "searching the database" in reply and "match" not in reply


def test_join_and_link_carry_their_reference_pin_or_code_on_the_same_line():
    assert (
        classify("JOIN MC-2026-ACL9KQ 180262") is Command.JOIN
        and classify("加入mc2026acl9kq，180262") is Command.JOIN
    )
    assert argument_of("加入 MC-2026-ACL9KQ 180262", Command.JOIN) == "mc-2026-acl9kq180262"
    assert classify("关联 K7QX M2PD 4F7") is Command.LINK and classify("link") is Command.LINK
    assert argument_of("LINK k7qx-m2pd-4f7", Command.LINK) == "k7qx-m2pd-4f7"
    assert (
        classify("Link Wang") is None and classify("Join us") is None and classify("jia ru") is Command.JOIN
    )
