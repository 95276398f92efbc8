"""Store the profiles of a GeneMapper Genotypes Table: each sample whole or not at all, with an answer for each.

Rows are matched to samples by the sample code in `Sample Name`. A marker with an off-ladder call (`OL`) is
left out, since its true genotype is unknown, and named in the answer; what remains is checked and stored like
an upload through the API (`intake.lab_profiles.store_profile`), in its own savepoint, so one bad sample never
stores half a profile and never stops the others.

    import_genotypes_table(session, data, *, lab_id, actor, kit=None, min_markers=12) -> list[SampleAnswer]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from intake.custody import find_sample
from intake.errors import ReuniteError
from intake.genemapper import OFF_LADDER, TableSample, read_genotypes_table
from intake.i18n import N_
from intake.lab_errors import ProfileRejectedError
from intake.lab_profiles import DEFAULT_MIN_MARKERS, store_profile
from intake.models import audit


@dataclass
class SampleAnswer:
    """What happened to one sample of the file: status "stored", "unchanged", "refused" or "skipped"."""

    name: str
    kind: str
    status: str
    code: str | None = None
    profile: str | None = None
    markers: int | None = None
    left_out: list[str] = field(default_factory=list)
    reason: str | None = None  # a machine-readable code, as in the API's errors
    message: str | None = (
        None  # a gettext msgid with `params`, rendered by the adapter in the reader's language
    )
    params: dict[str, Any] = field(default_factory=dict)


def _genotypes(sample: TableSample) -> tuple[dict[str, list[str]], list[str]]:
    genotypes: dict[str, list[str]] = {}
    left_out: list[str] = []
    for marker, alleles in sample.rows:
        if any(a.upper() == OFF_LADDER for a in alleles):
            left_out.append(marker)
            continue
        if marker in genotypes:  # other spellings of one marker are caught by check_genotypes
            raise ProfileRejectedError("marker_twice", N_("Marker %(marker)s is typed twice."), marker=marker)
        genotypes[marker] = alleles
    return genotypes, left_out


def _store(
    session: Session, sample: TableSample, *, lab_id: int, actor: str, kit: str | None, min_markers: int
) -> SampleAnswer:
    answer = SampleAnswer(sample.name, sample.kind, "refused", sample.code)
    try:
        with session.begin_nested():
            genotypes, answer.left_out = _genotypes(sample)
            stored = store_profile(
                session, find_sample(session, sample.code or ""), lab_id=lab_id, actor=actor,
                kit=kit or sample.panel or "unknown", genotypes=genotypes, min_markers=min_markers,
            )  # fmt: skip
    except ReuniteError as exc:
        answer.reason = getattr(exc, "code", None) or type(exc).__name__
        answer.message, answer.params = exc.message, exc.params
        return answer
    answer.status = "unchanged" if stored.outcome == "unchanged" else "stored"
    answer.profile, answer.markers = stored.profile.id, stored.profile.autosomal_markers
    return answer


def import_genotypes_table(
    session: Session,
    data: bytes,
    *,
    lab_id: int,
    actor: str,
    kit: str | None = None,
    min_markers: int = DEFAULT_MIN_MARKERS,
) -> list[SampleAnswer]:
    """Store every sample of the export that can be stored, and return an answer for every sample in it."""
    table = read_genotypes_table(data)
    answers = []
    for sample in table.samples:
        if sample.kind == "sample":
            answers.append(
                _store(session, sample, lab_id=lab_id, actor=actor, kit=kit, min_markers=min_markers)
            )
        elif sample.kind == "unknown":
            answers.append(
                SampleAnswer(
                    sample.name,
                    sample.kind,
                    "refused",
                    reason="no_sample_code",
                    message=N_("The sample name holds no valid sample code."),
                )  # fmt: skip
            )
        else:
            answers.append(SampleAnswer(sample.name, sample.kind, "skipped"))
    counts = {s: sum(a.status == s for a in answers) for s in ("stored", "unchanged", "refused", "skipped")}
    audit(session, actor, "genemapper.import", "lab", lab_id, encoding=table.encoding, **counts)
    return answers
