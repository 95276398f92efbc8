"""A case's status follows the case: it is set by the events that cause it, whoever records them.

    reported (open) -> sampling booked -> sample collected (sampled) -> typed (profiled)
        -> candidate under review (candidate_match) -> family told -> closed: reunited | withdrawn | closed

`derive(session, case_id)` reads the facts: an approved candidate of the case (the family was told), an open
strong candidate (band `candidate`, not rejected), a current profile of one of its samples, a sample collected,
a booked appointment; the furthest of these is the status. Closed statuses (reunited, withdrawn, closed) are set
by the people who close a case and are never moved back by an event.

The events are the rows that carry them: a booking, a sample, a custody event, a profile, a candidate, a review.
Any session that writes one (the dialogue, the lab API, the matching service, the console) notes the case in
`after_flush`, and `before_commit` of the transaction (not of its savepoints) brings the status of each noted case
up to date in the same transaction, with one statement per case. The
matching service writes candidates with Core statements (no ORM event): `touch(session, *case_ids)` notes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.models import (
    Booking,
    BookingStatus,
    CandidateReview,
    Case,
    CaseStatus,
    CustodyEvent,
    DnaProfile,
    ReviewState,
    Sample,
    SampleStatus,
)
from intake.models.matches import Candidate, CandidateStatus
from matching.bands import Band

FINAL = frozenset({CaseStatus.REUNITED, CaseStatus.WITHDRAWN, CaseStatus.CLOSED})
STRONG_BAND = Band.CANDIDATE.value  # a new candidate of this band puts its cases under review
# the statuses the facts of derive() give, furthest first
_FURTHEST_FIRST = (CaseStatus.FAMILY_TOLD, CaseStatus.CANDIDATE_MATCH, CaseStatus.PROFILED, CaseStatus.SAMPLED,
                   CaseStatus.SAMPLING_BOOKED)  # fmt: skip
_CASES, _SAMPLES, _CANDIDATES = "case_status.cases", "case_status.samples", "case_status.candidates"


def _involving(case_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(Candidate.child_case_id == case_id, Candidate.family_case_id == case_id)


def derive(session: Session, case_id: int) -> CaseStatus:
    """Return the status the facts of the case give (not looking at its closed statuses).

    One statement: the five facts are EXISTS tests of one SELECT (a round trip each would cost more than all of
    them together; the furthest that holds wins)."""
    reviewed = (
        sa.select(Candidate.id)
        .join(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(_involving(case_id), CandidateReview.state == ReviewState.APPROVED)
    )
    strong = (
        sa.select(Candidate.id)
        .outerjoin(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(
            _involving(case_id),
            Candidate.band == STRONG_BAND,
            Candidate.status == CandidateStatus.NEW,
            sa.or_(CandidateReview.state.is_(None), CandidateReview.state != ReviewState.REJECTED),
        )
    )
    samples = sa.select(Sample.id).where(Sample.case_id == case_id)
    typed = sa.select(DnaProfile.id).where(
        DnaProfile.sample_id.in_(samples), DnaProfile.replaced_at.is_(None)
    )
    taken = samples.where(Sample.status.in_((SampleStatus.COLLECTED, SampleStatus.PROFILED)))
    booked = sa.select(Booking.id).where(Booking.case_id == case_id, Booking.status == BookingStatus.BOOKED)
    facts = session.execute(
        sa.select(*(sa.exists(q) for q in (reviewed, strong, typed, taken, booked)))
    ).one()
    for holds, status in zip(facts, _FURTHEST_FIRST, strict=True):
        if holds:
            return status
    return CaseStatus.OPEN


def refresh(session: Session, case_ids: Iterable[int]) -> int:
    """Bring the status of each case up to date with its facts (closed cases stay closed); return how many moved."""
    moved = 0
    for case_id in sorted(set(case_ids)):
        case = session.get(Case, case_id)
        if case is None or case.status in FINAL:
            continue
        status = derive(session, case_id)
        if status is not case.status:
            case.status = status
            moved += 1
    return moved


def touch(session: Session, *case_ids: int | None) -> None:
    """Note cases whose status may have moved (refreshed before the transaction commits)."""
    session.info.setdefault(_CASES, set()).update(i for i in case_ids if i is not None)


@event.listens_for(Session, "after_flush")
def _note(session: Session, _context: Any) -> None:
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, Booking | Sample):
            touch(session, obj.case_id)
        elif isinstance(obj, CustodyEvent | DnaProfile):
            session.info.setdefault(_SAMPLES, set()).add(obj.sample_id)
        elif isinstance(obj, Candidate):
            touch(session, obj.child_case_id, obj.family_case_id)
        elif isinstance(obj, CandidateReview):
            session.info.setdefault(_CANDIDATES, set()).add(obj.candidate_id)


@event.listens_for(Session, "before_commit")
def _apply(session: Session) -> None:
    # SQLAlchemy sends before_commit for a savepoint's release too: the statuses are brought up to date once, when
    # the transaction itself commits (the notes of a savepoint rolled back only make derive() look again)
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the last changes' events are noted too
    if not any(session.info.get(k) for k in (_CASES, _SAMPLES, _CANDIDATES)):
        return
    cases: set[int] = session.info.pop(_CASES, set())
    samples: set[int] = session.info.pop(_SAMPLES, set())
    candidates: set[int] = session.info.pop(_CANDIDATES, set())
    if samples:
        cases |= {i for i in session.scalars(sa.select(Sample.case_id).where(Sample.id.in_(samples))) if i}
    if candidates:
        for child, family in session.execute(
            sa.select(Candidate.child_case_id, Candidate.family_case_id).where(Candidate.id.in_(candidates))
        ):
            cases |= {child, family}
    refresh(session, cases)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (_CASES, _SAMPLES, _CANDIDATES):
        session.info.pop(key, None)
