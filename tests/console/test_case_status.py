"""A case's status follows the case, set by the events that cause it (intake.cases.status)."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import Candidate, Case, CaseStatus, DnaProfile, OfficerRole, Sample, SampleStatus
from tests.console.factories import add_officer, csrf_token, lab_in, log_in, make_candidate
from tests.support.factories import IDENTIFILER, booked_sample, genotypes


def _status(session: Session, case_id: int) -> CaseStatus:
    session.expire_all()
    try:
        return session.scalars(sa.select(Case.status).where(Case.id == case_id)).one()
    finally:
        session.rollback()


def test_the_status_follows_booking_collection_typing_and_candidates(session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = booked_sample(session, lab)
    assert _status(session, ref.case_id) is CaseStatus.SAMPLING_BOOKED
    sample = session.get(Sample, ref.id)
    assert sample is not None
    sample.status = SampleStatus.COLLECTED
    session.commit()
    assert _status(session, ref.case_id) is CaseStatus.SAMPLED
    session.add(DnaProfile(id="pstatus1", sample_id=ref.id, lab_id=lab.id, kit="Identifiler",
                           genotypes=genotypes(IDENTIFILER, 1), autosomal_markers=15, digest="z" * 64,
                           uploaded_by="test"))  # fmt: skip
    session.commit()
    assert _status(session, ref.case_id) is CaseStatus.PROFILED


def test_a_strong_candidate_is_under_review_until_the_family_is_told(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    weak = make_candidate(session, lab, band="inconclusive", log10_lr=2.0, phone="+8613800000008")
    child, family = session.execute(sa.select(Candidate.child_case_id, Candidate.family_case_id)
                                    .where(Candidate.id == cid)).one()  # fmt: skip
    weak_family = session.scalar(sa.select(Candidate.family_case_id).where(Candidate.id == weak))
    session.rollback()
    assert _status(session, child) is CaseStatus.CANDIDATE_MATCH
    assert _status(session, family) is CaseStatus.CANDIDATE_MATCH
    assert (
        weak_family is not None and _status(session, weak_family) is CaseStatus.PROFILED
    )  # inconclusive: typed
    add_officer(session, "bj")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    for who, decision in (("bj", "confirm"), ("boss", "approve")):
        assert log_in(client, who) == 302
        token = csrf_token(client, f"/console/candidates/{cid}")
        client.post(f"/console/candidates/{cid}/decide", data={"decision": decision, "csrf_token": token})
        client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert _status(session, family) is CaseStatus.FAMILY_TOLD
    assert _status(session, child) is CaseStatus.FAMILY_TOLD
    assert log_in(client, "boss") == 302
    dashboard = client.get("/console/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">family told</a></th><td>2</td>" in dashboard  # the dashboard counts mean something


def test_a_withdrawn_case_stays_withdrawn(session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = booked_sample(session, lab)
    case = session.get(Case, ref.case_id)
    assert case is not None
    case.status = CaseStatus.WITHDRAWN
    session.commit()
    sample = session.get(Sample, ref.id)
    assert sample is not None
    sample.status = SampleStatus.COLLECTED
    session.commit()
    assert _status(session, ref.case_id) is CaseStatus.WITHDRAWN
