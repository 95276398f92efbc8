"""Y-STR haplotypes of male samples and the paternal-lineage evidence attached to candidates (issue 21).

Kept apart from the autosomal `profiles` table: a sample may have a Y haplotype, an autosomal profile or both,
typed at different times, and a Y haplotype never enters the autosomal search. Both genetic columns are
encrypted at rest like the profiles' genotypes (`intake.platform.crypto`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, EncryptedJSON, TZDateTime, foreign_key, personal, utcnow
from intake.models.profiles import SampleTyping
from intake.platform.db import Base


class YHaplotype(SampleTyping, Base):
    """The Y-STR haplotype typed from one male sample; a replaced one stays, with when and why.

    `haplotype` maps the kit's canonical locus names (`matching.ystr.loci`) to allele lists: one allele for a
    single-copy locus, a sorted pair for DYS385 and DYF387S1. A sample has at most one current haplotype.
    """

    __tablename__ = "y_haplotypes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, info=NOT_PERSONAL)  # random
    haplotype: Mapped[dict[str, list[str]]] = mapped_column(
        EncryptedJSON("y_haplotypes.haplotype"), info=personal({})
    )
    loci: Mapped[int] = mapped_column(info=NOT_PERSONAL)  # how many loci are typed


class LineageEvidence(Base):
    """The Y-STR evidence on one candidate: the boy against the closest typed paternal-line male of the family.

    Never a candidate of its own: it is attached to a candidate the autosomal search found, and its LR
    multiplies the candidate's (`combined_log10_lr`, which ranks candidates; the band stays the autosomal one).
    """

    __tablename__ = "match_lineage"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    candidate_id: Mapped[int] = foreign_key("match_candidates.id", "CASCADE", unique=True)
    child_haplotype_id: Mapped[str] = foreign_key("y_haplotypes.id", "CASCADE", index=True)
    relative_haplotype_id: Mapped[str] = foreign_key("y_haplotypes.id", "CASCADE", index=True)
    relative_role: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)
    meioses: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    loci_compared: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    log10_lr: Mapped[float | None] = mapped_column(Float, info=NOT_PERSONAL)  # None: LR 0 (inconsistent)
    combined_log10_lr: Mapped[float | None] = mapped_column(Float, index=True, info=NOT_PERSONAL)
    matches: Mapped[int] = mapped_column(info=NOT_PERSONAL)  # x: the boy's haplotype in the database
    database: Mapped[int] = mapped_column(info=NOT_PERSONAL)  # N: haplotypes typed on the compared loci
    frequency: Mapped[float] = mapped_column(Float, info=NOT_PERSONAL)  # the Clopper-Pearson upper bound
    # Both haplotypes and the per-locus probabilities: genetic data, erased with the candidate's cases.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(
        EncryptedJSON("match_lineage.evidence"), default=list, info=personal([])
    )
    inconsistent_loci: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)  # names only
    rates: Mapped[str] = mapped_column(String(120), info=NOT_PERSONAL)  # the cited rate source
    computed_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
