"""Store the profiles of a GeneMapper Genotypes Table: each sample whole or not at all, with an answer for each.

Rows are matched to samples by the sample code in `Sample Name`. A marker with an off-ladder call (`OL`) is
left out, since its true genotype is unknown, and named in the answer; what remains is checked and stored like
an upload through the API (`intake.labs.profiles.store_profile`), in its own savepoint, so one bad sample never
stores half a profile and never stops the others. A file with no human STR marker, or not of the `kit` named,
is refused whole (`ImportRefusedError`); a sample the file cut short (a short row, a last line without its line
break, marker rows its panel's other samples have) is refused; runs of one sample code are merged where they
agree and refused where they do not.

    import_genotypes_table(session, data, *, lab_id, actor, kit=None, min_markers=12) -> list[SampleAnswer]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from intake.labs.errors import ProfileRejectedError
from intake.labs.genemapper import OFF_LADDER, GenotypesTable, TableSample, read_genotypes_table
from intake.labs.kits import kit_markers, kit_name, known_marker
from intake.labs.profiles import DEFAULT_MIN_MARKERS, store_profile
from intake.models import audit
from intake.platform.errors import InputError, ReuniteError
from intake.platform.i18n import N_
from intake.samples.custody import find_sample
from intake.samples.fit import Notice
from matching.errors import UnknownMarkerError
from matching.markers import MarkerKind, normalise_marker


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
    notices: tuple[Notice, ...] = ()  # what to check about a stored sample (sex_mismatch)


class ImportRefusedError(InputError):
    """The whole file is refused: no human STR marker in it, or not the kit the lab named (`code` says which)."""

    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        self.code = code
        super().__init__(message, **params)


def _canonical(marker: str) -> str:
    try:
        return normalise_marker(marker).name
    except UnknownMarkerError:
        return marker.strip()


def _is_str(marker: str) -> bool:
    try:
        found = normalise_marker(marker)
    except UnknownMarkerError:
        return False
    return found.kind is MarkerKind.AUTOSOMAL and known_marker(found.name)


def _check_file(table: GenotypesTable, kit: str | None) -> None:
    """Refuse the whole file when it holds no human STR marker, or when `kit` is a shipped kit it does not fit."""
    markers = {_canonical(m) for s in table.samples for m, _a in s.rows}
    strs = {m for m in markers if _is_str(m)}
    if not strs:
        raise ImportRefusedError(
            "no_str_markers", N_("The file has no human STR marker (its markers: %(markers)s): it is not a human "
                                 "STR typing. Nothing is stored."), markers=", ".join(sorted(markers)[:6]) or "-",
        )  # fmt: skip
    expected = kit_markers(kit) if kit else None
    if expected is not None and strs != expected:
        extra, missing = sorted(strs - expected), sorted(expected - strs)
        raise ImportRefusedError(
            "kit_mismatch", N_("The file does not fit the kit %(kit)s: markers not in the kit: %(extra)s; kit "
                               "markers not in the file: %(missing)s. Name the kit the plate was typed with (or, if "
                               "kit markers are missing, export the file again: it may be cut). Nothing is stored."),
            kit=kit_name(kit or "") or kit, extra=", ".join(extra) or "-", missing=", ".join(missing) or "-",
        )  # fmt: skip


def _typed(alleles: list[str]) -> tuple[str, ...]:
    return tuple(sorted({a.strip().upper() for a in alleles}))


def sample_genotypes(sample: TableSample) -> tuple[dict[str, list[str]], list[str]]:
    """Return the genotypes of a sample's rows (its runs merged) and the markers left out for an off-ladder call.

    Each run (one `Sample Name`) gives each marker once. Runs of one sample code that agree at every marker both
    typed are one sample (a rerun fills a marker the first run missed); runs that disagree are refused.
    """
    calls: dict[str, dict[str, tuple[str, list[str]]]] = {}  # marker -> run -> (marker as written, alleles)
    for run, rows in (sample.runs or {sample.name: sample.rows}).items():
        seen: set[str] = set()
        for marker, alleles in rows:
            canonical = _canonical(marker)
            if canonical in seen:
                raise ProfileRejectedError(
                    "marker_twice", N_("Marker %(marker)s is typed twice."), marker=marker
                )
            seen.add(canonical)
            calls.setdefault(canonical, {})[run] = (marker, alleles)
    genotypes: dict[str, list[str]] = {}
    left_out: list[str] = []
    for by_run in calls.values():
        typed = {
            run: (m, a) for run, (m, a) in by_run.items() if a and all(x.upper() != OFF_LADDER for x in a)
        }
        distinct = {_typed(a) for _m, a in typed.values()}
        if len(distinct) > 1:
            (first, (marker, one)), (second, (_m, other)) = list(typed.items())[:2]
            raise ProfileRejectedError(
                "typed_twice", N_("The sample is in the file twice (%(first)s and %(second)s) with different "
                                  "alleles at %(marker)s: %(one)s and %(other)s. Upload the run you trust alone."),
                first=first, second=second, marker=marker, one=",".join(one), other=",".join(other),
            )  # fmt: skip
        if typed:
            marker, alleles = next(iter(typed.values()))
            genotypes[marker] = alleles
        elif any(a for _m, a in by_run.values()):  # typed only off-ladder: its true genotype is unknown
            left_out.append(next(iter(by_run.values()))[0])
    return genotypes, left_out


def check_rows(sample: TableSample, expected: set[str]) -> None:
    """Refuse a sample the file cut short: a short row, a last row cut, marker rows the other samples have."""
    if sample.cut_line is not None:
        raise ProfileRejectedError(
            "cut_row", N_("The file ends inside line %(line)s (no line break after it): the file was cut, so this "
                          "sample is not stored. Export the file again."), line=sample.cut_line,
        )  # fmt: skip
    if sample.short_lines:
        raise ProfileRejectedError(
            "cut_row", N_("Line %(line)s has fewer cells than the header: the row is cut, so this sample is not "
                          "stored. Export the file again."), line=sample.short_lines[0],
        )  # fmt: skip
    missing = sorted(expected - {_canonical(m) for m, _a in sample.rows})
    if missing:
        raise ProfileRejectedError(
            "missing_rows", N_("The sample has no row for %(markers)s, which the other samples of its panel have: "
                               "the file may be cut. Not stored; export the file again."),
            markers=", ".join(missing),
        )  # fmt: skip


def _store(sample: TableSample, answer: SampleAnswer, session: Session, *, lab_id: int, actor: str,
           kit: str | None, min_markers: int, expected: set[str]) -> None:  # fmt: skip
    check_rows(sample, expected)
    genotypes, answer.left_out = sample_genotypes(sample)
    stored = store_profile(
        session, find_sample(session, sample.code or ""), lab_id=lab_id, actor=actor,
        kit=kit or sample.panel or "unknown", genotypes=genotypes, min_markers=min_markers,
    )  # fmt: skip
    answer.status = "unchanged" if stored.outcome == "unchanged" else "stored"
    answer.profile, answer.markers = stored.profile.id, stored.profile.autosomal_markers
    answer.notices = stored.notices


def answer_samples(
    session: Session,
    table: GenotypesTable,
    store: Callable[[TableSample, SampleAnswer], None],
    *,
    lab_id: int,
    actor: str,
    action: str,
) -> list[SampleAnswer]:
    """Store each sample of `table` with `store` in its own savepoint, answer for every row, audit the import.

    `store` fills the answer of a stored sample; a core error it raises refuses that sample alone (its reason
    and message in the answer). Ladders and controls are skipped; a name without a sample code is refused.
    """
    answers = []
    for sample in table.samples:
        answer = SampleAnswer(sample.name, sample.kind, "refused", sample.code)
        if sample.kind == "sample":
            try:
                with session.begin_nested():
                    store(sample, answer)
            except ReuniteError as exc:
                answer.reason = getattr(exc, "code", None) or type(exc).__name__
                answer.message, answer.params = exc.message, exc.params
        elif sample.kind == "unknown":
            answer.reason, answer.message = (
                "no_sample_code",
                N_("The sample name holds no valid sample code."),
            )
        else:
            answer.status = "skipped"
        answers.append(answer)
    counts = {s: sum(a.status == s for a in answers) for s in ("stored", "unchanged", "refused", "skipped")}
    audit(session, actor, action, "lab", lab_id, encoding=table.encoding, **counts)
    return answers


def panel_markers(table: GenotypesTable, kit: str | None) -> dict[str | None, set[str]]:
    # GeneMapper writes a row for every marker of the panel, typed or not, for every sample of that panel.
    expected: dict[str | None, set[str]] = {}
    for sample in table.samples:
        expected.setdefault(sample.panel, set()).update(_canonical(m) for m, _a in sample.rows)
    known = kit_markers(kit) if kit else None
    for markers in expected.values():
        markers |= known or set()
    return expected


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
    _check_file(table, kit)
    expected = panel_markers(table, kit)

    def store(sample: TableSample, answer: SampleAnswer) -> None:
        _store(sample, answer, session, lab_id=lab_id, actor=actor, kit=kit, min_markers=min_markers,
               expected=expected[sample.panel])  # fmt: skip

    return answer_samples(session, table, store, lab_id=lab_id, actor=actor, action="genemapper.import")
