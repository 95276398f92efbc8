"""The one consent guard every use of a person's sample goes through: book, reschedule, and later the lab and
matching paths.

The README promises that consent to DNA sampling and consent to processing personal data are both asked,
recorded and required before any sample is booked or used, and that a withdrawal stops every use. For each scope
the latest recorded answer of the case counts (a later refusal overrides an earlier yes), and it must be granted
and not withdrawn; a withdrawn case has no valid consent at all.

    missing_scopes(session, case) -> list[ConsentScope]
    has_sample_consent(session, case) -> bool
    require_sample_consent(session, case) -> None, or raises ConsentRequiredError
    record_police_order(session, case, *, person_id, channel, language, at) -> list[Consent]

A child of unknown identity found begging or alone (sample source 5) cannot consent and has no known guardian.
The lawful basis for sampling such a child is not consent but the police: under the national anti-trafficking
DNA programme the public security organs sample children of unknown identity. That basis is recorded explicitly,
as the case's answer to each scope with the text version `POLICE_ORDER`, and the guard accepts such a record only
for a found child of source 5: the same row on any other case counts as no answer at all.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.errors import ConsentRequiredError
from intake.models import Case, CaseStatus, Channel, Consent, ConsentScope, FoundChild, SampleSource

# Every scope a sample's use depends on, in the order the report flow asks them.
SAMPLE_USE_SCOPES = (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
# The recorded basis of sampling a child of unknown identity: the police's order under the national programme.
POLICE_ORDER = "basis-police-order-source5"


def police_order_applies(session: Session, case: Case) -> bool:
    """Tell whether the case is a found child of unknown identity (source 5), sampled on the police's order."""
    found = session.get(FoundChild, case.id)
    return found is not None and found.source == SampleSource.UNKNOWN_IDENTITY_CHILD


def record_police_order(
    session: Session, case: Case, *, person_id: int, channel: Channel, language: str, at: datetime
) -> list[Consent]:
    """Record the police's order as the basis of sampling the child of a source-5 case (each scope)."""
    if not police_order_applies(session, case):
        raise ValueError(
            "the police-order basis applies only to a found child of unknown identity (source 5)"
        )
    rows = [
        Consent(
            case_id=case.id,
            person_id=person_id,
            scope=scope,
            granted=True,
            channel=channel,
            language=language,
            text_version=POLICE_ORDER,
            recorded_at=at,
        )  # fmt: skip
        for scope in SAMPLE_USE_SCOPES
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _latest(session: Session, case: Case, scope: ConsentScope, person_id: int | None) -> Consent | None:
    query = sa.select(Consent).where(Consent.case_id == case.id, Consent.scope == scope)
    if person_id is not None:  # a person's own answer, or one given for the whole case
        query = query.where(sa.or_(Consent.person_id.is_(None), Consent.person_id == person_id))
    return session.scalars(query.order_by(Consent.recorded_at.desc(), Consent.id.desc())).first()


def missing_scopes(session: Session, case: Case, person_id: int | None = None) -> list[ConsentScope]:
    """Return the scopes without a granted, unwithdrawn latest answer for the case (all, if it is withdrawn).

    With `person_id`, the latest answer of that person or of the case as a whole counts.
    """
    if case.status == CaseStatus.WITHDRAWN:
        return list(SAMPLE_USE_SCOPES)
    missing = []
    ordered: bool | None = None  # asked only when a police-order row is found
    for scope in SAMPLE_USE_SCOPES:
        latest = _latest(session, case, scope, person_id)
        if latest is not None and latest.text_version == POLICE_ORDER:
            ordered = police_order_applies(session, case) if ordered is None else ordered
            if not ordered:
                latest = None  # the police-order basis counts for source 5 only
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
