"""A case's status follows the case, set by the events that cause it (intake.cases.status)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.cases import status
from intake.models import (
    Candidate,
    CandidateReview,
    Case,
    CaseStatus,
    DnaProfile,
    OfficerRole,
    ReviewState,
    Sample,
    SampleStatus,
)
from tests.console.factories import add_officer, csrf_token, lab_in, log_in, make_candidate
from tests.support.factories import IDENTIFILER, booked_sample, genotypes, make_case


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


def test_the_statuses_derived_together_are_those_derived_one_by_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`refresh` derives the noted cases' statuses together (`derive_many`, what a batch of the matching service
    needs); each is what `derive` (one case, EXISTS tests) gives, for every fact, across chunk boundaries."""
    lab = lab_in(session, "北京市", "北京")
    booked = booked_sample(session, lab, phone="+8613800000011").case_id
    collected_ref = booked_sample(session, lab, phone="+8613800000012")
    sample = session.get(Sample, collected_ref.id)
    assert sample is not None
    sample.status = SampleStatus.COLLECTED
    session.commit()
    ids = {booked, collected_ref.case_id, make_case(session).id}
    session.commit()
    strong = make_candidate(session, lab, phone="+8613800000013")
    weak = make_candidate(session, lab, band="inconclusive", log10_lr=2.0, phone="+8613800000014")
    told = make_candidate(session, lab, phone="+8613800000015")
    rejected = make_candidate(session, lab, phone="+8613800000016")
    session.add_all([CandidateReview(candidate_id=told, state=ReviewState.APPROVED),
                     CandidateReview(candidate_id=rejected, state=ReviewState.REJECTED)])  # fmt: skip
    session.commit()
    for cid in (strong, weak, told, rejected):
        ids |= set(session.execute(sa.select(Candidate.child_case_id, Candidate.family_case_id)
                                   .where(Candidate.id == cid)).one())  # fmt: skip
    session.execute(sa.update(Case).where(Case.id.in_(ids)).values(status=CaseStatus.OPEN))  # Core: no event
    session.commit()
    monkeypatch.setattr(status, "DERIVE_CHUNK", 3)
    one_by_one = {i: status.derive(session, i) for i in ids}
    assert status.derive_many(session, ids) == one_by_one
    assert set(one_by_one.values()) == {CaseStatus.OPEN, CaseStatus.SAMPLING_BOOKED, CaseStatus.SAMPLED,
                                        CaseStatus.PROFILED, CaseStatus.CANDIDATE_MATCH, CaseStatus.FAMILY_TOLD}  # fmt: skip
    assert status.refresh(session, ids) == len(ids) - 1  # all but the case without facts moved
    session.commit()
    assert {i: _status(session, i) for i in ids} == one_by_one


def test_a_refresh_reads_only_the_cases_the_session_has_not_loaded(session: Session) -> None:
    """The dialogue's answer has its case loaded: its status is refreshed with the one derive statement; cases
    not loaded are read in one query."""
    lab = lab_in(session, "北京市", "北京")
    loaded = booked_sample(session, lab, phone="+8613800000021").case_id
    other = booked_sample(session, lab, phone="+8613800000022").case_id
    session.execute(sa.update(Case).where(Case.id.in_([loaded, other])).values(status=CaseStatus.OPEN))
    session.commit()
    session.expire_all()
    case = session.get(
        Case, loaded
    )  # held, as the dialogue holds its case (the identity map's refs are weak)
    assert case is not None
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(session.get_bind(), "before_cursor_execute", count)
    try:
        assert status.refresh(session, [loaded]) == 1
        assert len(statements) == 1  # the derive, no SELECT of the case
        session.flush()  # its new status written
        statements.clear()
        assert status.refresh(session, [loaded, other]) == 1  # the loaded case moved already
        assert len(statements) == 2  # the other case read, then one derive for both
    finally:
        sa.event.remove(session.get_bind(), "before_cursor_execute", count)
    session.commit()
    assert _status(session, loaded) is CaseStatus.SAMPLING_BOOKED
    assert _status(session, other) is CaseStatus.SAMPLING_BOOKED


def test_derive_many_sends_one_statement_text_whatever_the_number_of_cases(
    session: Session, backend: str
) -> None:
    """On PostgreSQL the ids are one array parameter: the statement's text is the same for 3 cases and for 900,
    so it is compiled once and psycopg converts it once, instead of a text with thousands of placeholders too
    long for its cache on every batch of the re-match. SQLite keeps the IN list (no arrays)."""
    texts: list[tuple[str, int]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "UNION ALL" in statement:
            texts.append((statement, len(parameters)))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        assert status.derive_many(session, [1, 2, 3]) == dict.fromkeys([1, 2, 3], CaseStatus.OPEN)
        assert status.derive_many(session, range(1, 901)) == dict.fromkeys(range(1, 901), CaseStatus.OPEN)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    (small, small_params), (large, large_params) = texts
    if backend == "postgresql":
        assert small == large and small_params == large_params < 20
    else:
        assert large_params > 900
