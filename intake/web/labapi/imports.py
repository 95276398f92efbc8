"""Lab API routes for files: the GeneMapper ID-X Genotypes Table import, and the OpenAPI document itself."""

from __future__ import annotations

import copy
from typing import Any

from flask import Response as FlaskResponse
from flask import jsonify, request
from spectree import Response

from intake.labs.genemapper_import import SampleAnswer, import_genotypes_table
from intake.web.labapi.api import PREFIX, bp, spec
from intake.web.labapi.context import actor, lab_key, render, session, setting
from intake.web.labapi.schemas import ErrorOut, ImportOut, ImportQuery, ImportSample

REFUSALS: dict[str, Any] = {f"HTTP_{s}": ErrorOut for s in (400, 401, 403, 413, 422, 429)}
TABLE_BODY = {
    "required": True,
    "description": "A GeneMapper ID-X Genotypes Table export as saved (tab separated; UTF-8, UTF-8 with BOM or GBK).",
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("text/tab-separated-values", "text/plain", "application/octet-stream")
    },
}


@bp.post("/imports/genemapper")
@spec.validate(query=ImportQuery, resp=Response(HTTP_200=ImportOut, **REFUSALS), tags=["profiles"])
def import_genemapper(query: ImportQuery) -> tuple[ImportOut, int]:
    """Store the profiles of a GeneMapper Genotypes Table: each sample whole or not at all, every sample answered."""
    s = session()
    answers = import_genotypes_table(
        s, request.get_data(), lab_id=lab_key().lab_id, actor=actor(), kit=query.kit,
        min_markers=int(setting("LAB_API_MIN_MARKERS")),
    )  # fmt: skip
    s.commit()
    return import_out(answers), 200


def import_out(answers: list[SampleAnswer]) -> ImportOut:
    """Return the API's answer to an import: each sample's outcome in the reader's language, and the counts."""
    samples = [
        ImportSample.model_validate(
            {
                "name": a.name,
                "kind": a.kind,
                "status": a.status,
                "code": a.code,
                "profile": a.profile,
                "markers": a.markers,
                "left_out": a.left_out,
                "reason": a.reason,
                "message": render(a.message, a.params) if a.message else None,
                "notices": [{"code": n.code, "message": render(n.message, n.params)} for n in a.notices],
            }  # fmt: skip
        )
        for a in answers
    ]
    counts = {k: sum(a.status == k for a in answers) for k in ("stored", "unchanged", "refused", "skipped")}
    return ImportOut(samples=samples, **counts)


@bp.get("/openapi.json")
def openapi_document() -> FlaskResponse:
    """Return the OpenAPI 3 document of the lab API, generated from the models that validate the requests."""
    document = copy.deepcopy(spec.spec)
    # An import's body is a file, which spectree's models do not describe: add it to the generated operations.
    for path in (f"{PREFIX}/imports/genemapper", f"{PREFIX}/imports/genemapper/y-str"):
        document["paths"][path]["post"]["requestBody"] = TABLE_BODY
    return jsonify(document)
