"""The one consent guard every use of a person's sample goes through: book, reschedule, and later the lab and
matching paths.

The README promises that consent to DNA sampling and consent to processing personal data are both asked,
recorded and required before any sample is booked or used, and that a withdrawal stops every use. For each scope
the latest recorded answer of the case counts (a later refusal overrides an earlier yes), and it must be granted
and not withdrawn; a withdrawn case has no valid consent at all.

    missing_scopes(session, case) -> list[ConsentScope]
    has_sample_consent(session, case) -> bool
    require_sample_consent(session, case) -> None, or raises ConsentRequiredError
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.errors import ConsentRequiredError
from intake.models import Case, CaseStatus, Consent, ConsentScope

# Every scope a sample's use depends on, in the order the report flow asks them.
SAMPLE_USE_SCOPES = (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)


def _latest(session: Session, case: Case, scope: ConsentScope) -> Consent | None:
    return session.scalars(
        sa.select(Consent)
        .where(Consent.case_id == case.id, Consent.scope == scope)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
    ).first()


def missing_scopes(session: Session, case: Case) -> list[ConsentScope]:
    """Return the scopes without a granted, unwithdrawn latest answer for the case (all, if it is withdrawn)."""
    if case.status == CaseStatus.WITHDRAWN:
        return list(SAMPLE_USE_SCOPES)
    missing = []
    for scope in SAMPLE_USE_SCOPES:
        latest = _latest(session, case, scope)
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            missing.append(scope)
    return missing


def has_sample_consent(session: Session, case: Case) -> bool:
    """Tell whether every consent a sample's use needs is on record for the case."""
    return not missing_scopes(session, case)


def require_sample_consent(session: Session, case: Case) -> None:
    """Raise ConsentRequiredError unless every consent a sample's use needs is on record for the case."""
    if missing_scopes(session, case):
        raise ConsentRequiredError(
            "Consent to DNA sampling and to keeping your details is needed before a sample can be booked or used."
        )
