"""The matching service's tables: its job queue, the candidates it found, the flags it raised, its searches.

Jobs are written in the transaction of the event that needs them (`intake.matches.queue`), so a stored profile is
never left unsearched and a rolled-back one leaves no job. Candidates carry their per-marker genetic evidence,
which is personal data (erased with the case, `intake.cases.erasure`); everything else is ids, numbers and marker names.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import (
    NOT_PERSONAL,
    EncryptedJSON,
    TZDateTime,
    enum_column,
    foreign_key,
    personal,
    utcnow,
)
from intake.platform.db import Base


class JobKind(enum.StrEnum):
    """What a match job asks of the worker."""

    SEARCH = "search"  # a profile was stored, replaced or linked: (re)index it and search it
    WITHDRAW = (
        "withdraw"  # consent withdrawn or data deleted: out of the index, its open candidates withdrawn
    )
    REMATCH = "rematch"  # `reunite match --all`: search an indexed profile again (new table, new engine)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # claimed by a worker until `lease_until`; after that another worker may take it
    DONE = "done"
    PARKED = "parked"  # failed `MAX_ATTEMPTS` times: kept with its error for an operator, the queue goes on


class CandidateStatus(enum.StrEnum):
    NEW = "new"  # found, not yet reviewed by an officer
    SUPERSEDED = "superseded"  # a trio replaced the duo, or a replaced profile's old result: kept as history
    WITHDRAWN = "withdrawn"  # a profile in it was withdrawn (consent withdrawn, data deleted)


# A search or rematch job of a profile is queued at most once: a second request while one waits is the same work.
_ONE_QUEUED_SEARCH = "state = 'queued' AND kind IN ('search', 'rematch')"


class MatchJob(Base):
    """One unit of work for the matching worker; kept after it is done, as the log every worker's index follows."""

    __tablename__ = "match_jobs"
    __table_args__ = (
        Index(
            "uq_match_jobs_one_queued_search",
            "profile_id",
            unique=True,
            sqlite_where=text(_ONE_QUEUED_SEARCH),
            postgresql_where=text(_ONE_QUEUED_SEARCH),
        ),
        Index("ix_match_jobs_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind), info=NOT_PERSONAL)
    profile_id: Mapped[str | None] = mapped_column(String(32), index=True, info=NOT_PERSONAL)
    case_id: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)  # withdraw: the whole case
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED, info=NOT_PERSONAL)
    attempts: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    not_before: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)  # retry backoff
    claimed_by: Mapped[str | None] = mapped_column(String(120), info=NOT_PERSONAL)  # host:pid of the worker
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    lease_until: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    last_error: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)  # exception text, no genotypes
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)


class Candidate(Base):
    """A child and a family (or relative) whose combined LR reached a reviewable band, with its evidence.

    Stored once per (child profile, family profiles, relationship): a search run again finds the row already
    there. `family_profile_ids` is the sorted profile ids joined by ",".
    """

    __tablename__ = "match_candidates"
    __table_args__ = (
        UniqueConstraint(
            "child_profile_id", "family_profile_ids", "relationship", name="uq_match_candidates_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    relationship: Mapped[str] = mapped_column(String(24), info=NOT_PERSONAL)
    child_profile_id: Mapped[str] = foreign_key("profiles.id", "CASCADE", index=True)
    # A joint pedigree names every typed member of its case: up to about 30 profile ids.
    family_profile_ids: Mapped[str] = mapped_column(String(1000), index=True, info=NOT_PERSONAL)
    # Who was typed in the joint pedigree a `pedigree` candidate was computed on (roles, one per person, e.g.
    # ["mother", "paternal_grandfather", "paternal_grandmother"]); None for a trio, duo or pairwise candidate.
    pedigree: Mapped[list[str] | None] = mapped_column(JSON, default=None, info=NOT_PERSONAL)
    child_case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", index=True)
    family_case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", index=True)
    log10_lr: Mapped[float | None] = mapped_column(Float, info=NOT_PERSONAL)  # None: LR 0 (an exclusion)
    band: Mapped[str] = mapped_column(String(24), index=True, info=NOT_PERSONAL)
    inconsistent_markers: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    shared_markers: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    skipped_markers: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    ask_for: Mapped[str | None] = mapped_column(String(200), info=NOT_PERSONAL)
    # Genotypes of both sides and the per-marker LRs: genetic data of the persons, erased with their case.
    # Encrypted at rest like the profiles' genotypes (intake.platform.crypto).
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(
        EncryptedJSON("match_candidates.evidence"), default=list, info=personal([])
    )
    frequency_table: Mapped[str] = mapped_column(String(120), info=NOT_PERSONAL)  # source and digest
    engine_version: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    compared: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)  # the database size of the search
    expected_unrelated: Mapped[float] = mapped_column(Float, default=0.0, info=NOT_PERSONAL)
    status: Mapped[CandidateStatus] = mapped_column(
        enum_column(CandidateStatus), default=CandidateStatus.NEW, index=True, info=NOT_PERSONAL
    )
    superseded_by_id: Mapped[int | None] = foreign_key("match_candidates.id", "SET NULL")
    status_changed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)


class MatchFlag(Base):
    """Something a search found that an officer or a lab must look at (sex mix-up, a person sampled twice...).

    Raised once per (kind, profiles); a sex-mismatch profile stays out of the index until its flag is resolved.
    """

    __tablename__ = "match_flags"
    __table_args__ = (UniqueConstraint("kind", "profile_ids"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    kind: Mapped[str] = mapped_column(String(32), index=True, info=NOT_PERSONAL)
    profile_ids: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)  # sorted, joined by ","
    case_ids: Mapped[list[int]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    # What the engine said (may name genotypes, e.g. the Amelogenin typed): erased with the case.
    detail: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("match_flags.detail"), default=dict, info=personal({})
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    resolved_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    resolved_by: Mapped[str | None] = mapped_column(String(120), info=NOT_PERSONAL)  # pseudonymous actor
    resolution: Mapped[str | None] = mapped_column(String(200), info=NOT_PERSONAL)


class MatchSearch(Base):
    """One search the worker ran: which profile, against how many, how long it took, what it stored."""

    __tablename__ = "match_searches"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    profile_id: Mapped[str] = mapped_column(String(32), index=True, info=NOT_PERSONAL)
    job_id: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    compared: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    candidates: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)  # rows this search added
    flags: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    duration_ms: Mapped[float] = mapped_column(Float, info=NOT_PERSONAL)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True, info=NOT_PERSONAL)
