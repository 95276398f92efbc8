"""Lab API routes for Y-STR haplotypes: PUT and GET /samples/<code>/y-str (Yfiler Plus, male samples only).

A separate resource from the autosomal profile: labs type Y-STRs with another kit, often later, and a Y
haplotype is never required. The checks and refusals are `intake.labs.ystr_profiles`'.
"""

from __future__ import annotations

from typing import Annotated

from flask import request
from pydantic import BaseModel, Field, StrictBool
from spectree import Response

from intake.labs.errors import ProfileRejectedError
from intake.labs.ystr_import import import_y_table
from intake.labs.ystr_profiles import read_haplotype, store_haplotype
from intake.models import Sample, YHaplotype
from intake.platform.errors import NotFoundError
from intake.platform.i18n import N_
from intake.samples.custody import find_sample
from intake.web.labapi.api import bp, spec
from intake.web.labapi.context import actor, lab_key, session
from intake.web.labapi.imports import REFUSALS as IMPORT_REFUSALS
from intake.web.labapi.imports import import_out
from intake.web.labapi.samples import CODE, REFUSALS, duplicate_marker
from intake.web.labapi.schemas import (
    Allele,
    ImportOut,
    ImportQuery,
    MarkerName,
    PlainText,
    Strict,
    UploadOutcome,
)

YAlleles = Allele | Annotated[list[Allele], Field(max_length=4)]


class YStrIn(Strict):
    """A Y-STR haplotype typed with the Yfiler Plus kit: one allele per locus, two for DYS385 and DYF387S1."""

    kit: PlainText = Field(min_length=1, max_length=64, description="The typing kit: Yfiler Plus.")
    haplotype: dict[MarkerName, YAlleles] = Field(
        max_length=40,
        description='{"DYS19": "14", "DYS389II": "29", "DYS385a/b": ["13", "18"], "DYF387S1": ["36", "38"]}; '
        "a multi-copy locus as one name with two alleles or as its a and b copies; DYS389II is the whole "
        "DYS389 (it includes DYS389I), as the kit reports it.",
    )
    replace: StrictBool = Field(
        False, description="Replace a different haplotype stored before (needs a reason)."
    )
    reason: PlainText | None = Field(None, max_length=500, description="Why the haplotype is replaced.")


class YStrOut(BaseModel):
    haplotype_id: str = Field(description="The haplotype's opaque id.")
    sample: str
    kit: str
    loci: int = Field(description="How many Y-STR loci are stored (DYS385 and DYF387S1 count once).")
    outcome: UploadOutcome = None
    haplotype: dict[str, list[str]]


def _out(sample: Sample, row: YHaplotype, outcome: str | None = None) -> YStrOut:
    return YStrOut(
        haplotype_id=row.id, sample=sample.code, kit=row.kit, loci=row.loci, outcome=outcome,  # type: ignore[arg-type]
        haplotype=row.haplotype,
    )  # fmt: skip


@bp.put("/samples/<code>/y-str")
@spec.validate(
    json=YStrIn, resp=Response(HTTP_200=YStrOut, HTTP_201=YStrOut, **REFUSALS), tags=["profiles"],
    path_parameter_descriptions=CODE,
)  # fmt: skip
def put_y_str(code: str, json: YStrIn) -> tuple[YStrOut, int]:
    """Store a male sample's Y-STR haplotype: 201 when new, 200 for the same again, 409 for a different one."""
    twice = duplicate_marker()
    if twice is not None:
        raise ProfileRejectedError("locus_twice", N_("Y locus %(locus)s is typed twice (%(detail)s)."),
                                   locus=twice, detail=twice)  # fmt: skip
    s = session()
    sample = find_sample(s, code)
    stored = store_haplotype(
        s, sample, lab_id=lab_key().lab_id, actor=actor(), kit=json.kit, haplotype=json.haplotype,
        replace=json.replace, reason=json.reason,
    )  # fmt: skip
    s.commit()
    return _out(sample, stored.haplotype, stored.outcome), 200 if stored.outcome == "unchanged" else 201


@bp.get("/samples/<code>/y-str")
@spec.validate(
    resp=Response(HTTP_200=YStrOut, **REFUSALS), tags=["profiles"], path_parameter_descriptions=CODE
)
def get_y_str(code: str) -> tuple[YStrOut, int]:
    """Return the sample's current Y-STR haplotype if your lab typed it (the read is audited)."""
    s = session()
    sample = find_sample(s, code)
    row = read_haplotype(s, sample, lab_id=lab_key().lab_id, actor=actor())
    if row is None:
        raise NotFoundError(N_("Sample %(code)s has no Y-STR haplotype typed by your lab."), code=sample.code)
    s.commit()
    return _out(sample, row), 200


@bp.post("/imports/genemapper/y-str")
@spec.validate(query=ImportQuery, resp=Response(HTTP_200=ImportOut, **IMPORT_REFUSALS), tags=["profiles"])
def import_genemapper_y(query: ImportQuery) -> tuple[ImportOut, int]:
    """Store the Y-STR haplotypes of a Yfiler Plus Genotypes Table: each sample whole or not at all, all answered."""
    s = session()
    answers = import_y_table(s, request.get_data(), lab_id=lab_key().lab_id, actor=actor(), kit=query.kit)
    s.commit()
    return import_out(answers), 200
