"""The flags page shows the samples the matching service linked as one person's (a person sampled twice)."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import DnaProfile, MatchFlag, Sample, SampleLink
from tests.console.factories import add_officer, case_with_profile, lab_in, log_in


def test_a_same_person_flag_shows_the_two_linked_samples(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    first = case_with_profile(session, lab, phone="+8613800000001")
    second = case_with_profile(session, lab, phone="+8613800000002")
    flag = MatchFlag(kind="same_person", profile_ids=",".join(sorted([first.profile_id, second.profile_id])),
                     case_ids=[first.case_id, second.case_id], detail={})  # fmt: skip
    session.add(flag)
    session.flush()
    samples = {p: s for p, s in session.execute(sa.select(DnaProfile.id, DnaProfile.sample_id))}
    one, other = sorted([samples[first.profile_id], samples[second.profile_id]])
    session.add(SampleLink(sample_id=one, same_as_sample_id=other, flag_id=flag.id, how="same_person"))
    session.commit()
    codes = dict(session.execute(sa.select(Sample.id, Sample.code)).all())
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/flags", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Linked as one person: samples {codes[one]} and {codes[other]}" in page
    session.rollback()
