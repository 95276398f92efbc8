"""The lineage evidence on the candidate page: per Y locus, in both languages, audited; and it ranks the queue."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import AuditEvent, Candidate, DnaProfile, LineageEvidence, YHaplotype
from tests.console.factories import add_officer, lab_in, log_in, make_candidate


def _haplotype(session: Session, profile_id: str, alleles: dict[str, list[str]]) -> str:
    profile = session.get(DnaProfile, profile_id)
    assert profile is not None
    row = YHaplotype(id=f"y{profile.sample_id:08d}", sample_id=profile.sample_id, lab_id=profile.lab_id,
                     kit="Yfiler Plus", haplotype=alleles, loci=len(alleles), digest="z" * 64, uploaded_by="test")  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _with_lineage(session: Session, candidate_id: int, log10_lr: float | None) -> None:
    c = session.get(Candidate, candidate_id)
    assert c is not None
    child = _haplotype(session, c.child_profile_id, {"DYS19": ["14"], "DYS385": ["13", "18"]})
    relative = _haplotype(session, c.family_profile_ids, {"DYS19": ["15"], "DYS385": ["13", "18"]})
    evidence = [
        {"locus": "DYS19", "child": ["14"], "relative": ["15"], "rate": 0.002237, "probability": 0.0011185},
        {"locus": "DYS385", "child": ["13", "18"], "relative": ["13", "18"], "rate": 0.001223, "probability": 0.99755},
    ]  # fmt: skip
    session.add(LineageEvidence(
        candidate_id=candidate_id, child_haplotype_id=child, relative_haplotype_id=relative, relative_role="father",
        meioses=1, loci_compared=2, log10_lr=log10_lr, combined_log10_lr=None if log10_lr is None else c.log10_lr + log10_lr,
        matches=0, database=40, frequency=0.0722, evidence=evidence, inconsistent_loci=[] if log10_lr is not None else ["DYS19"],
        rates="YHRD",
    ))  # fmt: skip
    session.commit()


def test_the_candidate_page_shows_the_lineage_per_y_locus_in_both_languages_and_audits_it(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab, log10_lr=7.3)
    _with_lineage(session, cid, -1.81)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Paternal line (Y-STR)" in page and "1 meioses apart" in page and "0 of 40 other lines" in page
    rows = re.findall(r"<tr><th scope=\"row\">(DYS\w+)</th><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert rows == [("DYS19", "14", "15"), ("DYS385", "13/18", "13/18")]
    assert "309,030" in page and "0.0155" in page  # combined 10^(7.3 - 1.81); lineage 10^-1.81
    zh = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "父系（Y-STR）" in zh and "Paternal line" not in zh
    views = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "lineage.view")).all()
    assert [e.entity_id for e in views] == [str(cid), str(cid)]
    session.rollback()


def test_a_candidate_without_lineage_shows_no_section_and_audits_no_lineage_read(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/candidates/{cid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Paternal line" not in page
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "lineage.view")) is None
    session.rollback()


def test_the_queue_ranks_by_the_combined_lr_and_an_inconsistent_line_last(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    strong = make_candidate(session, lab, log10_lr=9.0, phone="+8613800000002")
    lifted = make_candidate(session, lab, log10_lr=8.0, phone="+8613800000003")  # 8 + 2.5 = 10.5 with its Y
    broken = make_candidate(
        session, lab, log10_lr=9.5, phone="+8613800000004"
    )  # its paternal line inconsistent
    _with_lineage(session, lifted, 2.5)
    _with_lineage(session, broken, None)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/candidates").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'/console/candidates/(\d+)"', page)] == [lifted, strong, broken]
