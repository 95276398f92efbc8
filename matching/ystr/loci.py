"""The Y-STR loci reunite accepts (the Yfiler Plus kit's 27) and each locus's mutation rate, read from the cited
data files in `matching/ystr/data` (see CITATION.txt there): nothing here is a number of our own.

A multi-copy locus (DYS385, DYF387S1) is one locus with two alleles and no order: a lab cannot tell which copy
gave which peak, so `DYS385a`/`DYS385b` and `DYS385 a/b` are the same locus, stored as a sorted pair.
DYS389II is the whole DYS389 amplicon (it includes DYS389I), as the kit and the YHRD report it.

    KIT = "Yfiler Plus"      LOCI: dict[name, YLocus]      canonical_locus(name) -> str   (KeyError if not ours)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from matching.markers import fold

KIT = "Yfiler Plus"
KIT_LOCI_COUNT = 27  # what the kit's documentation counts: DYS385a/b and DYF387S1a/b as two each


@dataclass(frozen=True)
class YLocus:
    """One Y-STR locus: its name, how many copies it has, and its per-meiosis mutation rate (with its counts)."""

    name: str
    copies: int
    rapidly_mutating: bool
    mutations: int
    meioses: int

    @property
    def rate(self) -> float:
        """The point estimate mutations / meioses, as the YHRD publishes it."""
        return self.mutations / self.meioses


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("matching.ystr").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def loci() -> dict[str, YLocus]:
    """Return the kit's loci by canonical name, in the kit's order, each with its cited mutation counts."""
    rates = {r["locus"]: (int(r["mutations"]), int(r["meioses"])) for r in _rows("yhrd_mutation_rates.csv")}
    out = {}
    for row in _rows("yfiler_plus.csv"):
        mutations, meioses = rates[row["locus"]]  # a kit locus without a cited rate is a broken data file
        out[row["locus"]] = YLocus(
            row["locus"], int(row["copies"]), row["rapidly_mutating"] == "yes", mutations, meioses
        )
    return out


# Other spellings of the kit's loci, by folded form (matching.markers.fold: upper case, no spaces or dots).
_ALIASES = {
    "GATAH4": "YGATAH4",
    "YGATAH41": "YGATAH4",
    "GATAH41": "YGATAH4",
    "YGATAC4": "DYS635",
    "GATAC4": "DYS635",
}
_COPY_SUFFIXES = ("A/B", "AB", "A", "B")


def canonical_locus(name: str) -> str:
    """Return the canonical name of one of the kit's loci as a lab writes it; KeyError if the kit lacks it.

    `DYS385a`, `DYS385 a/b` and `DYS385` are all `DYS385`; a copy suffix is only dropped on a multi-copy locus
    (DYS389I is not DYS389 plus a suffix).
    """
    key = fold(name)
    key = _ALIASES.get(key, key)
    known = loci()
    if key in known:
        return key
    for suffix in _COPY_SUFFIXES:
        base = key.removesuffix(suffix)
        if base != key and base in known and known[base].copies > 1:
            return base
    raise KeyError(name)
