"""Marker names as labs write them, folded to one canonical name per STR locus (vWA/VWA, TH01/THO1, Penta D/PENTA_D).

Amelogenin and Y-chromosome markers are recognised and kept, but only autosomal STRs enter likelihood ratios.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from matching.errors import UnknownMarkerError


class MarkerKind(enum.Enum):
    """What a marker can be used for."""

    AUTOSOMAL = "autosomal"
    SEX = "sex"  # Amelogenin: X/Y, no part in kinship LRs
    Y = "y"  # Y-STRs and the Y indel: paternal lineage only, no part in autosomal LRs


# Canonical spelling of the autosomal STRs of the common kits (CODIS, ESS, PowerPlex, Goldeneye, AGCU):
# the shipped table's names first, then others an operator's local table may carry.
AUTOSOMAL_MARKERS = (
    "CSF1PO", "D1S1656", "D2S441", "D2S1338", "D3S1358", "D5S818", "D7S820", "D8S1179", "D10S1248",
    "D12S391", "D13S317", "D16S539", "D18S51", "D19S433", "D21S11", "D22S1045", "FGA", "TH01", "TPOX",
    "vWA", "PentaD", "PentaE", "D6S1043", "SE33", "PentaB", "PentaC", "D6S477", "D11S4463", "D17S1301",
    "D20S482", "F13A01", "F13B", "FESFPS", "LPL", "HPRTB",
)  # fmt: skip

# Other spellings, keyed by the folded form (upper case, no spaces, dots, dashes or underscores).
_ALIASES = {
    "THO1": "TH01",
    "HUMTH01": "TH01",
    "CSF1P0": "CSF1PO",
    "TPO": "TPOX",
    "VWA31": "vWA",
    "FIBRA": "FGA",
    "ACTBP2": "SE33",
    "FES": "FESFPS",
}
_SEX = {"AMEL": "Amelogenin", "AMELOGENIN": "Amelogenin", "AM": "Amelogenin"}
_Y_INDEL = {"YINDEL", "YIND"}
_STR_PATTERN = re.compile(r"^D(\d{1,2}|X)S\d{2,5}$")
_Y_PATTERN = re.compile(r"^(DYS\d{2,4}[A-Z/]*|DYF\d{3}S\d[A-Z/]*|YGATAH4|YGATAA10)$")


def fold(name: str) -> str:
    """Return the comparison key of a marker name: upper case without spaces, dots, dashes or underscores."""
    return re.sub(r"[\s._\-]+", "", name).upper()


_CANONICAL = {fold(m): m for m in AUTOSOMAL_MARKERS}


@dataclass(frozen=True)
class Marker:
    """A marker by its canonical name and kind."""

    name: str
    kind: MarkerKind


def normalise_marker(name: str, extra_autosomal: Iterable[str] = ()) -> Marker:
    """Return the canonical marker for a name as a lab or a kit writes it.

    `extra_autosomal` adds the names of a frequency table in use, so a local table's loci are known too.
    Raises UnknownMarkerError for a name that is neither a known STR nor a standard locus designation.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownMarkerError(str(name))
    key = fold(name)
    key = _ALIASES.get(key, key)
    if key in _CANONICAL:
        return Marker(_CANONICAL[key], MarkerKind.AUTOSOMAL)
    for extra in extra_autosomal:
        if fold(extra) == key:
            return Marker(extra, MarkerKind.AUTOSOMAL)
    if key in _SEX:
        return Marker(_SEX[key], MarkerKind.SEX)
    if key in _Y_INDEL:
        return Marker("Y indel", MarkerKind.Y)
    if _Y_PATTERN.match(key):
        return Marker(key, MarkerKind.Y)
    if _STR_PATTERN.match(key):
        return Marker(key, MarkerKind.AUTOSOMAL)
    raise UnknownMarkerError(name)


def canonical_table_name(name: str) -> str:
    """Return the canonical spelling of a frequency table's column or marker name (unknown names kept as written)."""
    key = _ALIASES.get(fold(name), fold(name))
    return _CANONICAL.get(key, name.strip())
