"""Which cases an officer may see: those of their province, where a case's province is that of the labs of its
samples and appointments. Admins (and accounts without a province) see every province.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session

from intake.models import Case, FoundChild, Officer, SampleSource, audit
from intake.places.provinces import province_pairs, provinces_of


def cases_in_province(province: str) -> sa.Select[Any]:
    """Select the ids of the cases with a sample or an appointment at a lab of `province`."""
    pairs = province_pairs().subquery()
    return sa.select(pairs.c.case_id).where(pairs.c.province == province)


def unassigned_volunteer_cases() -> sa.Select[Any]:
    """Select the volunteers' registrations (source 5) not yet at any lab: every officer may pick them up."""
    pairs = province_pairs().subquery()
    assigned = sa.select(pairs.c.case_id).where(pairs.c.case_id.is_not(None))
    return sa.select(FoundChild.case_id).where(
        FoundChild.source == SampleSource.UNKNOWN_IDENTITY_CHILD, FoundChild.case_id.not_in(assigned)
    )


def visible(query: sa.Select[Case], officer: Officer, province: str | None = None) -> sa.Select[Case]:
    """Restrict a query of cases to those the officer may see (and to `province`, if one is asked)."""
    if not officer.national:
        mine = cases_in_province(str(officer.province))
        query = query.where(sa.or_(Case.id.in_(mine), Case.id.in_(unassigned_volunteer_cases())))
    if province:
        query = query.where(Case.id.in_(cases_in_province(province)))
    return query


def may_see(session: Session, officer: Officer, case: Case) -> bool:
    """Tell whether the officer may see the case: national, of its province, or an unassigned volunteer's one."""
    if officer.national:
        return True
    provinces = provinces_of(session, [case.id]).get(case.id, [])
    if provinces:
        return officer.province in provinces
    found = session.get(FoundChild, case.id)
    return found is not None and found.source is SampleSource.UNKNOWN_IDENTITY_CHILD


def require_case(session: Session, officer: Officer, case: Case) -> None:
    """Refuse (403) a case outside the officer's province; the refusal is audited and committed."""
    if not may_see(session, officer, case):
        audit(session, officer.actor, "case.view_denied", "case", case.id)
        session.commit()
        abort(403)
