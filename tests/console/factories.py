"""Builders for console tests: officers, labs in two provinces, cases with samples and profiles, a logged-in client."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import DnaProfile, Lab, OfficerRole
from intake.models.officers import create_officer
from tests.labapi.factories import IDENTIFILER, booked_sample, genotypes

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
    lab = Lab(name=f"{city}实验室", province=province, city=city, address="测试路1号", phone="010-0",
              opening_days="1,2,3,4,5", opening_hours="09:00-17:00", daily_capacity=10)  # fmt: skip
    session.add(lab)
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
    profile = DnaProfile(id=f"p{ref.id:08d}", sample_id=ref.id, lab_id=lab.id, kit="Identifiler",
                         genotypes=genotypes(IDENTIFILER, ref.id), autosomal_markers=len(IDENTIFILER),
                         digest="x" * 64, uploaded_by="test")  # fmt: skip
    session.add(profile)
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
