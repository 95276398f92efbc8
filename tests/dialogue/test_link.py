"""LINK (关联): a walk-in sample taken at a lab joins the person's case; every outcome has its own answer."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR
from intake.labs.directory import load_demo_labs
from intake.labs.walkins import LINK_DATA_CHARS, register_walk_in
from intake.models import Case, Consent, ConsentScope, Lab, Person, Role, Sample, SampleSource, Sex
from intake.platform.codes import check_character
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say

FATHER = "+8613900000002"


@pytest.fixture
def lab(session) -> Lab:
    load_demo_labs(session)
    session.flush()
    return session.scalars(sa.select(Lab).order_by(Lab.id)).first()


def _walk_in(session, lab, role=Role.MOTHER, case=None) -> tuple[Sample, str]:
    return register_walk_in(session, lab_id=lab.id, actor="labkey:1", source=SampleSource.REPORTING_PARENT,
                            role=role, sex=Sex.FEMALE if role is Role.MOTHER else Sex.MALE, case=case)  # fmt: skip


def _report(session, turns=t.REPORT_ZH) -> Case:
    run_transcript(session, [*turns, ("2", ("回复“预约”",))])
    return session.scalars(sa.select(Case).order_by(Case.id.desc())).first()


def _wrong_code() -> str:
    data = "2" * LINK_DATA_CHARS
    code = data + check_character(data)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def test_the_mother_links_her_walk_in_and_status_shows_it(session, lab):
    case = _report(session)
    sample, code = _walk_in(session, lab)
    replies = say(session, f"关联 {code.lower()}")
    assert replies[0].text == f"关联成功：样本{sample.code}已加入案件{case.reference}。回复“查询”查看进度。"
    mother = session.scalars(sa.select(Person).where(Person.role == Role.MOTHER)).one()
    assert (sample.case_id, sample.person_id) == (case.id, mother.id)
    assert say(session, f"LINK {code}")[0].text == "这个关联码已经用过了。回复“查询”查看您的案件。"


def test_link_alone_asks_for_the_code(session, lab):
    _report(session)
    sample, code = _walk_in(session, lab)
    run_transcript(session, [("关联", ("请发来采血点给您的关联码",)), (code, ("关联成功", sample.code))])


def test_a_sample_of_a_case_not_joined_needs_its_pin(session, lab):
    case = _report(session)
    sample, code = _walk_in(session, lab, Role.FATHER, case)
    wrong = "000000" if case.pin != "000000" else "111111"
    consents: list = [("yes", ("family's details",)), ("yes", ("This sample was taken for a case you have not joined",
                                                                "PIN (6 digits)"))]  # fmt: skip
    run_transcript(session, [
        (f"LINK {code}", ("may a police lab take a DNA sample from you",)),
        *consents,
        ("12345", ("The PIN has 6 digits; you sent 5",)),
        (wrong, ("That PIN is not right",)),
        (f"LINK {code}", ("DNA sample",)),
        *consents,
        (case.pin, ("Linked: sample", case.reference)),
    ], address=FATHER)  # fmt: skip
    father = session.get_one(Person, sample.person_id)
    assert father.role == Role.FATHER
    own = session.scalars(sa.select(Consent).where(Consent.person_id == father.id)).all()
    assert {(c.scope, c.granted) for c in own} == {(ConsentScope.DNA_SAMPLING, True),
                                                   (ConsentScope.DATA_PROCESSING, True)}  # fmt: skip


def test_a_person_who_refuses_consent_is_not_linked_to_a_case_not_joined(session, lab):
    case = _report(session)
    sample, code = _walk_in(session, lab, Role.FATHER, case)
    run_transcript(session, [(f"LINK {code}", ("DNA sample",)), ("no", ("The sample will not be linked",))],
                   address=FATHER)  # fmt: skip
    assert sample.person_id is None
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.role == Role.FATHER)) == 0
    )


def test_a_person_with_several_cases_picks_one(session, lab):
    _report(session)
    second = _report(
        session, [("报失", ("同意",)), *t.REPORT_ZH[2:7], ("5天前", ("在哪里",)), *t.REPORT_ZH[8:]]
    )
    sample, code = _walk_in(session, lab)
    run_transcript(session, [
        (f"LINK {code}", ("这个样本属于您的哪个案件？", "1 MC-", "2 MC-")),
        ("2", ("关联成功", second.reference)),
    ])  # fmt: skip
    assert sample.case_id == second.id


def test_without_a_case_the_person_is_told_to_report_first(session, lab):
    _sample, code = _walk_in(session, lab)
    assert say(session, f"LINK {code}")[0].text.startswith(
        "You have no case to link the sample to. Send REPORT"
    )


def test_a_withdrawn_case_has_no_consent_to_link_to(session, lab):
    _report(session)
    run_transcript(
        session, [("删除", ("核对码",)), (session.scalars(sa.select(Case.pin)).one(), ("已删除",))]
    )
    sample, code = _walk_in(session, lab)
    # Said as what it is (the case was withdrawn), no longer as a consent to give by JOIN, which it refuses.
    assert "已被家人撤销，样本不能再关联" in say(session, f"关联 {code}")[0].text
    assert sample.case_id is None


def test_guessing_codes_is_locked_out_even_with_the_right_code(session, lab):
    _report(session)
    _sample, code = _walk_in(session, lab)
    for _ in range(MAX_FAILURES_PER_CONTACT_HOUR):
        assert say(session, f"LINK {_wrong_code()}")[0].text.startswith("关联码不对")
    assert say(session, f"LINK {code}")[0].text.startswith("这个手机号输错次数太多，这次没有核对。请在")
    assert say(session, f"LINK {code}", address=FATHER)[0].text.startswith("You have no case")  # per contact
    assert session.scalars(sa.select(Sample.case_id)).one() is None
