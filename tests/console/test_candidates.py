"""Candidates in the console: the queue's order and filters, the evidence page, and the two-person rule."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import AuditEvent, Candidate, CandidateDecision, CandidateReview, OfficerRole, ReviewState
from tests.console.factories import add_officer, csrf_token, lab_in, log_in, make_candidate


def _decide(client: FlaskClient, candidate_id: int, decision: str, **fields: str) -> str:
    token = csrf_token(client, f"/console/candidates/{candidate_id}")
    response = client.post(f"/console/candidates/{candidate_id}/decide",
                           data={"decision": decision, "csrf_token": token, **fields},
                           headers={"Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 303
    return client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)


def _state(session: Session, candidate_id: int) -> str | None:
    try:
        session.expire_all()
        return session.scalar(
            sa.select(CandidateReview.state).where(CandidateReview.candidate_id == candidate_id)
        )
    finally:
        session.rollback()


def _switch(client: FlaskClient, username: str) -> None:
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, username) == 302


def test_queue_strongest_first_and_filters(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    weak = make_candidate(session, lab, log10_lr=4.1, phone="+8613800000001")
    strong = make_candidate(session, lab, log10_lr=9.0, phone="+8613800000002")
    vague = make_candidate(session, lab, log10_lr=3.0, band="inconclusive", phone="+8613800000003")
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/candidates").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'/console/candidates/(\d+)"', page)]
    assert order == [strong, weak, vague]
    only = client.get("/console/candidates?band=inconclusive").get_data(as_text=True)
    assert re.findall(r'/console/candidates/(\d+)"', only) == [str(vague)]
    assert client.get("/console/candidates?band=bogus").status_code == 400
    _decide(client, weak, "confirm")
    confirmed = client.get("/console/candidates?status=confirmed").get_data(as_text=True)
    assert re.findall(r'/console/candidates/(\d+)"', confirmed) == [str(weak)]


def test_candidate_page_shows_the_evidence_and_is_audited(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab, log10_lr=7.3)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2.0 × 10^7" in page and "strongly supports" in page
    assert "<svg" in page and page.count("<rect") == 15
    assert "D8S1179" in page and "12/14" in page and "no: inconsistent" in page
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "candidate.view")).all()
    assert [e.entity_id for e in events] == [str(cid)]
    session.rollback()


def test_an_officer_confirms_and_a_different_supervisor_approves(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "bj")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    add_officer(session, "boss2", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "bj") == 302
    page = _decide(client, cid, "approve")
    assert "Only a supervisor" in page and _state(session, cid) == ReviewState.AWAITING_REVIEW
    _decide(client, cid, "confirm")
    assert _state(session, cid) == ReviewState.CONFIRMED
    _switch(client, "boss")
    assert "批准：可以通知家属" in client.get(f"/console/candidates/{cid}").get_data(
        as_text=True
    )  # Chinese by default
    _decide(client, cid, "approve")
    assert _state(session, cid) == ReviewState.APPROVED
    kinds = [
        d.kind.value for d in session.scalars(sa.select(CandidateDecision).order_by(CandidateDecision.id))
    ]
    assert kinds == ["confirm", "approve"]
    actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "candidate")))
    assert {"candidate.confirm", "candidate.approve"} <= actions
    session.rollback()


def test_nobody_approves_their_own_confirmation(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "boss") == 302
    _decide(client, cid, "confirm")
    page = _decide(client, cid, "approve")
    assert "A different person must approve" in page
    assert _state(session, cid) == ReviewState.CONFIRMED


def test_reject_needs_a_reason_and_tells_no_one(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "bj")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "bj") == 302
    assert "Say why" in _decide(client, cid, "reject", reason="  ")
    _decide(client, cid, "reject", reason="the claimed mother's sample was swapped")
    assert (
        _state(session, cid) == ReviewState.REJECTION_PROPOSED
    )  # a strong candidate: a second person agrees
    assert "you proposed it yourself" in _decide(client, cid, "reject", reason="again")
    _switch(client, "boss")
    _decide(client, cid, "reject", reason="agreed: the sample was swapped")
    assert _state(session, cid) == ReviewState.REJECTED
    assert "already rejected" in _decide(client, cid, "approve")
    assert _state(session, cid) == ReviewState.REJECTED


def test_a_weak_candidate_is_rejected_by_one_person_and_a_supervisor_reopens(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    weak = make_candidate(session, lab, band="inconclusive", log10_lr=2.0)
    strong = make_candidate(session, lab, phone="+8613800000009")
    add_officer(session, "bj")
    add_officer(session, "li")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "bj") == 302
    _decide(client, weak, "reject", reason="not enough")
    assert _state(session, weak) == ReviewState.REJECTED
    assert "Only a supervisor can reopen" in _decide(client, weak, "reopen")
    _decide(client, strong, "reject", reason="looks wrong")
    _switch(client, "li")
    assert "Only a supervisor can agree" in _decide(client, strong, "reject", reason="me too")
    _decide(client, strong, "confirm")  # a second officer disagrees with the proposal: confirmed instead
    assert _state(session, strong) == ReviewState.CONFIRMED
    _switch(client, "boss")
    _decide(client, weak, "reopen")
    assert _state(session, weak) == ReviewState.AWAITING_REVIEW


def test_more_evidence_names_what_is_needed(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    _decide(client, cid, "confirm")
    assert "Say which relative" in _decide(client, cid, "more_evidence", ask_for="")
    page = _decide(client, cid, "more_evidence", ask_for="the father; Penta E and D")
    assert "the father; Penta E and D" in page
    assert _state(session, cid) == ReviewState.MORE_EVIDENCE


def test_a_found_person_of_16_decides_first(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab, age=17)
    add_officer(session, "bj")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "bj") == 302
    _decide(client, cid, "confirm")
    _switch(client, "boss")
    assert "record their own wish" in _decide(client, cid, "approve")
    _decide(client, cid, "wish", wish="no")
    assert "does not wish" in _decide(client, cid, "approve")
    assert _state(session, cid) == ReviewState.CONFIRMED
    _decide(client, cid, "wish", wish="yes")
    _decide(client, cid, "approve")
    assert _state(session, cid) == ReviewState.APPROVED


def test_candidates_of_another_province_are_refused(client: FlaskClient, session: Session) -> None:
    shanghai = lab_in(session, "上海市", "上海")
    cid = make_candidate(session, shanghai)
    add_officer(session, "bj", province="北京市")
    assert log_in(client, "bj") == 302
    assert str(cid) not in re.findall(
        r'/console/candidates/(\d+)"', client.get("/console/candidates").get_data(as_text=True)
    )
    assert client.get(f"/console/candidates/{cid}").status_code == 403
    token = csrf_token(client, "/console/")
    assert (
        client.post(
            f"/console/candidates/{cid}/decide", data={"decision": "confirm", "csrf_token": token}
        ).status_code
        == 403
    )


def test_flags_of_the_officers_province(client: FlaskClient, session: Session) -> None:
    from intake.models import MatchFlag

    beijing, shanghai = lab_in(session, "北京市", "北京"), lab_in(session, "上海市", "上海")
    here = make_candidate(session, beijing, phone="+8613800000001")
    there = make_candidate(session, shanghai, phone="+8613800000002")
    cases = {cid: session.execute(sa.select(Candidate.child_case_id, Candidate.child_profile_id)
                                  .where(Candidate.id == cid)).one() for cid in (here, there)}  # fmt: skip
    for cid, kind in ((here, "sex_mismatch"), (there, "same_person")):
        case_id, profile_id = cases[cid]
        session.add(MatchFlag(kind=kind, profile_ids=profile_id, case_ids=[case_id], detail={}))
    session.commit()
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/flags", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "sex_mismatch" in page and "same_person" not in page
    assert [
        a for a in session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "flag.list"))
    ] == ["flag.list"]
    session.rollback()


def test_a_pedigree_candidate_shows_every_typed_relatives_genotype_and_audits_each_profile(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab, log10_lr=6.1)
    candidate = session.get_one(Candidate, cid)
    candidate.relationship = "pedigree"
    candidate.pedigree = [
        "mother",
        "paternal_grandfather",
        "paternal_grandmother",
        "full_sibling",
        "full_sibling",
    ]
    candidate.family_profile_ids = ",".join(sorted([candidate.family_profile_ids, "pgf00001", "pgm00001"]))
    candidate.evidence = [
        {"marker": "vWA", "log10_lr": 0.8, "inconsistent": False,
         "genotypes": {"paternal_grandmother": ["15", "18"], "child": ["14", "17"], "full_sibling 2": ["16", "17"],
                       "mother": ["14", "16"], "paternal_grandfather": ["17", "19"], "full_sibling": ["14", "17"]}},
    ]  # fmt: skip
    session.commit()
    add_officer(session, "bj")
    log_in(client, "bj")
    page = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    headers = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert headers[: headers.index("LR")] == [
        "Marker", "child", "mother", "brother or sister", "brother or sister 2", "father&#39;s father",
        "father&#39;s mother",
    ]  # fmt: skip
    assert "15/18" in page and "17/19" in page and "16/17" in page
    assert "mother, father&#39;s father, father&#39;s mother, brother or sister, brother or sister" in page
    chinese = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "奶奶（父亲的母亲）" in chinese and "家系：已检测的家庭成员" in chinese
    reads = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "profile.view")).all()
    assert sorted({e.entity_id for e in reads}) == sorted([candidate.child_profile_id,
                                                           *candidate.family_profile_ids.split(",")])  # fmt: skip
    assert len(reads) == 2 * 4  # two views, four profiles each
    session.rollback()
