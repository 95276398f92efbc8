"""The matching worker: one in-memory `PedigreeIndex` (a `MatchIndex` with joint pedigrees) of every usable profile, fed by the `match_jobs` queue.

Start: the index is built from the database (`build_index`). Then, for each job: claim it (on PostgreSQL with
`SELECT ... FOR UPDATE SKIP LOCKED`, so two workers never take the same job; SQLite serialises writers and runs
one worker), bring the index up to date with every job any worker saw since (the jobs table is the log all
indexes follow), run it, and commit its candidates, flags and state together. A job whose worker died is taken
again when its lease ends; a job that fails is retried with backoff, then parked with its error, and the queue
goes on. Withdrawals are claimed first, so a withdrawn profile is out of the index before any later search.

    Worker(session_factory, table=None, settings=None, name=None).start(progress=False) -> BuildSummary
    worker.run_pending(limit=None) -> RunSummary        worker.run_forever(stop: threading.Event, poll=1.0)
    build_index(session, table, settings, progress=False, bulk=True) -> (PedigreeIndex, BuildSummary)
    enqueue_all(session) -> int
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from intake.matches.queue import queued_search
from intake.models import DnaProfile, JobKind, JobState, MatchJob, Sample, utcnow
from matching.frequencies import FrequencyTable
from matching.joint_index import PedigreeIndex
from matching.search import Entry, Flag, FlagKind, SearchSettings
from matching.search.block import Block
from matching.search.units import SIDES
from matching.service.bulk import blocks, release_free_memory
from matching.service.entries import entries, entry_for
from matching.service.store import (
    StoreCounts,
    Versions,
    resolve_flags_of_replaced,
    store_flags,
    store_result,
    supersede_replaced,
    withdraw_candidates,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 2.0  # doubled after every failed attempt: 2, 4, 8, 16 s
SYNC_WINDOW = 1_000  # job ids below the highest seen that may still commit late (concurrent transactions)


@dataclass
class BuildSummary:
    """What the index holds after it was built from the database."""

    indexed: Counter[str] = field(default_factory=Counter)  # per side
    held_out: int = 0  # sex conflicts waiting for a lab or officer
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.indexed.values())


@dataclass
class RunSummary:
    """What `run_pending` did."""

    jobs: Counter[str] = field(default_factory=Counter)  # "search", "withdraw", "rematch", "failed", "parked"
    candidates: int = 0
    flags: int = 0
    superseded: int = 0

    def add(self, other: RunSummary) -> None:
        """Add another run's counts to these."""
        self.jobs.update(other.jobs)
        self.candidates += other.candidates
        self.flags += other.flags
        self.superseded += other.superseded


def _counted(stream: Iterable[Entry], counts: Counter[str], tick: Callable[[], None]) -> Iterator[Entry]:
    for entry in stream:
        counts[str(entry.side)] += 1
        tick()
        yield entry


def _counted_blocks(
    stream: Iterable[Block], counts: Counter[str], tick: Callable[[int], None]
) -> Iterator[Block]:
    for block in stream:
        sides, n = np.unique(block.sides, return_counts=True)
        counts.update({str(SIDES[s]): c for s, c in zip(sides.tolist(), n.tolist(), strict=True)})
        tick(len(block))
        yield block


