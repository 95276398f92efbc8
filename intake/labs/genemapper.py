"""Read a GeneMapper ID-X "Genotypes Table" export as labs really save it, into samples with their marker rows.

No two labs export the same table: the columns and their order come from each lab's table setting (only
`Sample Name`, `Marker` and `Allele 1` ... `Allele N` matter), data rows may end in a tab, lines in CRLF, the file
may start with a UTF-8 BOM, be UTF-16 with or without its BOM, or GBK with Chinese headers from a Chinese Windows
install; a spreadsheet may have written `NA` in an empty cell. Allelic ladders and controls are recognised by a
`Sample Type` column where there is one, else by their usual names, and set aside. Rows the file cut short are
noted on their sample, so that the import refuses it rather than store what is left.
This module only reads: `intake.labs.genemapper_import` checks and stores. It knows no database.

    read_genotypes_table(data: bytes) -> GenotypesTable
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intake.platform.codes import is_valid_sample_code, normalise_sample_code
from intake.platform.errors import InputError
from intake.platform.i18n import N_

SAMPLE, MARKER, TYPE, PANEL = "sample", "marker", "type", "panel"
_HEADERS = {
    "samplename": SAMPLE, "样本名称": SAMPLE, "样品名称": SAMPLE, "样本名": SAMPLE,
    "marker": MARKER, "标记": MARKER, "基因座": MARKER, "位点": MARKER, "标记名称": MARKER,
    "sampletype": TYPE, "样本类型": TYPE, "样品类型": TYPE,
    "panel": PANEL, "面板": PANEL, "试剂盒": PANEL,
}  # fmt: skip
_ALLELE = re.compile(r"^(?:allele|等位基因)(\d{1,2})$")
_CODE = re.compile(r"[0-9A-Za-z]{4}[-_ ]?[0-9A-Za-z]{4}")
# Controls as labs name them, in English, German, Chinese: a name's start is enough (AL_IF+, 9947A_IF+_1_19.02.2019,
# K(-)_Platte3, Pos.ktr., NTC, H2O, 试剂空白), since the name of a real sample holds its sample code.
_END = r"(?=$|[\s_\-.,;:()\[\]+/#])"
_LADDER = re.compile(r"ladder|ldr|分型标准|等位基因标准|^(al|all|ld)" + _END, re.I)
_POSITIVE = re.compile(
    r"^(pc|pos|positive|positiv|\+|9947a?|9948|2800m|007|k\(\+\)|k\+|ctrl\+|control\+|ppc|阳性|标准品)"
    + r"(?=$|[\s_\-.,;:()\[\]/#0-9]|\+|ktr|kontrolle|ctrl|control|对照)",
    re.I,
)
_NEGATIVE = re.compile(
    r"^(nc|neg|negative|negativ|-|blank|blk|rb|ntc|h2o|water|aqua|k\(-\)|k-|ctrl-|control-|空白|阴性|试剂空白|"
    r"提取空白|水)(?=$|[\s_\-.,;:()\[\]+/#0-9]|ktr|kontrolle|ctrl|control|对照)",
    re.I,
)
OFF_LADDER = "OL"


class GeneMapperFormatError(InputError):
    """The file is not a Genotypes Table we can read (no sample, marker or allele columns, not text)."""

    code = "bad_genemapper_file"


@dataclass
class TableSample:
    """All rows of one sample code (else one `Sample Name`): its kind, its runs and any row the file cut short."""

    name: str
    kind: str
    code: str | None = None
    panel: str | None = None
    rows: list[tuple[str, list[str]]] = field(default_factory=list)  # (marker as written, alleles as written)
    runs: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # the rows of each Sample Name
    # The line numbers of rows with fewer cells than the header (cut), and of a last line the file ends inside.
    short_lines: list[int] = field(default_factory=list)
    cut_line: int | None = None


@dataclass(frozen=True)
class GenotypesTable:
    """The samples of one export in file order, and the text encoding it was read in."""

    samples: list[TableSample]
    encoding: str


def _utf16_without_bom(data: bytes) -> str | None:
    # Tab-separated ASCII headers in UTF-16 have a NUL in every other byte: at odd offsets little-endian.
    head = data[:4096]
    if b"\x00" not in head or len(head) < 4:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > len(head) // 4 and odd > 4 * even:
        return "utf-16-le"
    if even > len(head) // 4 and even > 4 * odd:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of an export and its encoding: UTF-16 (with or without BOM), UTF-8 (with or without BOM),
    else GBK (GB18030)."""
    encoding = "utf-16"
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"  # a cut or damaged UTF-16 file fails here too
        if (bare := _utf16_without_bom(data)) is not None:
            encoding = bare
            return data.decode(bare), bare  # Notepad's "Unicode" without its BOM, as some LIMS write it
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            pass
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL bytes")
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        if encoding != "utf-16":
            raise GeneMapperFormatError(
                N_("The file looks like %(encoding)s (UTF-16 without a byte order mark) but cannot be read as it: "
                   "it may be cut or damaged. Export it again, as UTF-8 if you can."), encoding=encoding,
            ) from None  # fmt: skip
        raise GeneMapperFormatError(
            N_("The file is not text in UTF-8, UTF-16 or GBK: export the Genotypes Table again as text.")
        ) from None


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


EMPTY_CELLS = {"", "NA", "N/A", "#N/A"}  # an allele cell a spreadsheet filled with "NA" is an empty cell


def _cell(cells: list[str], index: int | None) -> str:
    # A lab's table may leave out an optional column (Sample Type, Panel); a short row is noted by the caller.
    return cells[index] if index is not None and index < len(cells) else ""


def read_genotypes_table(data: bytes) -> GenotypesTable:
    """Return the samples of a Genotypes Table export, grouped by sample code (else by `Sample Name`) in order.

    A row with fewer cells than the header, and a last line with no line break after it, are noted on their
    sample (`short_lines`, `cut_line`): a file cut in the middle of a row must not store what is left of it.
    """
    text, encoding = decode(data)
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise GeneMapperFormatError(N_("The file is empty."))
    header = numbered[0][1].split("\t")
    named, allele_columns = _columns(header)
    width = len(header) - (
        1 if header[-1].strip() == "" else 0
    )  # a trailing tab on the header adds no column
    cut = not text.endswith(("\n", "\r"))
    samples: dict[str, TableSample] = {}
    for number, line in numbered[1:]:
        cells = [c.strip() for c in line.split("\t")]
        name, marker = _cell(cells, named[SAMPLE]), _cell(cells, named[MARKER])
        if not name or not marker:
            continue
        kind, code = classify(name, _cell(cells, named.get(TYPE)))
        key = code or name  # reruns named "K7QX-M2PD" and "K7QX-M2PD_rerun" are one sample: one profile
        if key not in samples:
            samples[key] = TableSample(name, kind, code, _cell(cells, named.get(PANEL)) or None)
        sample = samples[key]
        alleles = [a for a in (_cell(cells, i) for i in allele_columns) if a.upper() not in EMPTY_CELLS]
        sample.rows.append((marker, alleles))
        sample.runs.setdefault(name, []).append((marker, alleles))
        if len(cells) < width:
            sample.short_lines.append(number)
        if cut and number == numbered[-1][0]:
            sample.cut_line = number
    return GenotypesTable(list(samples.values()), encoding)
