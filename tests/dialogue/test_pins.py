"""The PIN questions of JOIN, DELETE and LINK: a lost PIN is sent again only to the phone that reported the case,
a lock says whose tries locked it (and never whether the PIN sent was right), and a PIN of the wrong length is
told it has 6 digits without counting as a try."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.pins import MAX_PIN_RESENDS_PER_CASE_DAY, MAX_WRONG_PINS_PER_CASE_DAY
from intake.labs.directory import load_demo_labs
from intake.labs.walkins import register_walk_in
from intake.models import AuditEvent, Case, Contact, Lab, LinkAttempt, Notification, Role, SampleSource, Sex
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import PHONE, reported_case, run_transcript, say, wrong_pin

FATHER = "+8613900000002"


@pytest.fixture
def labs(session):
    load_demo_labs(session)
    session.flush()


def _resent(session) -> list[Notification]:
    query = (
        sa.select(Notification).where(Notification.template == "case.pin_resent").order_by(Notification.id)
    )
    return list(session.scalars(query))


def _contact(session, address: str) -> Contact:
    return session.scalars(sa.select(Contact).where(Contact.address == address)).one()


def _text(replies) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.parametrize(
    "forgot", ["忘记了", "忘记核对码", "忘记PIN", "forgot", "forgot pin", "I lost my PIN"]
)
def test_a_lost_pin_at_join_is_sent_to_the_reporting_phone_only_and_the_asker_is_told_whom_to_ask(
    session, labs, forgot
):
    case = reported_case(session)
    say(session, f"JOIN {case.reference}", address=FATHER)
    answer = _text(say(session, forgot, address=FATHER))
    assert case.reference in answer and case.pin not in answer
    assert "登记它的手机" in answer or "phone that reported it" in answer
    assert "police" in answer or "警方" in answer
    (sent,) = _resent(session)
    assert sent.contact_id == _contact(session, PHONE).id  # the mother's phone, never the asker's
    assert sent.params == {"reference": case.reference, "pin": case.pin} and sent.case_id == case.id
    assert session.scalar(sa.select(sa.func.count()).where(LinkAttempt.outcome == "pin_resend")) == 1
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.pin_resend")).one()
    assert event.detail["outcome"] == "sent" and event.actor == f"contact:{_contact(session, FATHER).id}"
    assert "请回复数字" in _text(say(session, "你好", address=FATHER))  # no loop on the PIN question


def test_an_unknown_case_gets_the_same_answer_and_nothing_is_sent(session, labs):
    case = reported_case(session)
    say(session, f"JOIN {case.reference}", address=FATHER)
    real = _text(say(session, "forgot", address=FATHER))
    say(session, "JOIN MC-2026-ZZZZZZ", address=FATHER)
    unknown = _text(say(session, "forgot", address=FATHER))
    assert real.replace(case.reference, "X") == unknown.replace("MC-2026-ZZZZZZ", "X")
    assert len(_resent(session)) == 1


def test_re_sending_is_rate_limited_per_case_and_audited(session, labs):
    case = reported_case(session)
    for number in range(MAX_PIN_RESENDS_PER_CASE_DAY + 2):
        phone = f"+861370000{number:04d}"
        say(session, f"JOIN {case.reference}", address=phone)
        assert "phone that reported it" in _text(say(session, "forgot", address=phone))  # the same answer
    assert len(_resent(session)) == MAX_PIN_RESENDS_PER_CASE_DAY
    outcomes = session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "case.pin_resend")
    ).all()
    assert [o["outcome"] for o in outcomes] == ["sent"] * MAX_PIN_RESENDS_PER_CASE_DAY + ["limited"] * 2


def test_the_reporter_who_forgot_the_pin_at_delete_gets_it_on_her_own_phone_and_the_labs_number(
    session, labs
):
    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH)
    say(session, "删除")
    answer = _text(say(session, "忘记了"))
    assert f"案件{case.reference}的核对码已重新发到这个手机" in answer and case.pin not in answer
    assert "020-0000-0001" in answer and "什么都没有删除" in answer  # the lab she booked, to call otherwise
    (sent,) = _resent(session)
    assert sent.contact_id == _contact(session, PHONE).id
    assert session.get_one(Case, case.id).child_name == "李小明"


def test_the_father_who_forgot_the_pin_at_delete_is_told_it_went_to_the_reporting_phone(session, labs):
    case = reported_case(session)
    run_transcript(session, [(f"加入 {case.reference} {case.pin}", ("您是走失孩子的",)), ("爸爸", ("1 同意",)),
                             ("同意", ("保存",)), ("1", ("现在预约",)), ("2", ("预约",))], address=FATHER)  # fmt: skip
    say(session, "删除", address=FATHER)
    answer = _text(say(session, "不记得了", address=FATHER))
    assert "已发给登记案件的手机" in answer and "联系警方" in answer
    (sent,) = _resent(session)
    assert sent.contact_id == _contact(session, PHONE).id


def test_a_lost_pin_at_link_is_sent_to_the_reporting_phone(session, labs):
    case = reported_case(session)
    lab_id = session.scalars(sa.select(Lab.id)).first()
    _sample, code = register_walk_in(session, lab_id=lab_id, actor="labkey:1", source=SampleSource.REPORTING_PARENT,
                                     role=Role.FATHER, sex=Sex.MALE, case=case)  # fmt: skip
    run_transcript(
        session, [(f"关联 {code}", ("DNA",)), ("1", ("保存",)), ("1", ("核对码",))], address=FATHER
    )
    answer = _text(say(session, "忘记了", address=FATHER))
    assert "登记这个案件的手机" in answer and case.reference not in answer
    (sent,) = _resent(session)
    assert sent.contact_id == _contact(session, PHONE).id


def test_a_case_locked_by_others_tells_the_parent_with_the_right_pin_what_happened_without_saying_it_is_right(
    session, labs
):
    case = reported_case(session)
    for number in range(MAX_WRONG_PINS_PER_CASE_DAY):  # strangers, one wrong PIN each
        phone = f"+861370000{number:04d}"
        say(session, f"JOIN {case.reference} {wrong_pin(case.pin)}", address=phone)
        say(session, "2", address=phone)
    say(session, f"JOIN {case.reference} {case.pin}", address=FATHER)
    right = _text(say(session, "2", address=FATHER))
    assert f"Case {case.reference} is locked for JOIN, LINK and DELETE until" in right
    assert (
        "maybe not you" in right
        and "Your PIN was not checked" in right
        and "Too many wrong tries" not in right
    )
    say(session, f"JOIN {case.reference} {wrong_pin(case.pin)}", address=FATHER)
    assert _text(say(session, "2", address=FATHER)) == right  # a wrong PIN reads the same: no oracle
    assert session.scalars(sa.select(Case.id)).all() == [case.id]


@pytest.mark.parametrize("message", ["JOIN {ref} 12345", "加入{ref}，1234567"])
def test_a_join_pin_of_the_wrong_length_is_told_it_has_6_digits_and_is_no_try(session, labs, message):
    case = reported_case(session)
    answer = _text(say(session, message.format(ref=case.reference), address=FATHER))
    assert "6" in answer and ("you sent" in answer or "您发了" in answer)
    assert "PIN" in answer or "核对码" in answer
    assert session.scalar(sa.select(sa.func.count()).select_from(LinkAttempt)) == 0
    role = _text(say(session, case.pin, address=FATHER))  # the PIN question came next; the right PIN goes on
    assert "You are the missing child's" in role or "您是走失孩子的" in role


def test_a_delete_pin_of_the_wrong_length_is_no_try_even_after_stop(session, labs):
    reported_case(session)
    answer = _text(say(session, "删除 12345"))
    assert "核对码是6位数字，您发了5位" in answer and "核对码" in answer
    assert "核对码是6位数字，您发了7位" in _text(say(session, "1234567"))
    say(session, "取消")
    say(session, "退订")
    assert "核对码是6位数字，您发了5位" in _text(say(session, "删除 12345"))
    assert session.scalar(sa.select(sa.func.count()).select_from(LinkAttempt)) == 0


def test_a_lost_case_number_at_join_says_who_has_it_instead_of_looping(session, labs):
    reported_case(session)
    say(session, "加入", address=FATHER)
    answer = _text(say(session, "忘记了", address=FATHER))
    assert "登记孩子的那位家人" in answer and "联系警方" in answer
    assert _resent(session) == []  # no case named: nothing to send
    assert "请回复数字" in _text(say(session, "你好", address=FATHER))
