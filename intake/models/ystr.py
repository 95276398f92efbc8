"""Y-STR haplotypes of male samples and the paternal-lineage evidence attached to candidates (issue 21).

Kept apart from the autosomal `profiles` table: a sample may have a Y haplotype, an autosomal profile or both,
typed at different times, and a Y haplotype never enters the autosomal search. Both genetic columns are
encrypted at rest like the profiles' genotypes (`intake.platform.crypto`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, EncryptedJSON, TZDateTime, personal, utcnow
from intake.platform.db import Base


class YHaplotype(Base):
    """The Y-STR haplotype typed from one male sample; a replaced one stays, with when and why.

    `haplotype` maps the kit's canonical locus names (`matching.ystr.loci`) to allele lists: one allele for a
    single-copy locus, a sorted pair for DYS385 and DYF387S1. A sample has at most one current haplotype.
    """

    __tablename__ = "y_haplotypes"
    __table_args__ = (
        Index(
            "uq_y_haplotypes_current_per_sample",
            "sample_id",
            unique=True,
            sqlite_where=text("replaced_at IS NULL"),
            postgresql_where=text("replaced_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, info=NOT_PERSONAL)  # random
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("samples.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    lab_id: Mapped[int] = mapped_column(
        ForeignKey("labs.id", ondelete="RESTRICT"), index=True, info=NOT_PERSONAL
    )
    kit: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    haplotype: Mapped[dict[str, list[str]]] = mapped_column(
        EncryptedJSON("y_haplotypes.haplotype"), info=personal({})
    )
    loci: Mapped[int] = mapped_column(info=NOT_PERSONAL)  # how many loci are typed
    digest: Mapped[str] = mapped_column(String(64), info=personal(""))  # tells a retry from a new haplotype
    uploaded_by: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    replaced_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    replaced_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("y_haplotypes.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    replace_reason: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)


class LineageEvidence(Base):
    """The Y-STR evidence on one candidate: the boy against the closest typed paternal-line male of the family.

    Never a candidate of its own: it is attached to a candidate the autosomal search found, and its LR
    multiplies the candidate's (`combined_log10_lr`, which ranks candidates; the band stays the autosomal one).
    """

    __tablename__ = "match_lineage"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("match_candidates.id", ondelete="CASCADE"), unique=True, info=NOT_PERSONAL
    )
    child_haplotype_id: Mapped[str] = mapped_column(
        ForeignKey("y_haplotypes.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    relative_haplotype_id: Mapped[str] = mapped_column(
        ForeignKey("y_haplotypes.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
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
