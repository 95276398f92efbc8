"""The other parent reports the same child from his own phone: he is pointed to JOIN (nothing of the other case is
shown), may still make his own report, and officers see the pair as a `likely_duplicate_report` flag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.duplicates import LIKELY_DUPLICATE_REPORT, likely_duplicates
from intake.models import Case, MatchFlag
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say

FATHER = "+8613900000002"
# The mother's report up to the place last seen, as the father gives it from his phone.
UP_TO_PLACE = [text for text, _expected in t.REPORT_ZH[:9]]
WARNING = "可能已经有人登记过这个孩子"


def _mother_reports(session) -> Case:
    run_transcript(session, [*t.REPORT_ZH, ("2", ("回复“预约”",))])
    return session.scalars(sa.select(Case)).one()


def _father_says(session, texts) -> str:
    answer = ""
    for text in texts:
        answer = "\n".join(
            r.text + "".join(f"\n{c.key} {c.label}" for c in r.choices)
            for r in say(session, text, address=FATHER)
        )
    return answer


def test_the_father_reporting_the_same_child_is_pointed_to_join_and_may_still_report(session):
    mother_case = _mother_reports(session)
    warned = _father_says(session, UP_TO_PLACE)
    assert WARNING in warned and "加入 案件号 核对码" in warned and "1 先不登记" in warned
    # Nothing of the other case reaches a phone that has not proved it is the family's.
    assert mother_case.reference not in warned and "王芳" not in warned and mother_case.pin not in warned
    _father_says(session, ["2", "跳过", "李强", "2"])
    assert "案件号：MC-" in _father_says(session, ["1"])
    cases = session.scalars(sa.select(Case).order_by(Case.id)).all()
    assert len(cases) == 2  # never merged, never dropped
    father_case = cases[1]
    assert likely_duplicates(session, father_case) == [mother_case]
    assert likely_duplicates(session, mother_case) == [father_case]
    flag = session.scalars(sa.select(MatchFlag)).one()
    assert flag.kind == LIKELY_DUPLICATE_REPORT and flag.case_ids == [mother_case.id, father_case.id]
    assert flag.resolved_at is None


def test_the_father_who_stops_to_join_leaves_nothing_behind(session):
    mother_case = _mother_reports(session)
    _father_says(session, UP_TO_PLACE)
    stopped = _father_says(session, ["1"])
    assert "这次登记没有保存" in stopped and "加入" in stopped
    assert session.scalars(sa.select(Case)).all() == [mother_case]
    assert session.scalars(sa.select(MatchFlag)).first() is None
    _father_says(session, [f"加入 {mother_case.reference} {mother_case.pin}"])
    assert "同意" in _father_says(session, ["爸爸"])


@pytest.mark.parametrize(
    ("index", "other"),
    [(4, "李小强"), (5, "女"), (6, "9岁"), (8, "北京西站")],
    ids=["another name", "another sex", "another age", "another place"],
)
def test_another_child_is_not_a_likely_duplicate(session, index, other):
    _mother_reports(session)
    texts = list(UP_TO_PLACE)
    texts[index] = other
    answer = _father_says(session, texts)
    assert WARNING not in answer and "穿着" in answer


def test_the_same_name_written_otherwise_and_a_place_within_the_other_still_warn(session):
    _mother_reports(session)
    texts = list(UP_TO_PLACE)
    texts[4], texts[6], texts[8] = "李 小明", "6岁", "广州"  # spaces, a year older, the city of the station
    assert WARNING in _father_says(session, texts)
