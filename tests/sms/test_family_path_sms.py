"""A family's whole path by SMS and the lab API: the mother reports and books, the father joins and books, the lab
types both, STATUS says so; a grandmother's walk-in sample is linked by LINK while a guesser is locked out."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from intake.labs.keys import issue_key
from intake.models import Case, Lab, Person, Role, Sample
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import check_turn
from tests.dialogue.transcripts import Turn
from tests.support.factories import HUAXIA_PLATINUM, bearer, genotypes
from tests.support.twilio import Phone

BOOK_IN_GUANGZHOU: list[Turn] = [
    ("1", ("哪个城市或省份",)), ("广州", ("请选采血点",)), ("1", ("日期",)), ("1", ("确定预约",)),
    ("1", ("预约成功", "样本编号")),
]  # fmt: skip


def _play(phone: Phone, turns: list[Turn]) -> list[str]:
    seen = []
    for number, (text, expected) in enumerate(turns, 1):
        replies = phone.text(text)
        assert all(segment_count(r) <= 4 for r in replies), replies
        check_turn(number, text, expected, replies)
        seen.append("\n".join(replies))
    return seen


def _other(phone: Phone, number: str) -> Phone:
    return dataclasses.replace(phone, number=number, sent=[])


def _lab_key(session) -> str:
    lab = session.scalars(sa.select(Lab).where(Lab.city == "广州")).first()
    _key, secret = issue_key(session, lab.id, actor="test", name="广州 key")
    session.commit()
    return secret


def _type(client, secret: str, code: str, seed: int, *, collect: bool = True) -> None:
    if collect:  # a walk-in sample is collected when the lab registers it
        events = client.post(
            f"/api/v1/samples/{code}/events", json={"type": "collected"}, headers=bearer(secret)
        )
        assert events.status_code == 201
    body = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, seed)}
    r = client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(secret))
    assert r.status_code == 201, r.get_data(as_text=True)


def test_mother_books_herself_and_the_father_both_typed_and_a_walk_in_linked(phone, client, session):
    told = _play(phone, [*t.REPORT_ZH, *BOOK_IN_GUANGZHOU[:-1], ("1", ("预约成功", "孩子的爸爸也能来采血吗？")),
                         ("好", ("加入 MC-",))])  # fmt: skip
    case = session.scalars(sa.select(Case)).one()
    reference, pin = case.reference, case.pin
    assert f"加入 {reference} {pin}" in told[-1]
    session.commit()
    father = _other(phone, "+8613900000002")
    _play(father, [(f"加入 {reference} {pin}", ("您是走失孩子的",)), ("爸爸", ("采集您的DNA",)), ("同意", ("保存",)),
                   ("1", ("为自己预约采血",)), *BOOK_IN_GUANGZHOU])  # fmt: skip
    codes = {role: code for role, code in session.execute(
        sa.select(Person.role, Sample.code).join(Sample, Sample.person_id == Person.id))}  # fmt: skip
    assert set(codes) == {Role.MOTHER, Role.FATHER} and codes[Role.MOTHER] != codes[Role.FATHER]
    session.commit()
    secret = _lab_key(session)
    for seed, role in enumerate((Role.MOTHER, Role.FATHER)):
        _type(client, secret, codes[role], 40 + seed)
    status = _play(phone, [("查询", ("各人样本：妈妈：已检测，爸爸：已检测",))])[0]
    assert "D3S1358" not in status and "AMEL" not in status

    grandma = _other(phone, "+8613900000003")
    _play(grandma, [(f"加入 {reference} {pin}", ("您是走失孩子的",)), ("奶奶", ("采集您的DNA",)), ("1", ("保存",)),
                    ("1", ("为自己预约采血",)), ("2", ("需要时回复“预约”",))])  # fmt: skip
    walk_in = client.post("/api/v1/samples", json={"source": "reporting_parent", "role": "grandparent",
                                                   "sex": "female"}, headers=bearer(secret))  # fmt: skip
    assert walk_in.status_code == 201
    link_code = walk_in.get_json()["link_code"]
    guesser = _other(phone, "+8613700000009")
    wrong = "2222-2222-22" + ("A" if not link_code.endswith("A") else "B")
    _play(guesser, [(f"LINK {wrong}", ("link code is not right",))] * 5)
    _play(guesser, [(f"LINK {link_code}", ("Too many wrong tries",))])
    _play(grandma, [(f"关联 {link_code}", ("关联成功", reference))])
    _type(client, secret, walk_in.get_json()["code"], 50, collect=False)
    _play(grandma, [("查询", ("妈妈：已检测，爸爸：已检测，奶奶（父亲的母亲）：已检测",))])
