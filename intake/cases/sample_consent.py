"""Whether a sample's profile may be stored and linked: the intake's parents must have recorded their consents.

Every lab path (upload, GeneMapper import, walk-in link) asks this one question, which asks the shared consent
guard of `intake.cases.consent` for cases the intake took.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.cases.consent import consent_status
from intake.models import Case, Sample


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
    return consent_status(session, case, person_id).ok
