"""Allele-frequency tables: the shipped Chinese table by default, or an operator's table in long or wide CSV form.

Conventions (those of Familias and forrel): each locus is renormalised to sum to 1 when the table is loaded, and a
locus's allele set is exactly its rows. An allele absent from the table is handled by an explicit
`MissingAllelePolicy` (default: add it at the NRC II minimum 5/(2N) with N = 5,000, then renormalise the locus).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching.alleles import allele_sort_key, canonical_allele
from matching.errors import FrequencyTableError
from matching.markers import canonical_table_name, fold

DEFAULT_TABLE = "china_paternity_std_appD.csv"
_SUMMARY_ROWS = {"n", "total", "sum", "h", "het", "pe", "pd", "pic"}


@dataclass(frozen=True)
class MissingAllelePolicy:
    """What to do with an allele that a profile has and the table lacks.

    The allele is added to its locus at `frequency` = `min_frequency` if given, else 5/(2N) with
    N = `n_individuals` (NRC II, ch. 4-5). With `renormalise` (the default) the locus is then divided by its new
    sum, so it stays a probability distribution (which mutation models and theta need); without it the other
    alleles keep their table values. When no allele is missing, nothing changes, whatever the policy.
    """

    n_individuals: int = 5000
    min_frequency: float | None = None
    renormalise: bool = True

    def __post_init__(self) -> None:
        if self.n_individuals < 1:
            raise FrequencyTableError("the sample size N of a frequency table must be at least 1")
        if self.min_frequency is not None and not 0.0 < self.min_frequency < 1.0:
            raise FrequencyTableError("the minimum allele frequency must lie strictly between 0 and 1")

    @property
    def frequency(self) -> float:
        """Return the frequency given to a missing allele."""
        return self.min_frequency if self.min_frequency is not None else 5.0 / (2.0 * self.n_individuals)


@dataclass(frozen=True, eq=False)
class Locus:
    """One marker's alleles (sorted by repeat number) and their frequencies (summing to 1 unless told otherwise)."""

    marker: str
    alleles: tuple[str, ...]
    frequencies: npt.NDArray[np.float64]

    def index(self, allele: str) -> int:
        """Return the position of an allele in `alleles` (ValueError if absent)."""
        return self.alleles.index(allele)

    def absent(self, alleles: Iterable[str]) -> tuple[str, ...]:
        """Return those of `alleles` this locus lacks, by repeat number."""
        return tuple(sorted(set(alleles) - set(self.alleles), key=allele_sort_key))

    def with_alleles(self, alleles: Iterable[str], policy: MissingAllelePolicy) -> Locus:
        """Return this locus with the absent `alleles` added under `policy` (itself when none is absent)."""
        missing = self.absent(alleles)
        if not missing:
            return self
        freqs = dict(zip(self.alleles, self.frequencies.tolist(), strict=True))
        for allele in missing:
            freqs[allele] = policy.frequency
        ordered = tuple(sorted(freqs, key=allele_sort_key))
        values = np.array([freqs[a] for a in ordered], dtype=np.float64)
        if policy.renormalise:
            values = values / values.sum()
        return Locus(self.marker, ordered, values)


