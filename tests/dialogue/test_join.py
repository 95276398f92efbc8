"""JOIN (加入): the other parent or a relative joins a case from their own phone, consents themselves, and books."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR
from intake.labs.directory import load_demo_labs
from intake.models import Booking, Case, Consent, ConsentScope, LinkAttempt, Person, Role, Sample
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import reported_case, run_transcript, say, wrong_pin

FATHER = "+8613900000002"
BOOK_IN_GUANGZHOU = [("广州", ("请选采血点",)), ("1", ("日期",)), ("1", ("确定预约",))]


@pytest.fixture
def labs(session):
    load_demo_labs(session)
    session.flush()


def test_the_father_joins_consents_and_books_his_own_sample_and_the_mother_sees_it(session, labs):
    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH)
    run_transcript(session, [
        (f"加入 {case.reference.lower()} {case.pin}", ("您是走失孩子的", "1 妈妈", "2 爸爸", "3 亲兄弟姐妹")),
        ("爸爸", ("公安采血点采集您的DNA", "1 同意")),
        ("同意", ("保存孩子和家人的信息",)),
        ("1", (f"您已加入案件{case.reference}", "为自己预约采血", "1 现在预约")),
        ("1", ("哪个城市或省份",)),
        *BOOK_IN_GUANGZHOU,
        ("1", ("预约成功", "样本编号")),  # the mother has joined: no question about the other parent
    ], address=FATHER)  # fmt: skip
    father = session.scalars(sa.select(Person).where(Person.role == Role.FATHER)).one()
    consents = session.scalars(sa.select(Consent).where(Consent.person_id == father.id)).all()
    assert {(c.scope, c.granted, c.case_id) for c in consents} == {
        (ConsentScope.DNA_SAMPLING, True, case.id), (ConsentScope.DATA_PROCESSING, True, case.id)}  # fmt: skip
    bookings = session.scalars(sa.select(Booking).order_by(Booking.id)).all()
    assert len(bookings) == 2 and bookings[1].person_id == father.id
    codes = {s.person_id: s.code for s in session.scalars(sa.select(Sample))}
    assert len(set(codes.values())) == 2 and father.id in codes
    status = say(session, "查询")[0].text
    assert "各人样本：妈妈：已预约，爸爸：已预约。" in status
    father_status = say(session, "STATUS", address=FATHER)[0].text
    assert codes[father.id] in father_status and "爸爸：已预约" in father_status


def test_a_wrong_pin_and_a_wrong_reference_get_one_answer_and_guessing_is_locked_out(session, labs):
    case = reported_case(session)
    asked = say(session, f"JOIN {case.reference} {wrong_pin(case.pin)}", address=FATHER)
    answer = say(session, "2", address=FATHER)  # the role is asked before the case number and PIN are checked
    assert asked[0].text == "You are the missing child's:"
    assert (
        answer[0].text
        == "That case number and PIN do not match any case. Please check both and send JOIN again."
    )
    say(session, f"JOIN MC-2026-ZZZZZZ {case.pin}", address=FATHER)
    assert say(session, "2", address=FATHER)[0].text == answer[0].text
    for _ in range(MAX_FAILURES_PER_CONTACT_HOUR - 2):
        say(session, f"JOIN {case.reference} {wrong_pin(case.pin)}", address=FATHER)
        say(session, "2", address=FATHER)
    say(session, f"JOIN {case.reference} {case.pin}", address=FATHER)
    assert "Too many wrong tries" in say(session, "2", address=FATHER)[0].text
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.role == Role.FATHER)) == 0
    )
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(LinkAttempt))
        == MAX_FAILURES_PER_CONTACT_HOUR + 1
    )


def test_join_in_steps_refuses_what_is_not_a_reference_or_pin(session, labs):
    case = reported_case(session)
    run_transcript(session, [
        ("JOIN", ("Send the case number",)),
        ("hello", ("That is not a case number", "Send the case number")),
        (case.reference.replace("-", " "), ("Send the case PIN",)),
        ("12", ("The PIN has 6 digits; you sent 2", "Send the case PIN")),
        (case.pin, ("You are the missing child's:", "4 Grandparent")),
        ("grandma", ("may a police lab take a DNA sample from you",)),
    ], address=FATHER)  # fmt: skip
    assert session.scalars(sa.select(Person.role).where(Person.contact_id.is_not(None))).all() == [
        Role.MOTHER, Role.GRANDPARENT]  # fmt: skip


def test_a_relative_who_refuses_consent_is_recorded_and_cannot_book(session, labs):
    case = reported_case(session)
    run_transcript(session, [
        (f"加入{case.reference}，{case.pin}", ("您是走失孩子的",)),
        ("姐姐", ("公安采血点",)),
        ("不同意", ("只保存了您的回答", "不会采集或使用您的样本")),
        ("预约", ("您还没有登记案件",)),
    ], address=FATHER)  # fmt: skip
    sister = session.scalars(sa.select(Person).where(Person.role == Role.FULL_SIBLING)).one()
    refusal = session.scalars(sa.select(Consent).where(Consent.person_id == sister.id)).one()
    assert (refusal.scope, refusal.granted) == (ConsentScope.DNA_SAMPLING, False)
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_after_booking_the_mother_is_told_how_the_father_joins_from_his_own_phone(session, labs):
    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH[:5])
    replies = say(session, "1")
    assert replies[-1].text.startswith("孩子的爸爸也能来采血吗？")
    told = say(session, "好")[0].text
    assert f"加入 {case.reference} {case.pin}" in told and "自己表示同意" in told
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.role == Role.FATHER)) == 0
    )


def test_a_joined_father_who_deletes_his_data_loses_his_booking_consents_name_and_profile(session, labs):
    from intake.models import BookingStatus, CaseStatus, DnaProfile, Lab

    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH)
    run_transcript(session, [
        (f"加入 {case.reference} {case.pin}", ("您是走失孩子的",)), ("爸爸", ("1 同意",)), ("同意", ("保存",)),
        ("1", ("1 现在预约",)), ("1", ("哪个城市或省份",)), *BOOK_IN_GUANGZHOU, ("1", ("预约成功",)),
    ], address=FATHER)  # fmt: skip
    father = session.scalars(sa.select(Person).where(Person.role == Role.FATHER)).one()
    sample = session.scalars(sa.select(Sample).where(Sample.person_id == father.id)).one()
    session.add(DnaProfile(id="f" * 32, sample_id=sample.id, lab_id=session.scalars(sa.select(Lab.id)).first(),
                           kit="Identifiler", genotypes={"D3S1358": ["15", "16"]}, autosomal_markers=1,
                           digest="d" * 64, uploaded_by="labkey:1"))  # fmt: skip
    session.flush()
    say(session, "删除", address=FATHER)
    say(session, case.pin, address=FATHER)
    session.expire_all()
    bookings = {b.person_id: b.status for b in session.scalars(sa.select(Booking))}
    assert bookings[father.id] is BookingStatus.CANCELLED
    assert [s for p, s in bookings.items() if p != father.id] == [BookingStatus.BOOKED]  # the mother's stays
    mine = session.scalars(sa.select(Consent).where(Consent.person_id == father.id)).all()
    assert mine and all(c.withdrawn_at is not None for c in mine)
    assert session.get_one(DnaProfile, "f" * 32).genotypes == {}
    assert session.get_one(Case, case.id).status is not CaseStatus.WITHDRAWN  # the mother's report stands