def build_index(
    session: Session, table: FrequencyTable, settings: SearchSettings, *, progress: bool = False,
    bulk: bool = True,
) -> tuple[PedigreeIndex, BuildSummary]:  # fmt: skip
    """Build the index of every usable current profile from the database, streamed (sex conflicts held out).

    `bulk` (the default): read in blocks of code columns (`matching.service.bulk`: COPY on PostgreSQL); else one
    `Entry` per profile (`entries()`), the same index more slowly. With `progress`, a rich progress bar counts
    the profiles read; the summary says how many are on each side.
    """
    started = time.perf_counter()
    index = PedigreeIndex(table, settings)
    summary = BuildSummary()
    seen: Counter[str] = Counter()
    with contextlib.ExitStack() as stack:
        tick: Callable[[int], None] = lambda n: None  # noqa: E731
        if progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            current = sa.select(sa.func.count()).where(DnaProfile.replaced_at.is_(None))
            bar = stack.enter_context(
                Progress(TextColumn("indexing profiles"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         transient=True)
            )  # fmt: skip
            task = bar.add_task("index", total=session.scalar(current) or None)
            tick = functools.partial(bar.advance, task)
        if bulk:
            flags: list[Flag] = []
            index.add_blocks(_counted_blocks(blocks(session, index.encoder, flags=flags), seen, tick))
            summary.indexed = seen
            summary.held_out = sum(1 for f in flags if f.kind == FlagKind.SEX_MISMATCH)
        else:
            flags = index.add_many(_counted(entries(session), seen, lambda: tick(1)))
            held = Counter(
                str(e.side)
                for f in flags
                if f.kind == FlagKind.SEX_MISMATCH
                for e in _entries_of(session, f.profile_ids)
            )
            summary.indexed = seen - held
            summary.held_out = sum(held.values())
    release_free_memory()  # the build's temporaries are freed: hand their pages back (glibc keeps them)
    summary.seconds = time.perf_counter() - started
    return index, summary


def _entries_of(session: Session, profile_ids: Iterable[str]) -> Iterator[Entry]:
    return entries(session, list(profile_ids))


def enqueue_all(session: Session) -> int:
    """Queue a rematch of every current linked profile that has no search waiting; return how many were queued.

    One statement; the partial unique index of waiting searches skips a profile whose search is already queued,
    so a profile stored meanwhile is searched once, by its own job.
    """
    waiting = (
        sa.select(MatchJob.id)
        .where(
            MatchJob.profile_id == DnaProfile.id,
            MatchJob.state == JobState.QUEUED,
            MatchJob.kind.in_((JobKind.SEARCH, JobKind.REMATCH)),
        )
        .exists()
    )
    now = utcnow()
    rows = (
        sa.select(
            sa.literal(JobKind.REMATCH.value),
            DnaProfile.id,
            sa.literal(JobState.QUEUED.value),
            sa.literal(0),
            sa.literal(now, type_=MatchJob.__table__.c.created_at.type),
        )  # fmt: skip
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .where(DnaProfile.replaced_at.is_(None), Sample.person_id.is_not(None), ~waiting)
        .order_by(DnaProfile.created_at, DnaProfile.id)
    )
    insert_of = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert_of(MatchJob).from_select(
        ["kind", "profile_id", "state", "attempts", "created_at"], rows
    )
    statement = statement.on_conflict_do_nothing(
        index_elements=["profile_id"],
        index_where=sa.text("state = 'queued' AND kind IN ('search', 'rematch')"),
    )
    return len(session.execute(statement.returning(MatchJob.id)).all())


class Worker:
    """One matching worker process: its index, and the jobs it claims."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        table: FrequencyTable | None = None,
        settings: SearchSettings | None = None,
        *,
        name: str | None = None,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.session_factory = session_factory
        self.table = table or FrequencyTable.default()
        self.settings = settings or SearchSettings()
        self.versions = Versions.of(self.table)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease, self.max_attempts = lease, max_attempts
        self.index = PedigreeIndex(self.table, self.settings)
        self._seen: set[int] = set()
        self._floor = 0  # every job id at or below this was applied to the index

    def start(self, *, progress: bool = False) -> BuildSummary:
        """Build the index from the database; jobs queued before are applied to it when they are run."""
        with self.session_factory() as session:
            # Read the log position first: a job written during the build is applied again (harmless).
            self._floor = max(0, (session.scalar(sa.select(sa.func.max(MatchJob.id))) or 0) - SYNC_WINDOW)
            self.index, summary = build_index(session, self.table, self.settings, progress=progress)
        return summary

    # -- the queue -------------------------------------------------------------------------------------------
    def _claimable(self, withdrawals: bool) -> sa.Select[Any]:
        now = utcnow()
        kind = MatchJob.kind == JobKind.WITHDRAW if withdrawals else MatchJob.kind != JobKind.WITHDRAW
        query = (
            sa.select(MatchJob)
            .where(
                kind,
                sa.or_(
                    sa.and_(
                        MatchJob.state == JobState.QUEUED,
                        sa.or_(MatchJob.not_before.is_(None), MatchJob.not_before <= now),
                    ),
                    sa.and_(MatchJob.state == JobState.RUNNING, MatchJob.lease_until < now),
                ),
            )
            .order_by(MatchJob.id)
            .limit(1)
        )
        return query.with_for_update(skip_locked=True)  # SQLite ignores it: BEGIN IMMEDIATE serialises

    def claim(self) -> MatchJob | None:
        """Take the next job (withdrawals first) for this worker's lease, in its own committed transaction.

        A job whose lease ran out `max_attempts` times (its worker died on it each time) is parked, not run.
        """
        with self.session_factory() as session, session.begin():
            while True:
                job: MatchJob | None = session.scalars(self._claimable(True)).first()
                job = job or session.scalars(self._claimable(False)).first()
                if job is None:
                    return None
                now = utcnow()
                if job.attempts < self.max_attempts:
                    break
                job.state, job.finished_at = JobState.PARKED, now
                job.last_error = job.last_error or "its worker stopped every time it ran (the lease expired)"
                session.flush()
            job.state, job.claimed_by, job.claimed_at = JobState.RUNNING, self.name, now
            job.lease_until, job.attempts = now + self.lease, job.attempts + 1
            session.flush()
            session.expunge(job)
            return job

    def run_pending(self, limit: int | None = None, stop: threading.Event | None = None) -> RunSummary:
        """Run queued jobs until none is claimable, `limit` were run or `stop` is set; return what was done."""
        summary = RunSummary()
        while (limit is None or sum(summary.jobs.values()) < limit) and not (stop and stop.is_set()):
            job = self.claim()
            if job is None:
                break
            self.run(job, summary)
        return summary

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> RunSummary:
        """Run jobs as they come until `stop` is set (SIGTERM/SIGINT); finish the job in hand first."""
        total = RunSummary()
        while not stop.is_set():
            summary = self.run_pending(limit=100, stop=stop)
            total.add(summary)
            if not summary.jobs:
                stop.wait(poll)
        return total

    def run(self, job: MatchJob, summary: RunSummary) -> None:
        """Run one claimed job; on failure record the error and retry later, or park it."""
        self._seen.add(job.id)  # applied to the index by the job itself, below
        try:
            with self.session_factory() as session, session.begin():
                self.sync(session)
                counts = self._do(session, job)
                session.execute(
                    sa.update(MatchJob)
                    .where(MatchJob.id == job.id)
                    .values(state=JobState.DONE, finished_at=utcnow(), lease_until=None, last_error=None)
                )
        except Exception as exc:  # noqa: BLE001 - any failure of one job must not stop the queue
            log.exception("match job %s (%s %s) failed", job.id, job.kind, job.profile_id or job.case_id)
            self._failed(job, f"{type(exc).__name__}: {exc}"[:2000], summary)
            self._seen.discard(job.id)  # the profile's entry is read again when the job is retried
            return
        summary.jobs[str(job.kind)] += 1
        summary.candidates += counts.candidates
        summary.flags += counts.flags
        summary.superseded += counts.superseded

    def _failed(self, job: MatchJob, error: str, summary: RunSummary) -> None:
        with self.session_factory() as session, session.begin():
            row = session.get_one(MatchJob, job.id)
            row.last_error, row.lease_until, row.claimed_by = error, None, None
            if row.attempts >= self.max_attempts:
                row.state, row.finished_at = JobState.PARKED, utcnow()
                summary.jobs["parked"] += 1
                return
            summary.jobs["failed"] += 1
            if row.kind is not JobKind.WITHDRAW and row.profile_id and queued_search(session, row.profile_id):
                row.state, row.finished_at = JobState.DONE, utcnow()  # a newer search of it waits already
                row.last_error = f"{error} (a newer search of the profile was queued)"
                return
            row.state = JobState.QUEUED
            row.not_before = utcnow() + timedelta(seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))

    # -- the index follows the log ------------------------------------------------------------------------------
    def sync(self, session: Session) -> None:
        """Apply to the index every search and withdraw job written since the last sync, by any worker."""
        query = (
            sa.select(MatchJob.id, MatchJob.kind, MatchJob.profile_id, MatchJob.case_id)
            .where(MatchJob.id > self._floor, MatchJob.kind != JobKind.REMATCH)
            .order_by(MatchJob.id)
        )
        for job_id, kind, profile_id, case_id in session.execute(query):
            if job_id in self._seen:
                continue
            self._seen.add(job_id)
            if kind is JobKind.WITHDRAW:
                self._remove(profile_id, case_id)
            elif profile_id is not None:
                self._refresh(session, profile_id)
        top = max(self._seen, default=self._floor)
        self._floor = max(self._floor, top - SYNC_WINDOW)
        self._seen = {i for i in self._seen if i > self._floor}

    def _remove(self, profile_id: str | None, case_id: int | None) -> None:
        if profile_id is not None:
            self.index.remove(profile_id)
        if case_id is not None:
            self.index.remove_case(case_id)

    def _refresh(self, session: Session, profile_id: str) -> list[Flag]:
        """Put the profile's current entry in the index (or take it out if it may not be used); return flags."""
        for old in session.scalars(sa.select(DnaProfile.id).where(DnaProfile.replaced_by_id == profile_id)):
            self.index.remove(old)
        entry = entry_for(session, profile_id)
        if entry is None:
            self.index.remove(profile_id)
            return []
        return list(self.index.add(entry))

    # -- the work ------------------------------------------------------------------------------------------------
    def _do(self, session: Session, job: MatchJob) -> StoreCounts:
        if job.kind is JobKind.WITHDRAW:
            self._remove(job.profile_id, job.case_id)
            withdrawn = withdraw_candidates(
                session,
                profile_ids=[job.profile_id] if job.profile_id else [],
                case_ids=[job.case_id] if job.case_id is not None else [],
            )
            return StoreCounts(0, 0, withdrawn)
        assert job.profile_id is not None
        flags: list[Flag] = []
        if job.kind is JobKind.SEARCH:
            flags = self._refresh(session, job.profile_id)
            resolve_flags_of_replaced(session, supersede_replaced(session, job.profile_id))
        held = store_flags(session, flags)
        if job.profile_id not in self.index:  # unusable (no consent, withdrawn, unlinked) or held out
            return StoreCounts(0, held, 0)
        started = time.perf_counter()
        result = self.index.search(job.profile_id)
        duration_ms = (time.perf_counter() - started) * 1000
        counts = store_result(session, result, self.versions, job_id=job.id, duration_ms=duration_ms)
        return StoreCounts(counts.candidates, counts.flags + held, counts.superseded)