class FrequencyTable:
    """Allele frequencies per canonical marker, renormalised per locus at load time."""

    def __init__(self, raw: Mapping[str, Mapping[str, float]], source: str = "") -> None:
        self.source = source
        self.loci: dict[str, Locus] = {}
        for marker, freqs in raw.items():
            usable = {a: f for a, f in freqs.items() if f > 0}
            if not usable:
                raise FrequencyTableError(
                    f"{source}: marker {marker} has no allele with a positive frequency"
                )
            alleles = tuple(sorted(usable, key=allele_sort_key))
            values = np.array([usable[a] for a in alleles], dtype=np.float64)
            values.setflags(write=False)
            self.loci[marker] = Locus(marker, alleles, values / values.sum())

    @classmethod
    def from_loci(cls, loci: Iterable[Locus], source: str = "") -> FrequencyTable:
        """Return a table of ready loci, kept exactly as they are (no renormalisation)."""
        table = cls({}, source)
        table.loci = {locus.marker: locus for locus in loci}
        return table

    def with_alleles(
        self, alleles: Mapping[str, Iterable[str]], policy: MissingAllelePolicy
    ) -> FrequencyTable:
        """Return the table with the absent alleles of {marker: alleles} added under `policy` (batch use)."""
        loci = [
            locus.with_alleles(alleles.get(marker, ()), policy) if marker in alleles else locus
            for marker, locus in self.loci.items()
        ]
        return FrequencyTable.from_loci(loci, self.source)

    @property
    def markers(self) -> tuple[str, ...]:
        """Return the table's canonical marker names in table order."""
        return tuple(self.loci)

    def locus(self, marker: str) -> Locus:
        """Return the locus of a canonical marker, or raise FrequencyTableError naming the table."""
        try:
            return self.loci[marker]
        except KeyError:
            raise FrequencyTableError(
                f"marker {marker} is not in the frequency table {self.source or '(unnamed)'}; use a table that"
                " has it, or leave the marker out"
            ) from None

    @classmethod
    def default(cls) -> FrequencyTable:
        """Return the shipped Chinese table (SF/Z JD0105001-2016 / GB/T 37223-2018, App. D; see CITATION.txt)."""
        text = resources.files("matching").joinpath("data", DEFAULT_TABLE).read_text(encoding="utf-8")
        return cls.from_csv_text(text, source=DEFAULT_TABLE)

    @classmethod
    def from_csv(cls, path: str | Path) -> FrequencyTable:
        """Return the table in a CSV file, long (`marker,allele,frequency`) or wide (`Allele`, one column a marker)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise FrequencyTableError(f"cannot read frequency table {path}: {exc.strerror or exc}") from None
        return cls.from_csv_text(decode_table(data, str(path)), source=str(path))

    @classmethod
    def from_csv_text(cls, text: str, source: str = "") -> FrequencyTable:
        """Return the table in CSV text, long or wide form (told apart by the header)."""
        rows = [
            r
            for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), _dialect(text))
            if any(c.strip() for c in r)
        ]
        if not rows:
            raise FrequencyTableError(f"{source}: the frequency table is empty")
        header = [fold(c) for c in rows[0]]
        if header[:3] == ["MARKER", "ALLELE", "FREQUENCY"]:
            return cls(_read_long(rows[1:], source), source)
        if header and header[0] == "ALLELE" and len(header) > 1:
            return cls(_read_wide(rows, source), source)
        raise FrequencyTableError(
            f"{source}: the header must be 'marker,allele,frequency' (long form) or 'Allele' followed by one"
            f" column per marker (wide form), not {','.join(rows[0][:4])}"
        )


def decode_table(data: bytes, source: str) -> str:
    """Return the text of a CSV file as spreadsheets save it: UTF-8 (with or without BOM), UTF-16 or GBK.

    Excel in China saves "CSV" in GBK and "Unicode text" in UTF-16; anything else is refused in one line.
    """
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FrequencyTableError(
            f"{source}: this is a spreadsheet workbook, not CSV; save it as CSV (UTF-8)"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif b"\x00" in data[:4096]:  # UTF-16 without a byte order mark: every ASCII character has a zero byte
        encodings = ["utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"]
    else:
        encodings = ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
    raise FrequencyTableError(f"{source}: not text in UTF-8, UTF-16 or GBK; save the table as CSV (UTF-8)")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _number(value: str, source: str, line: int) -> float:
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        raise FrequencyTableError(f"{source}, line {line}: frequency {value!r} is not a number") from None
    if not np.isfinite(number) or number < 0:
        raise FrequencyTableError(f"{source}, line {line}: frequency {value!r} must be a number from 0 to 1")
    return number


def _allele(value: str, source: str, line: int) -> str:
    try:
        return canonical_allele(value)
    except ValueError as exc:
        raise FrequencyTableError(f"{source}, line {line}: allele {value!r}: {exc}") from None


def _add(table: dict[str, dict[str, float]], marker: str, allele: str, freq: float, where: str) -> None:
    locus = table.setdefault(marker, {})
    if allele in locus:
        raise FrequencyTableError(f"{where}: allele {allele} of marker {marker} is listed twice")
    locus[allele] = freq


def _read_long(rows: list[list[str]], source: str) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for line, row in enumerate(rows, start=2):
        if len(row) < 3:
            raise FrequencyTableError(f"{source}, line {line}: expected marker,allele,frequency")
        marker = canonical_table_name(row[0])
        _add(
            table,
            marker,
            _allele(row[1], source, line),
            _number(row[2], source, line),
            f"{source}, line {line}",
        )
    return table


def _read_wide(rows: list[list[str]], source: str) -> dict[str, dict[str, float]]:
    markers = [canonical_table_name(c) for c in rows[0][1:]]
    if len({fold(m) for m in markers}) != len(markers):
        raise FrequencyTableError(f"{source}: a marker column appears twice")
    table: dict[str, dict[str, float]] = {m: {} for m in markers if m}
    for line, row in enumerate(rows[1:], start=2):
        label = row[0].strip()
        if label.lower() in _SUMMARY_ROWS:
            continue
        allele = _allele(label, source, line)
        for marker, cell in zip(markers, row[1:], strict=False):
            if marker and cell.strip():
                _add(table, marker, allele, _number(cell, source, line), f"{source}, line {line}")
    return {m: f for m, f in table.items() if f}
