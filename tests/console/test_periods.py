"""Dates on the console as precisely as they were given: a birth or a last-seen date known to the month is the
month (not its first day), an age range is the range; in both languages."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import Case, OfficerRole, Sex
from tests.console.factories import add_officer, log_in


def _case(session: Session, reference: str, **details: object) -> None:
    session.add(Case(reference=reference, pin="123456", child_name="李小明", child_sex=Sex.MALE, **details))
    session.commit()


@pytest.mark.parametrize(
    ("lang", "born", "ages", "seen"),
    [
        ("en", "born May 2019", "5 to 6 years", "Oct 2026"),
        ("zh-CN", "出生于2019年5月", "5至6岁", "2026年10月"),
    ],
)
def test_months_are_shown_as_months_and_age_ranges_as_ranges(
    client: FlaskClient, session: Session, lang: str, born: str, ages: str, seen: str
) -> None:
    _case(session, "MC-2026-000001", child_birth_date=date(2019, 5, 1), child_birth_precision="month",
          last_seen_date=date(2026, 10, 1), last_seen_precision="month")  # fmt: skip
    _case(
        session, "MC-2026-000002", child_age_years=5, child_age_max_years=6, last_seen_date=date(2026, 11, 2)
    )
    add_officer(session, "nat", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "nat") == 302
    first = client.get("/console/cases/MC-2026-000001", headers={"Accept-Language": lang}).get_data(
        as_text=True
    )
    assert born in first and seen in first
    assert "2019-05-01" not in first and "2026-10-01" not in first
    second = client.get("/console/cases/MC-2026-000002", headers={"Accept-Language": lang}).get_data(
        as_text=True
    )
    assert ages in second and "2026-11-02" in second  # a day stays a day
