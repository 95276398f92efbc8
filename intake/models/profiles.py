"""DNA profiles, kept apart from identities: opaque ids, the kit and the genotypes, never a name or phone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from intake.models._common import NOT_PERSONAL, EncryptedJSON, TZDateTime, foreign_key, personal, utcnow
from intake.platform.db import Base


class SampleTyping:
    """The columns of what a lab typed from one sample (`DnaProfile`, `YHaplotype`): the sample and the lab, the
    kit, a digest that tells a retry from a new typing, who uploaded it and when, and, once replaced, when, why and
    by which; a sample has at most one current (unreplaced) row in each table."""

    sample_id: Mapped[int] = foreign_key("samples.id", "CASCADE", index=True)
    lab_id: Mapped[int] = foreign_key("labs.id", "RESTRICT", index=True)
    kit: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    digest: Mapped[str] = mapped_column(String(64), info=personal(""))  # tells a retry from a new typing
    uploaded_by: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    replaced_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    replace_reason: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)

    @declared_attr
    def replaced_by_id(cls: Any) -> Mapped[str | None]:  # cls: the model, with its __tablename__
        return foreign_key(f"{cls.__tablename__}.id", "SET NULL")

    @declared_attr.directive
    def __table_args__(cls: Any) -> tuple[Index]:
        where = text("replaced_at IS NULL")
        name = f"uq_{cls.__tablename__}_current_per_sample"
        return (Index(name, "sample_id", unique=True, sqlite_where=where, postgresql_where=where),)


class DnaProfile(SampleTyping, Base):
    """The STR profile typed from one sample; a replaced profile stays, with when, why and by which.

    `genotypes` maps canonical marker names (`matching.markers`) to allele lists, e.g. {"vWA": ["14", "17"],
    "Amelogenin": ["X", "Y"]}; a sample has at most one current (unreplaced) profile.
    """

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(
        String(32), primary_key=True, info=NOT_PERSONAL
    )  # random, says nothing about the person
    # Encrypted at rest (intake.platform.crypto): a copy of the database shows no allele.
    genotypes: Mapped[dict[str, list[str]]] = mapped_column(
        EncryptedJSON("profiles.genotypes"), info=personal({})
    )
    autosomal_markers: Mapped[int] = mapped_column(info=NOT_PERSONAL)
