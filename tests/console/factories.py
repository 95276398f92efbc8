"""Builders for console tests: officers, labs in two provinces, cases with samples and profiles, a logged-in client."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import Lab, OfficerRole
from intake.models.officers import create_officer
from tests.support.factories import IDENTIFILER, booked_sample, make_lab, typed_profile

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_officer(session: Session, username: str, role: OfficerRole = OfficerRole.OFFICER,
                province: str | None = "北京市") -> int:  # fmt: skip
    """Create an officer (committed) and return its id."""
    officer = create_officer(session, username=username, display_name=username.title(), role=role,
                             province=province, password=PASSWORD, actor="test")  # fmt: skip
    session.commit()
    return officer.id


def lab_in(session: Session, province: str, city: str) -> Lab:
    """A lab in `province` (committed)."""
    lab = make_lab(session, city=city, province=province, name=f"{city}实验室")
    session.commit()
    return lab


@dataclass(frozen=True)
class CaseRef:
    reference: str
    case_id: int
    profile_id: str


def case_with_profile(session: Session, lab: Lab, phone: str = "+8613800000001") -> CaseRef:
    """A mother's case booked at `lab`, her sample typed (committed)."""
    ref = booked_sample(session, lab, phone=phone)
    profile = typed_profile(session, ref.id, lab.id, profile_id=f"p{ref.id:08d}", seed=ref.id)
    session.commit()
    from intake.models import Case

    case = session.get(Case, ref.case_id)
    assert case is not None
    return CaseRef(case.reference, case.id, profile.id)


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, page[:500]
    return match.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    """Log in through the form; return the response status (302 on success)."""
    token = csrf_token(client)
    response = client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return response.status_code


def found_child_profile(session: Session, lab: Lab, age: int = 6) -> tuple[int, str]:
    """A rescued child registered at `lab`, with a typed profile (committed): (case id, profile id)."""
    from datetime import date

    from intake.cases.found_children import register_found_child
    from intake.models import Sample, SampleSource, Sex

    registered = register_found_child(session, source=SampleSource.RESCUED_CHILD, sex=Sex.MALE, age_years=age,
                                      found_place="北京站", found_date=date(2026, 11, 1), actor="test",
                                      lab_id=lab.id, today=date(2026, 11, 29))  # fmt: skip
    sample = session.scalars(sa.select(Sample).where(Sample.case_id == registered.case.id)).one()
    profile = typed_profile(session, sample.id, lab.id, profile_id=f"c{sample.id:08d}", seed=1000 + sample.id,
                            digest="y" * 64)  # fmt: skip
    session.commit()
    return registered.case.id, profile.id


def make_candidate(session: Session, lab: Lab, *, log10_lr: float = 7.3, band: str = "candidate",
                   phone: str = "+8613800000001", age: int = 6) -> int:  # fmt: skip
    """A stored candidate between a found child and a mother's case, both at `lab` (committed): its id."""
    from intake.models import Candidate

    family = case_with_profile(session, lab, phone)
    child_case_id, child_profile = found_child_profile(session, lab, age)
    evidence = [
        {"marker": m, "genotypes": {"child": ["12", "14"], "mother": ["12", "13"]},
         "log10_lr": (0.49 if i % 3 else -0.31) if m != "TPOX" else None, "inconsistent": m == "TPOX"}
        for i, m in enumerate(IDENTIFILER)
    ]  # fmt: skip
    candidate = Candidate(relationship="mother_duo", child_profile_id=child_profile,
                          family_profile_ids=family.profile_id, child_case_id=child_case_id,
                          family_case_id=family.case_id, log10_lr=log10_lr, band=band,
                          inconsistent_markers=["TPOX"], shared_markers=15, skipped_markers=[], evidence=evidence,
                          frequency_table="test", engine_version="test", compared=100)  # fmt: skip
    session.add(candidate)
    session.commit()
    return candidate.id
