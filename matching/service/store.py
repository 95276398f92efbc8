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
from typing import Any, cast

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
from matching.service.alerts import AlertLookups, StoredCandidate, alert_officers, alert_stored, alerts
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


def _key(c: Comparison) -> dict[str, Any]:
    """A candidate's pair key (unique): the child, the family's profiles, the relationship."""
    return {"child_profile_id": c.child_profile_id, "family_profile_ids": join_ids(c.family_profile_ids),
            "relationship": c.relationship}  # fmt: skip


def _values(c: Comparison, versions: Versions) -> dict[str, Any]:
    """What storing a comparison writes into its candidate (inserted, or an open one of the same key updated)."""
    return {
        "child_case_id": c.child_case_id, "family_case_id": c.family_case_id, "log10_lr": _finite(c.log10_lr),
        "band": str(c.band), "inconsistent_markers": list(c.inconsistent_markers),
        "shared_markers": len(c.shared_markers), "skipped_markers": list(c.skipped_markers),
        "ask_for": c.ask_for, "evidence": _evidence(c), "frequency_table": versions.frequency_table,
        "engine_version": versions.engine, "compared": c.compared,
        "expected_unrelated": c.expected_unrelated if math.isfinite(c.expected_unrelated) else 0.0,
        "pedigree": list(c.pedigree) if isinstance(c, PedigreeComparison) else None,
    }  # fmt: skip


def store_candidate(session: Session, c: Comparison, versions: Versions) -> tuple[int, bool]:
    """Store one comparison as a candidate (an open one of the same key is updated); return (id, inserted)."""
    key, values = _key(c), _values(c, versions)
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
        alert_officers(session, candidate_id)  # commits (or rolls back) with the candidate
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
CHUNK = 500  # ids per IN list of a batch's look-ups


@dataclass
class _Row:
    """A candidate as a batch's storing leaves it: read at the start or inserted by the batch (`id` negative
    until it is inserted), with what the batch changed."""

    id: int
    key: tuple[str, str, str]
    child_case_id: int
    family_case_id: int
    band: str
    status: CandidateStatus
    comparison: Comparison | None = None  # the last comparison stored into it while it was open
    values: dict[str, Any] | None = None  # ...and the values it wrote
    superseded_by: _Row | None = None


