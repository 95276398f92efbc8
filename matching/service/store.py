"""Write what a search found: candidates once per pair (a unique key), flags once per kind and profiles, and
the history rules (a trio supersedes the couple's duos, a family's new pedigree its earlier one, a replaced profile's candidates are superseded, a
withdrawn profile's open candidates are withdrawn). A candidate in the `candidate` band alerts the officers of its
cases' provinces in the same transaction (`matching.service.alerts`).

    store_result(session, result, versions, *, job_id, duration_ms) -> StoreCounts      one search (a job)
    store_results(session, [(result, duration_ms), ...], versions) -> StoreCounts    many (the re-match's batches)
    store_flags(session, flags) -> int
    supersede_replaced(session, profile_id) -> list[str]      withdraw_candidates(session, *, profile_ids, case_ids)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.models import (
    Candidate,
    CandidateStatus,
    Case,
    CaseStatus,
    DnaProfile,
    MatchFlag,
    MatchSearch,
    Sample,
    utcnow,
)
from matching.frequencies import FrequencyTable
from matching.joint_index import PEDIGREE, PedigreeComparison
from matching.search import Comparison, Flag, FlagKind, SearchResult
from matching.service.alerts import AlertLookups, alert_officers
from matching.service.identity import link_same_person
from matching.service.lineage import attach_lineage

TRIO = "trio_couple"
DUO = "duo"


@dataclass(frozen=True)
class Versions:
    """What a candidate was computed with: the frequency table (source and content digest) and the engine."""

    frequency_table: str
    engine: str

    @classmethod
    def of(cls, table: FrequencyTable) -> Versions:
        digest = hashlib.sha256()
        for marker, locus in sorted(table.loci.items()):
            digest.update(f"{marker}:{','.join(locus.alleles)}:{locus.frequencies.tobytes().hex()};".encode())
        name = (table.source or "table").rsplit("/", 1)[-1][:100]
        try:
            engine = f"reunite {version('reunite')}"
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            engine = "reunite"
        return cls(f"{name}@{digest.hexdigest()[:12]}", engine)


@dataclass(frozen=True)
class StoreCounts:
    candidates: int
    flags: int
    superseded: int


def join_ids(ids: Iterable[str]) -> str:
    """Return profile ids as the key string of candidates and flags: sorted, joined by ","."""
    return ",".join(sorted(ids))


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _evidence(comparison: Comparison) -> list[dict[str, Any]]:
    return [
        {
            "marker": e.marker,
            "genotypes": {who: list(g) if g is not None else None for who, g in e.genotypes.items()},
            "log10_lr": e.log10_lr if math.isfinite(e.log10_lr) else None,
            "inconsistent": e.inconsistent,
        }
        for e in comparison.evidence
    ]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def ineligible(session: Session, profile_ids: Collection[str]) -> set[str]:
    """Return those of `profile_ids` that may no longer be matched: replaced, erased, or of a withdrawn case."""
    if not profile_ids:
        return set()
    query = (
        sa.select(DnaProfile.id, DnaProfile.replaced_at, DnaProfile.digest, Case.status)
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .outerjoin(Case, Case.id == Sample.case_id)
        .where(DnaProfile.id.in_(profile_ids))
    )
    usable = {
        pid
        for pid, replaced_at, digest, status in session.execute(query)
        if replaced_at is None and digest and status is not None and status != CaseStatus.WITHDRAWN
    }
    return set(profile_ids) - usable


def store_candidate(session: Session, c: Comparison, versions: Versions) -> tuple[int, bool]:
    """Store one comparison as a candidate (an open one of the same key is updated); return (id, inserted)."""
    key = {"child_profile_id": c.child_profile_id, "family_profile_ids": join_ids(c.family_profile_ids),
           "relationship": c.relationship}  # fmt: skip
    values = {
        "child_case_id": c.child_case_id, "family_case_id": c.family_case_id, "log10_lr": _finite(c.log10_lr),
        "band": str(c.band), "inconsistent_markers": list(c.inconsistent_markers),
        "shared_markers": len(c.shared_markers), "skipped_markers": list(c.skipped_markers),
        "ask_for": c.ask_for, "evidence": _evidence(c), "frequency_table": versions.frequency_table,
        "engine_version": versions.engine, "compared": c.compared,
        "expected_unrelated": c.expected_unrelated if math.isfinite(c.expected_unrelated) else 0.0,
        "pedigree": list(c.pedigree) if isinstance(c, PedigreeComparison) else None,
    }  # fmt: skip
    same = sa.select(Candidate.id).where(*(getattr(Candidate, k) == v for k, v in key.items()))
    existing = session.scalar(same)
    if existing is None:
        insert = _insert(session)(Candidate).values(
            **key, **values, status=CandidateStatus.NEW.value, created_at=utcnow()
        )
        # A second worker storing the same pair at the same moment: the unique key keeps one row.
        row = session.execute(insert.on_conflict_do_nothing(index_elements=list(key)).returning(Candidate.id))
        new_id = row.scalar()
        if new_id is not None:
            return int(new_id), True
        existing = session.scalars(same).one()
    # The same pair found again (the other side's search, a rematch) updates an unreviewed row, never adds one.
    session.execute(
        sa.update(Candidate)
        .where(Candidate.id == existing, Candidate.status == CandidateStatus.NEW)
        .values(values)
    )
    return int(existing), False


def supersede_duos(session: Session, trio_id: int, c: Comparison) -> int:
    """Mark the open duo candidates of the trio's child with either parent as superseded by the trio."""
    result = session.execute(
        sa.update(Candidate)
        .where(
            Candidate.child_profile_id == c.child_profile_id,
            Candidate.relationship == DUO,
            Candidate.family_profile_ids.in_(list(c.family_profile_ids)),
            Candidate.status == CandidateStatus.NEW,
        )
        .values(status=CandidateStatus.SUPERSEDED, superseded_by_id=trio_id, status_changed_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def supersede_pedigrees(session: Session, pedigree_id: int, c: Comparison) -> int:
    """Mark the child's open candidates with an earlier pedigree of the same family case as superseded: a
    relative arrived or left, and the case's pedigree now has other members."""
    result = session.execute(
        sa.update(Candidate)
        .where(
            Candidate.child_profile_id == c.child_profile_id,
            Candidate.relationship == PEDIGREE,
            Candidate.family_case_id == c.family_case_id,
            Candidate.id != pedigree_id,
            Candidate.status == CandidateStatus.NEW,
        )
        .values(status=CandidateStatus.SUPERSEDED, superseded_by_id=pedigree_id, status_changed_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _involving(profile_ids: Collection[str]) -> sa.ColumnElement[bool]:
    clauses: list[sa.ColumnElement[bool]] = [Candidate.child_profile_id.in_(profile_ids)]
    clauses += [Candidate.family_profile_ids.contains(pid) for pid in profile_ids]
    return sa.or_(*clauses)


def supersede_replaced(session: Session, profile_id: str) -> list[str]:
    """Supersede the open candidates of the profiles `profile_id` replaced; return those old profile ids."""
    old: list[str] = []
    frontier = [profile_id]
    while frontier:  # a profile replaced twice: follow the chain back
        frontier = list(
            session.scalars(sa.select(DnaProfile.id).where(DnaProfile.replaced_by_id.in_(frontier)))
        )
        old += frontier
    if old:
        session.execute(
            sa.update(Candidate)
            .where(_involving(old), Candidate.status == CandidateStatus.NEW)
            .values(status=CandidateStatus.SUPERSEDED, status_changed_at=utcnow())
        )
    return old


def resolve_flags_of_replaced(session: Session, old_profile_ids: Collection[str]) -> int:
    """Resolve the open sex-mismatch flags of profiles the lab replaced (the new profile is checked afresh)."""
    if not old_profile_ids:
        return 0
    result = session.execute(
        sa.update(MatchFlag)
        .where(
            MatchFlag.kind == FlagKind.SEX_MISMATCH.value,
            MatchFlag.profile_ids.in_(list(old_profile_ids)),
            MatchFlag.resolved_at.is_(None),
        )
        .values(
            resolved_at=utcnow(), resolved_by="system:matching", resolution="the lab replaced the profile"
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def withdraw_candidates(
    session: Session, *, profile_ids: Collection[str] = (), case_ids: Collection[int] = ()
) -> int:
    """Mark the open candidates of these profiles and cases withdrawn; return how many."""
    where: list[sa.ColumnElement[bool]] = []
    if profile_ids:
        where.append(_involving(profile_ids))
    if case_ids:
        where += [Candidate.child_case_id.in_(case_ids), Candidate.family_case_id.in_(case_ids)]
    if not where:
        return 0
    result = session.execute(
        sa.update(Candidate)
        .where(sa.or_(*where), Candidate.status == CandidateStatus.NEW)
        .values(status=CandidateStatus.WITHDRAWN, status_changed_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _case_ids(session: Session, profile_ids: Collection[str]) -> list[int]:
    query = (
        sa.select(Sample.case_id)
        .join(DnaProfile, DnaProfile.sample_id == Sample.id)
        .where(DnaProfile.id.in_(profile_ids), Sample.case_id.is_not(None))
        .distinct()
    )
    return sorted(int(c) for c in session.scalars(query) if c is not None)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def store_flags(session: Session, flags: Iterable[Flag]) -> int:
    """Store each flag once per (kind, profiles); return how many are new.

    Counted by RETURNING, not by the cursor's rowcount: for INSERT ... ON CONFLICT DO NOTHING the DB-API
    rowcount is not reliable across drivers (-1 where the driver does not report it), and the re-match summaries
    add these counts up."""
    added, flags = 0, list(flags)
    for flag in flags:
        key = {"kind": str(flag.kind), "profile_ids": join_ids(flag.profile_ids)}
        insert = _insert(session)(MatchFlag).values(
            **key, case_ids=_case_ids(session, flag.profile_ids), detail=_jsonable(flag.detail),
            created_at=utcnow(),
        )  # fmt: skip
        inserted = session.execute(
            insert.on_conflict_do_nothing(index_elements=list(key)).returning(MatchFlag.id)
        )
        added += inserted.first() is not None
    link_same_person(session, flags)  # a person sampled twice: the two samples are linked as one person's
    return added


def _involved(results: Iterable[SearchResult]) -> set[str]:
    return {p for r in results for c in r.comparisons for p in (c.child_profile_id, *c.family_profile_ids)}


def _store_comparisons(
    session: Session,
    result: SearchResult,
    versions: Versions,
    dropped: AbstractSet[str],
    lookups: AlertLookups | None = None,
) -> tuple[int, int, list[int]]:
    """Store a search's candidates but those naming a `dropped` profile; return (added, superseded, ids)."""
    added = superseded = 0
    stored: list[int] = []
    for c in sorted(result.comparisons, key=lambda c: c.relationship != TRIO):  # duos after their trio
        if not dropped.isdisjoint((c.child_profile_id, *c.family_profile_ids)):
            continue
        if c.relationship == DUO and _has_open_trio(session, c):
            continue  # the couple's trio already speaks for this parent
        candidate_id, inserted = store_candidate(session, c, versions)
        added += inserted
        stored.append(candidate_id)
        alert_officers(session, candidate_id, lookups)  # commits (or rolls back) with the candidate
        if c.relationship == TRIO:
            superseded += supersede_duos(session, candidate_id, c)
        if c.relationship == PEDIGREE:
            superseded += supersede_pedigrees(session, candidate_id, c)
    return added, superseded, stored


def store_result(
    session: Session, result: SearchResult, versions: Versions, *, job_id: int | None, duration_ms: float
) -> StoreCounts:
    """Store a search's candidates (but none naming a profile no longer usable), its flags and its record."""
    added, superseded, stored = _store_comparisons(
        session, result, versions, ineligible(session, _involved([result]))
    )
    attach_lineage(session, stored)  # a boy's Y against his family's paternal line, where both are typed
    flags = store_flags(session, result.flags)
    session.add(
        MatchSearch(
            profile_id=result.profile_id,
            job_id=job_id,
            compared=result.compared,
            candidates=added,
            flags=flags,
            duration_ms=duration_ms,
        )  # fmt: skip
    )
    return StoreCounts(added, flags, superseded)


ELIGIBLE_CHUNK = 2000  # profile ids per eligibility query (well under SQLite's 32,766 bound parameters)


def store_results(
    session: Session,
    results: Iterable[tuple[SearchResult, float]],
    versions: Versions,
    *,
    job_id: int | None = None,
) -> StoreCounts:
    """Store many searches' (result, duration_ms) in the caller's transaction: the same rows as `store_result`
    for each in turn, with the per-search look-ups done once for all (the reason: at national scale the re-match's
    storing cost more CPU than its searches, see docs/matching.md).

    - eligibility (replaced, erased, withdrawn) of every profile the results name: one query per 2,000 profiles
      (storing never changes it, so the answer is the one each search would have had);
    - the officers' alerts: each case's provinces and reference, and each set of provinces' recipients, once;
    - a search without candidates or flags (about half of a re-match's children) costs no statement of its own:
      every search's `match_searches` row goes in one multi-row INSERT at the end, in the results' order;
    - the lineage evidence of every stored candidate is attached once at the end (the current Y haplotypes
      decrypted once per batch, not per search; a candidate stored twice gets the evidence of its last values,
      as the per-search path leaves it).
    Candidates (duos after their trio, superseding), officers' alerts and flags are stored per search, in order,
    exactly as `store_result` does. Returns the sums of the searches' counts."""
    results = list(results)
    involved = sorted(_involved(r for r, _ in results))
    dropped: set[str] = set()
    lookups = AlertLookups()
    for i in range(0, len(involved), ELIGIBLE_CHUNK):
        dropped |= ineligible(session, involved[i : i + ELIGIBLE_CHUNK])
    added = flags = superseded = 0
    stored: list[int] = []
    searches: list[dict[str, Any]] = []
    for result, duration_ms in results:
        one_added = one_flags = 0
        if result.comparisons:
            one_added, one_superseded, ids = _store_comparisons(session, result, versions, dropped, lookups)
            superseded += one_superseded
            stored += ids
        if result.flags:
            one_flags = store_flags(session, result.flags)
        added += one_added
        flags += one_flags
        searches.append(
            {"profile_id": result.profile_id, "job_id": job_id, "compared": result.compared,
             "candidates": one_added, "flags": one_flags, "duration_ms": duration_ms, "at": utcnow()}
        )  # fmt: skip
    attach_lineage(session, list(dict.fromkeys(stored)))
    if searches:
        session.execute(sa.insert(MatchSearch), searches)
    return StoreCounts(added, flags, superseded)


def _has_open_trio(session: Session, c: Comparison) -> bool:
    parent = c.family_profile_ids[0]
    query = sa.select(Candidate.id).where(
        Candidate.child_profile_id == c.child_profile_id,
        Candidate.relationship == TRIO,
        Candidate.family_profile_ids.contains(parent),
        Candidate.status == CandidateStatus.NEW,
    )
    return session.scalars(query).first() is not None
