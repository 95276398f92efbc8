"""Privacy in the dialogue: MYDATA shows what is kept (never DNA data), DELETE needs the case PIN, wrong PINs count
toward the guessing lockout, only the contact's own data goes, and a case under a legal hold is kept and said so."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.cases.found_children import register_found_child
from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR, MAX_WRONG_PINS_PER_CASE_DAY
from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Candidate,
    CandidateReview,
    Case,
    CaseStatus,
    Consent,
    DnaProfile,
    Lab,
    LinkAttempt,
    Person,
    ReviewState,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from intake.platform import clock
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, PHONE, run_transcript, say

FATHER = "+8613900000002"
SMS_BUDGET = 4  # docs/dialogue.md: no reply takes more than 4 segments
GENOTYPES = {"D3S1358": ["15", "16"], "vWA": ["14", "17"]}


@pytest.fixture
def labs(session):
    load_demo_labs(session)
    session.flush()


def _case(session) -> Case:
    return session.scalars(sa.select(Case).order_by(Case.id)).first()


def _profile(session, sample: Sample, profile_id: str) -> DnaProfile:
    profile = DnaProfile(id=profile_id, sample_id=sample.id, lab_id=session.scalars(sa.select(Lab.id)).first(),
                         kit="Identifiler", genotypes=GENOTYPES, autosomal_markers=2, digest="d" * 64,
                         uploaded_by="labkey:1")  # fmt: skip
    session.add(profile)
    session.flush()
    return profile


def _texts(replies) -> list[str]:
    return [render_plain(r) for r in replies]


def test_mydata_in_chinese_shows_the_case_consents_appointment_and_sample_without_dna(session, labs):
    run_transcript(session, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    case = _case(session)
    sample = session.scalars(sa.select(Sample)).one()
    texts = _texts(say(session, "我的数据"))
    joined = "\n".join(texts)
    for part in (case.reference, "李小明", "妈妈", "采血2026年", "已同意", "演示采血点", sample.code,
                 "DNA图谱已存档：否", "删除", "核对码", "本短信联系方式"):  # fmt: skip
        assert part in joined, part
    assert "SMS" not in joined  # the channel's name is translated too
    assert case.pin not in joined  # the PIN is the proof of a deletion: never sent back
    assert all(segment_count(text) <= SMS_BUDGET for text in texts), texts
    _profile(session, sample, "a" * 32)
    joined = "\n".join(_texts(say(session, "wode shuju")))
    assert "DNA图谱已存档：是" in joined
    assert not any(allele in joined for allele in ("15", "16", "14", "17", "D3S1358", "vWA"))
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.mydata")).all()
    assert len(events) == 2 and events[0].detail == {"cases": 1, "messages": 0}


def test_mydata_in_english_and_a_contact_with_nothing(session):
    texts = _texts(say(session, "MYDATA"))
    assert "What reunite keeps about you: this SMS contact" in texts[0]
    assert "Send DELETE to erase your data." in texts[-1] and "PIN" not in texts[-1]
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    joined = "\n".join(_texts(say(session, "my data")))
    assert _case(session).reference in joined and "Child: Li Ming" in joined and "you will be asked" in joined
    assert "data keeping" not in joined and "keeping your details given" in joined
    assert all(segment_count(text) <= SMS_BUDGET for text in _texts(say(session, "MYDATA")))


def test_telegram_lists_mydata_among_its_commands():
    from bot.telegram.adapter import COMMANDS

    assert COMMANDS["mydata"][:2] == ("MYDATA", "我的数据")


def test_a_stolen_phone_gets_ten_wrong_delete_pins_a_day_not_five_an_hour(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    case = _case(session)
    wrong = "000000" if case.pin != "000000" else "111111"
    for batch in range(MAX_WRONG_PINS_PER_CASE_DAY // MAX_FAILURES_PER_CONTACT_HOUR):
        at = NOW + timedelta(hours=2 * batch, minutes=1)  # past the contact's hourly lock each time
        with clock.pinned(at):
            run_transcript(session, [(f"DELETE {wrong}", ("That PIN is not right",))] * MAX_FAILURES_PER_CONTACT_HOUR,
                           now=at)  # fmt: skip
    at = NOW + timedelta(hours=5)
    with clock.pinned(at):  # the contact's hour is over, the case's day is not
        run_transcript(
            session, [(f"DELETE {case.pin}", (
                f"Case {case.reference} is locked for JOIN, LINK and DELETE until 24 Nov 10:01 (Beijing time): "
                "someone sent many wrong PINs for it, maybe not you. Your PIN was not checked.",
                "Nothing was deleted."))], now=at,
        )  # fmt: skip
    session.refresh(case)
    assert case.status is CaseStatus.OPEN and case.child_name == "Li Ming"
    at = NOW + timedelta(days=1, hours=2)
    with clock.pinned(at):
        run_transcript(session, [(f"DELETE {case.pin}", ("Deleted",))], now=at)
    session.refresh(case)
    assert case.status is CaseStatus.WITHDRAWN


def test_delete_with_the_pin_on_one_line_erases_at_once(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    case = _case(session)
    run_transcript(session, [(f"DELETE {case.pin}", ("Deleted",))])
    session.refresh(case)
    assert case.status is CaseStatus.WITHDRAWN and case.child_name is None


def test_a_wrong_pin_is_refused_audited_and_counts_toward_the_lockout(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",))])
    case = _case(session)
    wrong = "000000" if case.pin != "000000" else "111111"
    run_transcript(session, [("DELETE", ("6-digit PIN",)), ("12", ("The PIN has 6 digits; you sent 2",))])
    for _ in range(MAX_FAILURES_PER_CONTACT_HOUR):
        run_transcript(session, [(wrong, ("That PIN is not right. Nothing was deleted.", "6-digit PIN"))])
    # Locked: even the right PIN deletes nothing now, and JOIN shares the budget.
    run_transcript(session, [(case.pin, ("Too many wrong tries from this phone", "Nothing was deleted."))])
    session.refresh(case)
    assert case.status is CaseStatus.OPEN and case.child_name == "Li Ming"
    refused = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase_refused")).all()
    assert [e.detail["outcome"] for e in refused] == ["wrong_pin"] * MAX_FAILURES_PER_CONTACT_HOUR + [
        "locked"
    ]
    assert session.scalar(sa.select(sa.func.count()).where(LinkAttempt.outcome == "erase_wrong_pin")) == 5
    run_transcript(
        session, [(f"JOIN {case.reference} {case.pin}", ("You are",)), ("2", ("Too many wrong tries",))]
    )


def test_the_reporter_who_deletes_leaves_the_joined_fathers_part_and_the_case_open(session, labs):
    run_transcript(session, t.REPORT_ZH + [("2", ("回复“预约”",))])
    case = _case(session)
    run_transcript(session, [
        (f"加入 {case.reference} {case.pin}", ("您是走失孩子的",)), ("爸爸", ("1 同意",)), ("同意", ("保存",)),
        ("1", ("1 现在预约",)), ("1", ("哪个城市或省份",)), ("广州", ("请选采血点",)), ("1", ("日期",)),
        ("1", ("确定预约",)), ("1", ("预约成功",)),
    ], address=FATHER)  # fmt: skip
    father = session.scalars(sa.select(Person).where(Person.role == Role.FATHER)).one()
    run_transcript(
        session, [(f"删除 {case.pin}", ("已删除：", f"案件{case.reference}继续为关注它的其他家人保留"))]
    )
    session.expire_all()
    assert session.get_one(Case, case.id).status is not CaseStatus.WITHDRAWN
    assert session.get_one(Case, case.id).child_name == "李小明"  # the father's search goes on
    mother = session.scalars(sa.select(Person).where(Person.role == Role.MOTHER)).one()
    assert mother.name is None and session.get_one(Person, father.id).role is Role.FATHER
    fathers = session.scalars(sa.select(Consent).where(Consent.person_id == father.id)).all()
    assert fathers and all(c.withdrawn_at is None for c in fathers)
    assert session.scalars(sa.select(Booking.status).where(Booking.person_id == father.id)).one() is (
        BookingStatus.BOOKED
    )
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()
    assert event.detail["shared"] == [case.reference] and event.detail["cases"] == 0


def _candidate(session, case: Case, state: ReviewState) -> Candidate:
    """A candidate between the case's mother and a found child, and an officer's review of it in `state`."""
    lab = session.scalars(sa.select(Lab.id)).first()
    found = register_found_child(session, source=SampleSource.RESCUED_CHILD, sex=Sex.MALE, age_years=5,
                                 found_place="广州", found_date=date(2026, 11, 20), actor="officer:1",
                                 lab_id=lab, today=date(2026, 11, 23))  # fmt: skip
    child_sample = session.scalars(sa.select(Sample).where(Sample.case_id == found.case.id)).one()
    mother_sample = session.scalars(sa.select(Sample).where(Sample.case_id == case.id)).one()
    _profile(session, child_sample, "c" * 32)
    _profile(session, mother_sample, "m" * 32)
    candidate = Candidate(relationship="parent_child", child_profile_id="c" * 32, family_profile_ids="m" * 32,
                          child_case_id=found.case.id, family_case_id=case.id, log10_lr=6.0, band="candidate",
                          evidence=[{"marker": "vWA", "child": ["14", "17"]}], frequency_table="t",
                          engine_version="1")  # fmt: skip
    session.add(candidate)
    session.flush()
    session.add(CandidateReview(candidate_id=candidate.id, state=state))
    session.flush()
    return candidate


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (ReviewState.CONFIRMED, "an officer is reviewing a possible match"),
        (ReviewState.APPROVED, "a match for it was approved"),
    ],
)
def test_a_case_under_a_legal_hold_is_kept_and_the_reply_says_why(session, labs, state, why):
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN)
    case = _case(session)
    candidate = _candidate(session, case, state)
    say(session, "hello")  # a message of the parent's, to be erased
    texts = _texts(say(session, f"DELETE {case.pin}"))
    joined = "\n".join(texts)
    assert "Deleted: your messages and your own details are erased." in joined
    assert f"Case {case.reference} is kept as it is, because {why}" in joined
    session.expire_all()
    kept = session.get_one(Case, case.id)
    assert kept.status is not CaseStatus.WITHDRAWN and kept.child_name == "Li Ming"
    assert session.get_one(Candidate, candidate.id).evidence  # the evidence under review stays
    assert session.get_one(DnaProfile, "m" * 32).genotypes == GENOTYPES
    assert all(c.withdrawn_at is None for c in session.scalars(sa.select(Consent)))
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()
    assert event.detail["held"] == {case.reference: state.value.replace("confirmed", "match_under_review")
                                    .replace("approved", "match_approved")}  # fmt: skip


def test_a_rejected_candidate_holds_nothing(session, labs):
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN)
    case = _case(session)
    _candidate(session, case, ReviewState.REJECTED)
    run_transcript(session, [(f"DELETE {case.pin}", ("Deleted. Your reports are withdrawn",))])
    session.refresh(case)
    assert case.status is CaseStatus.WITHDRAWN and case.child_name is None


def test_a_volunteer_without_a_case_pin_confirms_with_yes(session):
    assert say(session, "DELETE", address=PHONE)[0].text.startswith("Delete your details")