class _BatchCandidates:
    """The candidates of a batch's children, read once, and what `_store_comparisons` would do to them search by
    search, done in memory (the upsert on the pair key, a duo's check for its couple's open trio, a trio
    superseding the couple's duos and a pedigree the family's earlier one), then written with a few statements
    (`write`): the re-match's batches stored some ten statements per candidate before (docs/matching.md)."""

    def __init__(self, session: Session, children: Collection[str]) -> None:
        self.rows: dict[tuple[str, str, str], _Row] = {}
        self.of_child: dict[str, list[_Row]] = {}
        self.inserted: list[_Row] = []
        self.superseded: list[_Row] = []
        columns = (Candidate.id, Candidate.child_profile_id, Candidate.family_profile_ids, Candidate.relationship,
                   Candidate.child_case_id, Candidate.family_case_id, Candidate.band, Candidate.status)  # fmt: skip
        ordered = sorted(children)
        for i in range(0, len(ordered), CHUNK):
            query = sa.select(*columns).where(Candidate.child_profile_id.in_(ordered[i : i + CHUNK]))
            for row_id, child, family, relationship, child_case, family_case, band, status in session.execute(
                query
            ):
                self._add(_Row(row_id, (child, family, relationship), child_case, family_case, band, status))

    def _add(self, row: _Row) -> None:
        self.rows[row.key] = row
        self.of_child.setdefault(row.key[0], []).append(row)

    def _open(self, child: str, relationship: str) -> list[_Row]:
        return [
            r
            for r in self.of_child.get(child, ())
            if r.key[2] == relationship and r.status is CandidateStatus.NEW
        ]

    def has_open_trio(self, c: Comparison) -> bool:
        """`_has_open_trio`: an open trio of the child whose profiles name the duo's parent (as SQL's LIKE)."""
        return any(c.family_profile_ids[0] in r.key[1] for r in self._open(c.child_profile_id, TRIO))

    def store(self, c: Comparison, versions: Versions) -> tuple[_Row, bool]:
        """`store_candidate`: return the row and whether it is new."""
        key = (c.child_profile_id, join_ids(c.family_profile_ids), c.relationship)
        row = self.rows.get(key)
        inserted = row is None
        if row is None:
            row = _Row(
                -1 - len(self.inserted),
                key,
                c.child_case_id,
                c.family_case_id,
                str(c.band),
                CandidateStatus.NEW,
            )
            self._add(row)
            self.inserted.append(row)
        if (
            row.status is CandidateStatus.NEW
        ):  # an unreviewed row takes the new values, a reviewed one keeps its own
            row.comparison, row.values = c, _values(c, versions)
            row.child_case_id, row.family_case_id, row.band = c.child_case_id, c.family_case_id, str(c.band)
        return row, inserted

    def _supersede(self, rows: Iterable[_Row], by: _Row) -> int:
        rows = list(rows)
        for row in rows:
            row.status, row.superseded_by = CandidateStatus.SUPERSEDED, by
        self.superseded += rows
        return len(rows)

    def supersede_duos(self, trio: _Row, c: Comparison) -> int:
        parents = set(c.family_profile_ids)
        return self._supersede((r for r in self._open(c.child_profile_id, DUO) if r.key[1] in parents), trio)

    def supersede_pedigrees(self, pedigree: _Row, c: Comparison) -> int:
        rows = self._open(c.child_profile_id, PEDIGREE)
        return self._supersede(
            (r for r in rows if r.family_case_id == c.family_case_id and r is not pedigree), pedigree
        )

    def write(self, session: Session, versions: Versions) -> None:
        """Write what the batch did: the open rows read at the start that it stored into, in one executemany
        UPDATE; its new rows in one INSERT (ids matched by pair key); then the superseded rows in one UPDATE."""
        table = cast(sa.Table, Candidate.__table__)
        updated = [r for r in self.rows.values() if r.id > 0 and r.values is not None]
        if updated:
            names = list(updated[0].values or {})
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"), table.c.status == CandidateStatus.NEW)
                .values({n: sa.bindparam(f"v_{n}") for n in names})
            )
            session.execute(statement, [{"row_id": r.id, **{f"v_{n}": v for n, v in (r.values or {}).items()}}
                                        for r in updated])  # fmt: skip
        if self.inserted:
            self._insert(session, versions)
        if self.superseded:
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"), table.c.status == CandidateStatus.NEW)
                .values(
                    status=CandidateStatus.SUPERSEDED,
                    superseded_by_id=sa.bindparam("by_id"),
                    status_changed_at=utcnow(),
                )  # fmt: skip
            )
            session.execute(statement, [{"row_id": r.id, "by_id": r.superseded_by.id if r.superseded_by else None}
                                        for r in self.superseded])  # fmt: skip

    def _insert(self, session: Session, versions: Versions) -> None:
        now = utcnow()
        rows = [{"child_profile_id": r.key[0], "family_profile_ids": r.key[1], "relationship": r.key[2],
                 **(r.values or {}), "status": CandidateStatus.NEW.value, "created_at": now}
                for r in self.inserted]  # fmt: skip
        keys = ["child_profile_id", "family_profile_ids", "relationship"]
        table = cast(sa.Table, Candidate.__table__)
        # One statement for all (executemany: SQLAlchemy sends the rows as multi-row VALUES, compiled once). A
        # worker storing the same pair meanwhile: the unique key keeps its row, stored into below.
        insert = _insert(session)(table).on_conflict_do_nothing(index_elements=keys)
        returned = session.execute(insert.returning(table.c.id, *(table.c[k] for k in keys)), rows)
        ids = {(child, family, rel): int(row_id) for row_id, child, family, rel in returned}
        for row in self.inserted:
            if row.key in ids:
                row.id = ids[row.key]
            elif row.comparison is not None:
                row.id = store_candidate(session, row.comparison, versions)[0]


