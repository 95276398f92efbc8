"""Small builders for lab and booking tests."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.directory import import_labs
from intake.models import Case, Channel, Consent, ConsentScope, Lab
from intake.platform.codes import new_case_pin, new_case_reference
from intake.platform.errors import InputError

TODAY = date(2026, 11, 27)  # a Friday


def make_lab(session: Session, *, capacity: int = 10, days: str = "1,2,3,4,5", city: str = "北京") -> Lab:
    lab = Lab(
        name=f"测试实验室{city}", province="北京市", city=city, address="测试路1号", phone="010-0",
        opening_days=days, opening_hours="09:00-17:00", daily_capacity=capacity,
    )  # fmt: skip
    session.add(lab)
    session.flush()
    return lab


def make_case(session: Session, *, consent: bool = True) -> Case:
    case = Case(reference=new_case_reference(), pin=new_case_pin(), child_name="小明")
    session.add(case)
    session.flush()
    if consent:  # both consents a booking needs (intake.cases.consent)
        session.add_all(
            Consent(case_id=case.id, scope=scope, granted=True, channel=Channel.SMS, language="zh_CN",
                    text_version="2026-11")
            for scope in (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
        )  # fmt: skip
    session.flush()
    return case


def import_errors(session: Session, text: str) -> str:
    """Import a lab file that must be refused; return the refusal and check that no lab was saved."""
    with pytest.raises(InputError) as err:
        import_labs(session, io.StringIO(text))
    assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0
    return str(err.value)
