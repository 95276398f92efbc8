"""Attach the Y-STR lineage evidence to stored candidates (issue 21): the matching worker's database side of
`matching.ystr.lineage`.

A lineage match alone is never a candidate: the worker calls `attach_lineage` for the candidates the autosomal
search stored, and each gets at most one `LineageEvidence` row, the boy's haplotype against the closest typed
paternal-line male of the family's case (fewest meioses, then most loci): the other males of the same line are
not independent evidence. The frequency of the boy's haplotype is counted among the current haplotypes of every
other case (each distinct haplotype of a case once, so a family's brothers are one line) and unlinked samples.
A Y haplotype stored later queues a search (`intake.labs.ystr_profiles`), which calls this again.

    attach_lineage(session, candidate_ids) -> int      the number of candidates with lineage evidence
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Candidate, DnaProfile, LineageEvidence, Person, Sample, YHaplotype, utcnow
from matching.ystr.haplotype import Haplotype
from matching.ystr.lineage import MEIOSES, Lineage, combined_log10_lr, lineage_lr

RATES = "YHRD via malan 1.0.4 (matching/ystr/data/CITATION.txt)"


@dataclass(frozen=True)
class _Typed:
    row_id: str
    case_key: str  # the case's id, or the sample's for a sample linked to no case
    haplotype: Haplotype


def _as_haplotype(stored: dict[str, list[str]]) -> Haplotype:
    return {locus: tuple(alleles) for locus, alleles in stored.items()}


def _current(session: Session) -> list[_Typed]:
    query = sa.select(YHaplotype, Sample.case_id, Sample.id).join(Sample, Sample.id == YHaplotype.sample_id)
    query = query.where(YHaplotype.replaced_at.is_(None))
    return [
        _Typed(row.id, f"case:{case_id}" if case_id is not None else f"sample:{sample_id}",
               _as_haplotype(row.haplotype))
        for row, case_id, sample_id in session.execute(query)
    ]  # fmt: skip


def _database(typed: list[_Typed], exclude: set[str]) -> list[Haplotype]:
    seen: set[tuple[str, str]] = set()
    out = []
    for t in typed:
        key = (t.case_key, repr(sorted(t.haplotype.items())))
        if t.case_key not in exclude and key not in seen:
            seen.add(key)
            out.append(t.haplotype)
    return out


def _children(session: Session, profile_ids: set[str]) -> dict[str, YHaplotype]:
    """Return the current Y haplotype of the sample of each of these profiles that has one (a query per 2,000
    profiles, not two per candidate: a re-match's batch looks its boys up at once)."""
    ids = sorted(profile_ids)
    found: dict[str, YHaplotype] = {}
    for start in range(0, len(ids), 2000):
        query = (
            sa.select(DnaProfile.id, YHaplotype)
            .join(YHaplotype, YHaplotype.sample_id == DnaProfile.sample_id)
            .where(DnaProfile.id.in_(ids[start : start + 2000]), YHaplotype.replaced_at.is_(None))
            .order_by(YHaplotype.id)
        )
        for profile_id, haplotype in session.execute(query):
            found.setdefault(profile_id, haplotype)
    return found


def _paternal_line(session: Session, case_id: int) -> tuple[YHaplotype, str, int] | None:
    """Return the family's closest typed paternal-line male: (haplotype, role, meioses), or None."""
    query = (
        sa.select(YHaplotype, Person.role)
        .join(Sample, Sample.id == YHaplotype.sample_id)
        .join(Person, Person.id == Sample.person_id)
        .where(Person.case_id == case_id, YHaplotype.replaced_at.is_(None))
    )
    found = [
        (row, str(role), MEIOSES[str(role)]) for row, role in session.execute(query) if str(role) in MEIOSES
    ]
    return min(found, key=lambda f: (f[2], -f[0].loci, f[0].id)) if found else None


def _evidence(result: Lineage) -> list[dict[str, object]]:
    return [
        {"locus": e.locus, "child": list(e.child), "relative": list(e.relative), "rate": e.rate,
         "probability": e.probability}
        for e in result.loci
    ]  # fmt: skip


def attach_lineage(session: Session, candidate_ids: Iterable[int]) -> int:
    """Compute and store (or refresh) the lineage evidence of each candidate whose boy and family have a Y."""
    typed: list[_Typed] | None = None
    attached = 0
    candidate_ids = list(candidate_ids)
    found: dict[int, Any] = {}
    for start in range(0, len(candidate_ids), 500):  # the columns read here, in one query per 500 (a batch's)
        query = sa.select(Candidate.id, Candidate.child_profile_id, Candidate.child_case_id, Candidate.family_case_id,
                          Candidate.log10_lr).where(Candidate.id.in_(candidate_ids[start : start + 500]))  # fmt: skip
        found.update((row.id, row) for row in session.execute(query))
    candidates = [(i, found.get(i)) for i in candidate_ids]
    boys = _children(session, {c.child_profile_id for _, c in candidates if c is not None})
    lines: dict[int, tuple[YHaplotype, str, int] | None] = {}  # per family case: a case has one paternal line
    for candidate_id, candidate in candidates:
        child = boys.get(candidate.child_profile_id) if candidate is not None else None
        if candidate is None or child is None:
            continue
        if candidate.family_case_id not in lines:
            lines[candidate.family_case_id] = _paternal_line(session, candidate.family_case_id)
        relative = lines[candidate.family_case_id]
        if relative is None:
            continue
        typed = _current(session) if typed is None else typed  # decrypted once per call (a search, a batch)
        row, role, meioses = relative
        exclude = {f"case:{candidate.child_case_id}", f"case:{candidate.family_case_id}"}
        result = lineage_lr(_as_haplotype(child.haplotype), _as_haplotype(row.haplotype), meioses,
                            _database(typed, exclude))  # fmt: skip
        values = {
            "child_haplotype_id": child.id, "relative_haplotype_id": row.id, "relative_role": role,
            "meioses": meioses, "loci_compared": len(result.loci), "log10_lr": result.log10_lr,
            "combined_log10_lr": combined_log10_lr(candidate.log10_lr, result.log10_lr),
            "matches": result.matches, "database": result.database, "frequency": result.frequency,
            "evidence": _evidence(result), "inconsistent_loci": result.inconsistent, "rates": RATES,
            "computed_at": utcnow(),
        }  # fmt: skip
        existing = session.scalars(
            sa.select(LineageEvidence).where(LineageEvidence.candidate_id == candidate_id)
        )
        current = existing.first()
        if current is None:
            session.add(LineageEvidence(candidate_id=candidate_id, **values))
        else:
            for key, value in values.items():
                setattr(current, key, value)
        attached += 1
    session.flush()
    return attached
