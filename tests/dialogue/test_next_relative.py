"""STATUS tells the family which relative would help the search most, in words: never a figure or genetic detail."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import intake.cases.power as power
from intake.models import Case, DnaProfile, Lab, Person, Role, Sample, SampleSource, SampleStatus
from tests.dialogue.helpers import reported_case, say
from tests.support.factories import IDENTIFILER, genotypes
from tests.support.power import use_small_kit


@pytest.fixture(autouse=True)
def _small_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_kit(monkeypatch)


def _mother_typed(session: Session) -> int:
    case = reported_case(session)
    mother = session.scalars(sa.select(Person).where(Person.role == Role.MOTHER)).one()
    lab = Lab(name="北京实验室", province="北京市", city="北京", address="测试路1号", phone="010-0",
              opening_days="1,2,3,4,5", opening_hours="09:00-17:00", daily_capacity=10)  # fmt: skip
    session.add(lab)
    session.flush()
    sample = Sample(code="MOTHER-01", source=SampleSource.REPORTING_PARENT, status=SampleStatus.PROFILED,
                    case_id=case.id, person_id=mother.id, lab_id=lab.id)  # fmt: skip
    session.add(sample)
    session.flush()
    session.add(DnaProfile(id="pmother1", sample_id=sample.id, lab_id=lab.id, kit="Identifiler",
                           genotypes=genotypes(IDENTIFILER, 5, "female"), autosomal_markers=15, digest="m" * 64,
                           uploaded_by="test"))  # fmt: skip
    session.flush()
    return case.id


def test_status_names_the_relative_who_helps_most_once_the_power_is_computed(session: Session) -> None:
    case_id = _mother_typed(session)
    before = [r.text for r in say(session, "状态")]
    assert not any("最能帮助" in text for text in before)  # not computed yet: an SMS reply never computes it
    assert power.case_power(session, session.get_one(Case, case_id)) is not None
    replies = [r.text for r in say(session, "状态")]
    advice = [text for text in replies if "最能帮助" in text]
    assert advice == ["现在最能帮助寻找的是：请孩子的爸爸也采集DNA。他们可以回复“加入”、案件号和核对码参加。"]
    assert not re.search(r"\d", advice[0])  # words only: no figure, no marker, no allele
    say(session, "ENGLISH")
    english = [r.text for r in say(session, "STATUS") if "help the search most" in r.text]
    assert english == ["What would help the search most now: a DNA sample from the child's father. They can send "
                       "JOIN, the case number and the PIN to take part."]  # fmt: skip
