"""Read a GeneMapper ID-X "Genotypes Table" export as labs really save it, into samples with their marker rows.

No two labs export the same table: the columns and their order come from each lab's table setting (only
`Sample Name`, `Marker` and `Allele 1` ... `Allele N` matter), data rows may end in a tab, lines in CRLF, the file
may start with a UTF-8 BOM or be GBK with Chinese headers from a Chinese Windows install. Allelic ladders and
controls are recognised by a `Sample Type` column where there is one, else by their usual names, and set aside.
This module only reads: `intake.genemapper_import` checks and stores. It knows no database.

    read_genotypes_table(data: bytes) -> GenotypesTable
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intake.codes import is_valid_sample_code, normalise_sample_code
from intake.errors import InputError
from intake.i18n import N_

SAMPLE, MARKER, TYPE, PANEL = "sample", "marker", "type", "panel"
_HEADERS = {
    "samplename": SAMPLE, "样本名称": SAMPLE, "样品名称": SAMPLE, "样本名": SAMPLE,
    "marker": MARKER, "标记": MARKER, "基因座": MARKER, "位点": MARKER, "标记名称": MARKER,
    "sampletype": TYPE, "样本类型": TYPE, "样品类型": TYPE,
    "panel": PANEL, "面板": PANEL, "试剂盒": PANEL,
}  # fmt: skip
_ALLELE = re.compile(r"^(?:allele|等位基因)(\d{1,2})$")
_CODE = re.compile(r"[0-9A-Za-z]{4}[-_ ]?[0-9A-Za-z]{4}")
_LADDER = re.compile(r"ladder|ldr|分型标准", re.I)
_POSITIVE = re.compile(
    r"^(pc|pos|positive|9947a?|9948|2800m|007|阳性)([ _-]?(ctrl|control|对照))?([ _-]?\d+)?$", re.I
)
_NEGATIVE = re.compile(
    r"^(nc|neg|negative|blank|rb|空白|阴性)([ _-]?(ctrl|control|对照))?([ _-]?\d+)?$", re.I
)
OFF_LADDER = "OL"


class GeneMapperFormatError(InputError):
    """The file is not a Genotypes Table we can read (no sample, marker or allele columns, not text)."""

    code = "bad_genemapper_file"


@dataclass
class TableSample:
    """All rows of one `Sample Name`: its kind (sample, ladder, positive/negative control) and marker rows."""

    name: str
    kind: str
    code: str | None = None
    panel: str | None = None
    rows: list[tuple[str, list[str]]] = field(default_factory=list)  # (marker as written, alleles as written)


@dataclass(frozen=True)
class GenotypesTable:
    """The samples of one export in file order, and the text encoding it was read in."""

    samples: list[TableSample]
    encoding: str


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of an export and its encoding: UTF-16 or UTF-8 (with or without BOM), else GBK (GB18030)."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"  # a cut or damaged UTF-16 file fails here too
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            pass
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise GeneMapperFormatError(N_("The file is not text in UTF-8 or GBK.")) from None


def _fold(header: str) -> str:
    return re.sub(r"[\s_.]+", "", header).lower()


def _columns(header: list[str]) -> tuple[dict[str, int], list[int]]:
    named: dict[str, int] = {}
    alleles: list[tuple[int, int]] = []
    for index, cell in enumerate(header):
        key = _fold(cell)
        if key in _HEADERS:
            named.setdefault(_HEADERS[key], index)
        elif match := _ALLELE.match(key):
            alleles.append((int(match.group(1)), index))
    if SAMPLE not in named or MARKER not in named or not alleles:
        raise GeneMapperFormatError(
            N_(
                "This is not a GeneMapper Genotypes Table: it needs the columns Sample Name, Marker and Allele 1."
            )
        )
    return named, [index for _n, index in sorted(alleles)]


def classify(name: str, sample_type: str = "") -> tuple[str, str | None]:
    """Return the kind of a sample row ("sample", "ladder", "positive_control", "negative_control", "unknown")
    and the sample code its name holds."""
    kind = _fold(sample_type)
    if "ladder" in kind:
        return "ladder", None
    if "control" in kind:
        return ("negative_control" if "negative" in kind else "positive_control"), None
    for candidate in _CODE.findall(name):
        if is_valid_sample_code(candidate):
            return "sample", normalise_sample_code(candidate)
    compact = name.strip()
    if _LADDER.search(compact):
        return "ladder", None
    if _POSITIVE.match(compact):
        return "positive_control", None
    if _NEGATIVE.match(compact):
        return "negative_control", None
    return "unknown", None


def _cell(cells: list[str], index: int | None) -> str:
    # A lab's table may leave out a column, and rows may be shorter than the header (trailing empty cells).
    return cells[index] if index is not None and index < len(cells) else ""


def read_genotypes_table(data: bytes) -> GenotypesTable:
    """Return the samples of a Genotypes Table export, grouped by sample code (else by `Sample Name`) in order."""
    text, encoding = decode(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise GeneMapperFormatError(N_("The file is empty."))
    named, allele_columns = _columns(lines[0].split("\t"))
    samples: dict[str, TableSample] = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("\t")]
        name, marker = _cell(cells, named[SAMPLE]), _cell(cells, named[MARKER])
        if not name or not marker:
            continue
        kind, code = classify(name, _cell(cells, named.get(TYPE)))
        key = code or name  # reruns named "K7QX-M2PD" and "K7QX-M2PD_2" are one sample: one profile
        if key not in samples:
            samples[key] = TableSample(name, kind, code, _cell(cells, named.get(PANEL)) or None)
        samples[key].rows.append((marker, [a for a in (_cell(cells, i) for i in allele_columns) if a]))
    return GenotypesTable(list(samples.values()), encoding)
