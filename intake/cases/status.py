"""A case's status follows the case: it is set by the events that cause it, whoever records them.

    reported (open) -> sampling booked -> sample collected (sampled) -> typed (profiled)
        -> candidate under review (candidate_match) -> family told -> closed: reunited | withdrawn | closed

`derive(session, case_id)` (and `derive_many(session, case_ids)`, the same for many) reads the facts: an approved candidate of the case (the family was told), an open
strong candidate (band `candidate`, not rejected), a current profile of one of its samples, a sample collected,
a booked appointment; the furthest of these is the status. Closed statuses (reunited, withdrawn, closed) are set
by the people who close a case and are never moved back by an event.

The events are the rows that carry them: a booking, a sample, a custody event, a profile, a candidate, a review.
Any session that writes one (the dialogue, the lab API, the matching service, the console) notes the case in
`after_flush`, and `before_commit` of the transaction (not of its savepoints) brings the status of each noted case
up to date in the same transaction: the noted cases are loaded in one query and their statuses derived together
(`derive_many`, one statement per 1,000 cases; the matching service's batches note hundreds). The
matching service writes candidates with Core statements (no ORM event): `touch(session, *case_ids)` notes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

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


def _among(column: Any, case_ids: list[int], array: bool) -> Any:
    """`column IN (ids)`; with `array` (PostgreSQL), `column = ANY(:ids)`: one parameter, so the statement's text
    is the same for any number of ids (compiled once, and psycopg converts it once, not a thousand placeholders
    in a text too long for its cache on every batch)."""
    if array:
        return column == sa.any_(sa.bindparam(None, case_ids, type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(case_ids)


def _facts(
    case_ids: list[int], array: bool = False
) -> list[Any]:  # Selects of one or two columns, not one type
    """The five facts of `derive`, furthest first, each a SELECT of the ids of those of `case_ids` it holds for
    (`array`: the ids bound as one PostgreSQL array, see `_among`)."""
    involving = sa.or_(
        _among(Candidate.child_case_id, case_ids, array), _among(Candidate.family_case_id, case_ids, array)
    )
    reviewed = (
        sa.select(Candidate.child_case_id, Candidate.family_case_id)
        .join(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(involving, CandidateReview.state == ReviewState.APPROVED)
    )
    strong = (
        sa.select(Candidate.child_case_id, Candidate.family_case_id)
        .outerjoin(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(
            involving,
            Candidate.band == STRONG_BAND,
            Candidate.status == CandidateStatus.NEW,
            sa.or_(CandidateReview.state.is_(None), CandidateReview.state != ReviewState.REJECTED),
        )
    )
    typed = (
        sa.select(Sample.case_id)
        .join(DnaProfile, DnaProfile.sample_id == Sample.id)
        .where(_among(Sample.case_id, case_ids, array), DnaProfile.replaced_at.is_(None))
    )
    taken = sa.select(Sample.case_id).where(
        _among(Sample.case_id, case_ids, array),
        Sample.status.in_((SampleStatus.COLLECTED, SampleStatus.PROFILED)),
    )
    booked = sa.select(Booking.case_id).where(
        _among(Booking.case_id, case_ids, array), Booking.status == BookingStatus.BOOKED
    )
    return [reviewed, strong, typed, taken, booked]


DERIVE_CHUNK = 1000  # cases per statement of derive_many (each id is bound 8 times: under SQLite's 32,766)


def derive_many(session: Session, case_ids: Iterable[int]) -> dict[int, CaseStatus]:
    """Return the status the facts give for each of `case_ids` (not looking at closed statuses): what `derive`
    returns for each, with one statement per 1,000 cases instead of one per case (the matching service's batches
    touch hundreds of cases per transaction).

    The statement is a UNION ALL of the five facts, each row (fact, case id) for a case the fact holds for; a
    case's status is the furthest fact found, or open."""
    ids = sorted(set(case_ids))
    found: dict[int, int] = {}
    array = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), DERIVE_CHUNK):
        chunk = ids[start : start + DERIVE_CHUNK]
        wanted = set(chunk)
        parts = []
        for rank, query in enumerate(_facts(chunk, array)):
            for column in query.selected_columns:  # a candidate's fact holds for both its cases
                parts.append(
                    query.with_only_columns(
                        sa.literal(rank, sa.Integer).label("rank"), column.label("case_id")
                    )
                )
        for rank, case_id in session.execute(sa.union_all(*parts)):
            if case_id in wanted and rank < found.get(case_id, len(_FURTHEST_FIRST)):
                found[case_id] = rank
    return {i: _FURTHEST_FIRST[found[i]] if i in found else CaseStatus.OPEN for i in ids}


def derive(session: Session, case_id: int) -> CaseStatus:
    """Return the status the facts of the case give (not looking at its closed statuses).

    One statement: the five facts are EXISTS tests of one SELECT (a round trip each would cost more than all of
    them together; the furthest that holds wins)."""
    facts = session.execute(sa.select(*(sa.exists(q) for q in _facts([case_id])))).one()
    for holds, status in zip(facts, _FURTHEST_FIRST, strict=True):
        if holds:
            return status
    return CaseStatus.OPEN


def refresh(session: Session, case_ids: Iterable[int]) -> int:
    """Bring the status of each case up to date with its facts (closed cases stay closed); return how many moved.

    The cases the session has not loaded yet are loaded in one query (the dialogue's one case is loaded: no
    statement), and their statuses derived together (`derive_many`)."""
    ids = sorted(set(case_ids))
    cases: dict[int, Case] = {}
    for i in ids:
        loaded = session.identity_map.get(identity_key(Case, i))
        if isinstance(loaded, Case):
            cases[i] = loaded
    missing = [i for i in ids if i not in cases]
    for start in range(0, len(missing), DERIVE_CHUNK):
        chunk = missing[start : start + DERIVE_CHUNK]
        cases.update((c.id, c) for c in session.scalars(sa.select(Case).where(Case.id.in_(chunk))))
    open_cases = {i: c for i, c in cases.items() if c.status not in FINAL}
    moved = 0
    for case_id, status in derive_many(session, open_cases).items():
        case = open_cases[case_id]
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
