"""Parents booked by SMS carry the sex their relationship says (a mother is female, a father male), so the lab's
Amelogenin check works for them: a mother's X,Y is a sex_mismatch notice, the father's X,Y none."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import Case, Person, Role, Sample, Sex
from tests.dialogue import transcripts as t
from tests.sms.test_family_path_sms import BOOK_IN_GUANGZHOU, _lab_key, _other, _play
from tests.support.factories import HUAXIA_PLATINUM, bearer, genotypes


def test_parents_booked_by_sms_are_checked_against_amelogenin(phone, client, session):
    _play(phone, [*t.REPORT_ZH, *BOOK_IN_GUANGZHOU[:-1], ("1", ("预约成功",)), ("好", ("加入 MC-",))])
    case = session.scalars(sa.select(Case)).one()
    reference, pin = case.reference, case.pin
    session.commit()
    father = _other(phone, "+8613900000012")
    _play(father, [(f"加入 {reference} {pin}", ("您是走失孩子的",)), ("爸爸", ("采集您的DNA",)), ("同意", ("保存",)),
                   ("1", ("为自己预约采血",)), *BOOK_IN_GUANGZHOU])  # fmt: skip
    samples = {role: (code, sex) for role, code, sex in session.execute(
        sa.select(Person.role, Sample.code, Sample.sex).join(Sample, Sample.person_id == Person.id))}  # fmt: skip
    assert {role: sex for role, (_code, sex) in samples.items()} == {
        Role.MOTHER: Sex.FEMALE,
        Role.FATHER: Sex.MALE,
    }
    session.commit()
    secret = _lab_key(session)
    notices = {}
    for role, (code, _sex) in samples.items():
        assert client.post(f"/api/v1/samples/{code}/events", json={"type": "collected"},
                           headers=bearer(secret)).status_code == 201  # fmt: skip
        body = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, 3 + len(notices), "male")}
        answer = client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(secret))
        assert answer.status_code == 201, answer.get_json()
        notices[role] = [n["code"] for n in answer.get_json()["notices"]]
    assert notices == {Role.MOTHER: ["sex_mismatch"], Role.FATHER: []}