def _store_batch_comparisons(
    session: Session,
    result: SearchResult,
    versions: Versions,
    dropped: AbstractSet[str],
    batch: _BatchCandidates,
) -> tuple[int, int, list[tuple[_Row, str, CandidateStatus, int, int]]]:
    """`_store_comparisons` on the batch's rows in memory: return (added, superseded, what each stored candidate
    looked like just after it was stored: row, band, status, cases, for its alert)."""
    added = superseded = 0
    stored: list[tuple[_Row, str, CandidateStatus, int, int]] = []
    for c in sorted(result.comparisons, key=lambda c: c.relationship != TRIO):  # duos after their trio
        if not dropped.isdisjoint((c.child_profile_id, *c.family_profile_ids)):
            continue
        if c.relationship == DUO and batch.has_open_trio(c):
            continue  # the couple's trio already speaks for this parent
        row, inserted = batch.store(c, versions)
        added += inserted
        stored.append((row, row.band, row.status, row.child_case_id, row.family_case_id))
        if c.relationship == TRIO:
            superseded += batch.supersede_duos(row, c)
        if c.relationship == PEDIGREE:
            superseded += batch.supersede_pedigrees(row, c)
    return added, superseded, stored


def store_results(
    session: Session,
    results: Iterable[tuple[SearchResult, float]],
    versions: Versions,
    *,
    job_id: int | None = None,
) -> StoreCounts:
    """Store many searches' (result, duration_ms) in the caller's transaction: the same rows as `store_result`
    for each in turn, with the per-search look-ups and writes done once for all (the reason: at national scale
    the re-match's storing cost more CPU than its searches, see docs/matching.md).

    - eligibility (replaced, erased, withdrawn) of every profile the results name: one query per 2,000 profiles
      (storing never changes it, so the answer is the one each search would have had);
    - the candidates: those of the results' children are read once (`_BatchCandidates`); each search's
      comparisons are stored into them in memory, in order, as `store_result` stores them (the upsert on the pair
      key, duos after their trio and skipped under an open one, a trio superseding the couple's open duos, a
      pedigree the family's earlier one); then the updated rows in one UPDATE, the new ones in one INSERT and
      the superseded ones in one UPDATE;
    - the officers' alerts, in the searches' order, from what each candidate looked like once stored: each
      case's provinces and reference, and each set of provinces' recipients, looked up once;
    - a search without candidates or flags (about half of a re-match's children) costs no statement of its own:
      every search's `match_searches` row goes in one multi-row INSERT at the end, in the results' order;
    - the lineage evidence of every stored candidate is attached once at the end (the candidates read in one
      query, the current Y haplotypes decrypted once per batch; a candidate stored twice gets the evidence of its
      last values, as the per-search path leaves it).
    Flags are stored per search, in order, exactly as `store_result` does. Returns the sums of the searches'
    counts."""
    results = list(results)
    involved = sorted(_involved(r for r, _ in results))
    dropped: set[str] = set()
    for i in range(0, len(involved), ELIGIBLE_CHUNK):
        dropped |= ineligible(session, involved[i : i + ELIGIBLE_CHUNK])
    batch = _BatchCandidates(session, {c.child_profile_id for r, _ in results for c in r.comparisons})
    added = flags = superseded = 0
    stored: list[tuple[_Row, str, CandidateStatus, int, int]] = []
    searches: list[dict[str, Any]] = []
    for result, duration_ms in results:
        one_added = one_flags = 0
        if result.comparisons:
            one_added, one_superseded, rows = _store_batch_comparisons(
                session, result, versions, dropped, batch
            )
            superseded += one_superseded
            stored += rows
        if result.flags:
            one_flags = store_flags(session, result.flags)
        added += one_added
        flags += one_flags
        searches.append(
            {"profile_id": result.profile_id, "job_id": job_id, "compared": result.compared,
             "candidates": one_added, "flags": one_flags, "duration_ms": duration_ms, "at": utcnow()}
        )  # fmt: skip
    batch.write(session, versions)
    lookups = AlertLookups()  # the alerting candidates' cases looked up together (mostly distinct cases)
    lookups.cases(session, [i for _, band, status, *cases in stored if alerts(band, status) for i in cases])
    for row, band, status, child_case, family_case in stored:
        alert_stored(session, StoredCandidate(row.id, band, status, child_case, family_case), lookups)
    attach_lineage(session, list(dict.fromkeys(row.id for row, *_ in stored)))
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
