"""Whether a sample's profile may be stored and linked: the intake's parents must have recorded their consents.

The shared consent guard of `intake.consent` is meant to replace `profile_consents_recorded` once merged; it is
kept as one function so that every lab path (upload, GeneMapper import, walk-in link) asks the same question.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Case, Consent, ConsentScope, Sample

# Both consents the intake asks before booking: to DNA sampling and to processing personal data.
PROFILE_SCOPES = (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)


def profile_consents_recorded(session: Session, sample: Sample, person_id: int | None = None) -> bool:
    """Tell whether a profile of `sample` may be stored or linked to `person_id` (default: the sample's person).

    Cases reported through the intake need, for each scope, a latest answer that is a granted, unwithdrawn
    consent of that person or of the case as a whole. Found children (registered by officers) and walk-ins not
    yet linked to a case were consented at the lab or fall under the officers' legal basis.
    """
    case = session.get(Case, sample.case_id) if sample.case_id is not None else None
    if case is None:
        return True
    return case_consents_recorded(session, case, person_id if person_id is not None else sample.person_id)


def case_consents_recorded(session: Session, case: Case, person_id: int | None) -> bool:
    """Tell whether the person (or, without one, the case) has every consent a profile needs, if reported."""
    if case.reported_by_contact_id is None:
        return True
    for scope in PROFILE_SCOPES:
        latest = session.scalars(
            sa.select(Consent)
            .where(
                Consent.case_id == case.id,
                Consent.scope == scope,
                sa.or_(Consent.person_id.is_(None), Consent.person_id == person_id),
            )
            .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        ).first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            return False
    return True
