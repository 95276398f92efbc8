"""The Y-STR lineage evidence on the candidate page: the boy's and the paternal-line relative's alleles per Y
locus, the locus's mutation rate and P(boy | relative), the haplotype's count in the database and its bound,
the lineage LR and the combined LR. Reading it is a read of genetic data: audited (`lineage.view`).

    lineage_of(session, actor, candidate) -> LineageView | None
    rank_lr() -> SQL expression          the LR the review queue sorts by: the combined one where there is one
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Candidate, LineageEvidence, audit
from intake.platform.i18n import N_

# In the lineage, a relative is a man of the boy's paternal line: the words say so in both languages.
RELATIVES = {
    "father": N_("father"), "full_sibling": N_("brother"), "sibling": N_("brother"),
    "paternal_half_sibling": N_("paternal half-brother"), "paternal_grandfather": N_("paternal grandfather"),
    "paternal_aunt_uncle": N_("paternal uncle"),
}  # fmt: skip


@dataclass(frozen=True)
class LocusRow:
    locus: str
    child: str
    relative: str
    rate: float
    probability: float


@dataclass(frozen=True)
class LineageView:
    evidence: LineageEvidence
    relative: str  # a msgid
    rows: list[LocusRow]


def _alleles(values: Any) -> str:
    return "/".join(str(v) for v in values or ()) or "–"


def lineage_of(session: Session, actor: str, candidate: Candidate) -> LineageView | None:
    """Return the candidate's lineage evidence for the page (auditing the read), or None when it has none."""
    row = session.scalars(
        sa.select(LineageEvidence).where(LineageEvidence.candidate_id == candidate.id)
    ).first()
    if row is None:
        return None
    audit(session, actor, "lineage.view", "candidate", candidate.id, lineage=row.id)
    rows = [
        LocusRow(str(e["locus"]), _alleles(e.get("child")), _alleles(e.get("relative")), float(e["rate"]),
                 float(e["probability"]))
        for e in row.evidence or []
    ]  # fmt: skip
    return LineageView(row, RELATIVES.get(row.relative_role, row.relative_role.replace("_", " ")), rows)


def rank_lr() -> Any:
    """Return the LR candidates rank by: the combined (autosomal x lineage) where a lineage was computed (an
    inconsistent lineage, LR 0, ranks last), else the autosomal LR. Join LineageEvidence by candidate_id."""
    return sa.case(
        (LineageEvidence.id.is_not(None), LineageEvidence.combined_log10_lr), else_=Candidate.log10_lr
    )
