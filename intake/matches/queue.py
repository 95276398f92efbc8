"""Ask the matching worker for work, in the caller's transaction: a job exists exactly when its event committed.

The core calls these where a profile is stored, replaced or linked (`intake.labs.profiles`, `intake.labs.walkins`) and
where consent is withdrawn or data deleted (`intake.cases.erasure`); the worker (`matching.service`) takes the jobs.
A search of a profile is queued at most once at a time (a partial unique index), so asking twice is harmless.

    enqueue_search(session, profile_id, kind=JobKind.SEARCH) -> MatchJob | None
    enqueue_withdraw(session, *, profile_ids=(), case_ids=()) -> list[MatchJob]
    resolve_flag(session, flag_id, *, actor, note) -> MatchFlag
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import JobKind, JobState, MatchFlag, MatchJob, audit, utcnow
from intake.platform.errors import InputError, NotFoundError
from intake.platform.i18n import N_
from matching.search import FlagKind


def queued_search(session: Session, profile_id: str) -> MatchJob | None:
    """Return the search (or rematch) job of the profile that waits to be claimed, if any."""
    return session.scalars(
        sa.select(MatchJob).where(
            MatchJob.profile_id == profile_id,
            MatchJob.state == JobState.QUEUED,
            MatchJob.kind.in_((JobKind.SEARCH, JobKind.REMATCH)),
        )
    ).first()


def enqueue_search(session: Session, profile_id: str, kind: JobKind = JobKind.SEARCH) -> MatchJob | None:
    """Queue a search of the profile unless one already waits; return the new job, or None if one waited.

    A waiting rematch is turned into a search (a search also re-reads the profile into the index).
    """
    waiting = queued_search(session, profile_id)
    if waiting is None:
        try:
            with session.begin_nested():
                job = MatchJob(kind=kind, profile_id=profile_id, state=JobState.QUEUED)
                session.add(job)
            return job
        except IntegrityError:  # another transaction queued it between our look and our insert
            return None
    if kind is JobKind.SEARCH and waiting.kind is JobKind.REMATCH:
        waiting.kind = JobKind.SEARCH
    return None


def enqueue_withdraw(
    session: Session, *, profile_ids: Iterable[str] = (), case_ids: Iterable[int] = ()
) -> list[MatchJob]:
    """Queue the removal of these profiles and whole cases from the matching index and their open candidates."""
    jobs = [MatchJob(kind=JobKind.WITHDRAW, profile_id=p) for p in sorted(set(profile_ids))]
    jobs += [MatchJob(kind=JobKind.WITHDRAW, case_id=c) for c in sorted(set(case_ids))]
    session.add_all(jobs)
    session.flush()
    return jobs


def resolve_flag(session: Session, flag_id: int, *, actor: str, note: str) -> MatchFlag:
    """Mark a matching flag resolved (by whom, how) and audit it; a resolved sex mismatch is searched again.

    Resolving a sex mismatch means the lab or officer checked the sample and accepts the profile: it then enters
    the index with its recorded sex set aside. A wrong profile is fixed by the lab replacing it instead.
    """
    flag = session.get(MatchFlag, flag_id)
    if flag is None:
        raise NotFoundError(N_("There is no matching flag %(flag)s."), flag=flag_id)
    if flag.resolved_at is not None:
        raise InputError(N_("Flag %(flag)s was resolved already."), flag=flag_id)
    if not note.strip():
        raise InputError(N_("Say how the flag was resolved."))
    flag.resolved_at, flag.resolved_by, flag.resolution = utcnow(), actor, note.strip()[:200]
    audit(session, actor, "match_flag.resolve", "match_flag", flag.id, kind=flag.kind)
    if flag.kind == FlagKind.SEX_MISMATCH.value:
        for profile_id in flag.profile_ids.split(","):
            enqueue_search(session, profile_id)
    return flag
