"""DNA profiles, kept apart from identities: opaque ids, the kit and the genotypes, never a name or phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, EncryptedJSON, TZDateTime, personal, utcnow
from intake.platform.db import Base


class DnaProfile(Base):
    """The STR profile typed from one sample; a replaced profile stays, with when, why and by which.

    `genotypes` maps canonical marker names (`matching.markers`) to allele lists, e.g. {"vWA": ["14", "17"],
    "Amelogenin": ["X", "Y"]}; a sample has at most one current (unreplaced) profile.
    """

    __tablename__ = "profiles"
    __table_args__ = (
        Index(
            "uq_profiles_current_per_sample",
            "sample_id",
            unique=True,
            sqlite_where=text("replaced_at IS NULL"),
            postgresql_where=text("replaced_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(
        String(32), primary_key=True, info=NOT_PERSONAL
    )  # random, says nothing about the person
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("samples.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    lab_id: Mapped[int] = mapped_column(
        ForeignKey("labs.id", ondelete="RESTRICT"), index=True, info=NOT_PERSONAL
    )
    kit: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    # Encrypted at rest (intake.platform.crypto): a copy of the database shows no allele.
    genotypes: Mapped[dict[str, list[str]]] = mapped_column(
        EncryptedJSON("profiles.genotypes"), info=personal({})
    )
    autosomal_markers: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    digest: Mapped[str] = mapped_column(
        String(64), info=personal("")
    )  # of the genotypes, to tell a retry from a new profile
    uploaded_by: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    replaced_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    replaced_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    replace_reason: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)
