"""Alert the officers of a case's province when the matching service stores a candidate, in the same transaction.

Who is alerted: every active account (officer, supervisor or admin) whose province is a province of the family's
case or of the child's case, and that chose an alert channel and address (`reunite officers add ...
--alert-channel email|sms|telegram --alert-address ...`). A case's province is that of the labs of its samples
and appointments (`intake.places.provinces`, the console's own rule), so the alerted officers are those who can open
the candidate. When no such account exists (no officer of those provinces chose a channel), the national
accounts (admins, accounts without a province) with a channel are alerted instead, so no candidate goes unseen.

What alerts: a candidate in the `candidate` band (the LR supports the relationship), once per candidate (the
key `candidate:<id>`), also when a stored inconclusive candidate is raised to `candidate` by a later search.
An `inconclusive` candidate does not alert: it needs another relative or more markers before anyone can act, it
is far more frequent at a national scale (expected unrelated pairs), and it waits in the console's queue.

The message (`candidate.stored`) carries the two case references, the band, the province and the console's URL
(`PUBLIC_BASE_URL` + `/console/candidates/<id>`; the path alone when it is unset): never genetic detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.status import touch
from intake.models import Candidate, CandidateStatus, Case
from intake.models.outbox import Notification
from intake.outbox.delivery import officer_recipients
from intake.outbox.queue import OfficerAddress, notify_officers
from intake.places.provinces import provinces_of
from intake.platform.settings import session_settings
from matching.bands import Band

ALERTING_BANDS = frozenset({Band.CANDIDATE.value})


def console_url(session: Session, candidate_id: int) -> str:
    """Return the candidate's page in the officers' console (PUBLIC_BASE_URL from the settings the session carries)."""
    settings = session_settings(session)
    base = (settings.public_base_url or "").rstrip("/") if settings is not None else ""
    return f"{base}/console/candidates/{candidate_id}"


@dataclass
class AlertLookups:
    """What alerting looks up, kept for a batch of candidates stored in one transaction (`store_results`): each
    case's provinces and reference, and the recipients of each set of provinces. Storing candidates changes none
    of them, so every candidate of the batch is alerted as if it were looked up afresh."""

    provinces: dict[int, list[str]] = field(default_factory=dict)
    references: dict[int, str] = field(default_factory=dict)
    recipients: dict[tuple[str, ...], list[OfficerAddress]] = field(default_factory=dict)

    def cases(self, session: Session, case_ids: list[int]) -> None:
        """Look up the provinces and references of those of `case_ids` not known yet."""
        missing = sorted(set(case_ids) - self.provinces.keys())
        if not missing:
            return
        found = provinces_of(session, missing)
        self.provinces.update({i: found.get(i, []) for i in missing})
        query = sa.select(Case.id, Case.reference).where(Case.id.in_(missing))
        self.references.update({i: r for i, r in session.execute(query)})

    def officers(self, session: Session, provinces: list[str]) -> list[OfficerAddress]:
        key = tuple(provinces)
        if key not in self.recipients:
            self.recipients[key] = officer_recipients(session, provinces)
        return self.recipients[key]


def alert_officers(
    session: Session, candidate_id: int, lookups: AlertLookups | None = None
) -> list[Notification]:
    """Queue the alerts of a stored candidate in the caller's transaction (none for an inconclusive one); with
    `lookups`, the cases and recipients a batch looked up already are not looked up again."""
    candidate = session.get(Candidate, candidate_id, populate_existing=True)  # updated by Core
    if candidate is None:
        return []
    return alert_stored(session, StoredCandidate(candidate.id, candidate.band, candidate.status,
                                                 candidate.child_case_id, candidate.family_case_id), lookups)  # fmt: skip


@dataclass(frozen=True)
class StoredCandidate:
    """What alerting reads of a candidate as it stands after it was stored."""

    id: int
    band: str
    status: CandidateStatus
    child_case_id: int
    family_case_id: int


def alerts(band: str, status: CandidateStatus) -> bool:
    """Whether a candidate stored with this band and status alerts: a new one of an alerting band."""
    return band in ALERTING_BANDS and status is CandidateStatus.NEW


def alert_stored(
    session: Session, candidate: StoredCandidate, lookups: AlertLookups | None = None
) -> list[Notification]:
    """`alert_officers` for a candidate whose stored state the caller knows (a batch store, which wrote it
    without reading it back): its cases' status is noted, and a new candidate of an alerting band alerts."""
    touch(session, candidate.child_case_id, candidate.family_case_id)  # written by Core, unseen by the ORM
    if not alerts(candidate.band, candidate.status):
        return []
    lookups = lookups or AlertLookups()
    case_ids = [candidate.family_case_id, candidate.child_case_id]
    lookups.cases(session, case_ids)
    provinces = sorted({p for i in case_ids for p in lookups.provinces[i]})
    refs = lookups.references
    params = {
        "reference": f"{refs[candidate.family_case_id]} / {refs[candidate.child_case_id]}",
        "band": candidate.band,
        "province": ", ".join(provinces) or "-",
        "url": console_url(session, candidate.id),
    }
    return notify_officers(
        session, recipients=lookups.officers(session, provinces), key=f"candidate:{candidate.id}",
        template="candidate.stored", params=params, case_id=candidate.family_case_id,
    )  # fmt: skip
