"""The STR kits labs type with and the markers that are real: what a lab's profile is checked against.

A profile is data for a national search, so a marker name must be one a kit types (`data/kits.csv`, cited in
`data/README.md`) or one the kinship engine or its frequency table knows: `D8S1197` (for D8S1179) or `D99S999`
looks like a locus name but is refused, with the nearest real name. Alleles are checked against the shipped
Chinese frequency table's range at each marker (`matching.alleles.check_allele`, the kinship input's own check);
a marker the table lacks (SE33, D19S253) gets the repeat ceiling `MAX_REPEATS`.

    known_marker(canonical) -> bool           nearest_markers(name) -> [name]
    kit_markers(kit) -> frozenset | None       frequency_table() -> FrequencyTable
"""

from __future__ import annotations

import csv
import difflib
import re
from functools import cache
from importlib import resources

from matching.frequencies import FrequencyTable
from matching.markers import AUTOSOMAL_MARKERS, canonical_table_name

# No STR allele of any kit reaches this many repeats (the longest, FGA and SE33, stay under 55): a higher number
# is a placeholder or a slipped digit, at a marker the frequency table does not range.
MAX_REPEATS = 60
# Other names labs give their kit (the panel name of a GeneMapper export, a Chinese name).
_KIT_ALIASES = {
    "华夏白金": "Huaxia Platinum",
    "huaxiaplatinum": "Huaxia Platinum",
    "idplus": "Identifiler Plus",
}


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-.+]+", "", name).lower()


@cache
def kits() -> dict[str, frozenset[str]]:
    """Return every shipped kit's autosomal STR markers (canonical names), by kit name."""
    text = resources.files("intake").joinpath("data", "kits.csv").read_text(encoding="utf-8")
    found: dict[str, set[str]] = {}
    for row in csv.DictReader(text.splitlines()):
        found.setdefault(row["kit"].strip(), set()).add(canonical_table_name(row["marker"]))
    return {kit: frozenset(markers) for kit, markers in found.items()}


@cache
def frequency_table() -> FrequencyTable:
    """Return the shipped Chinese allele-frequency table (its ranges bound the plausible alleles)."""
    return FrequencyTable.default()


@cache
def known_markers() -> frozenset[str]:
    """Return the canonical names of every autosomal STR a kit, the kinship engine or the table knows."""
    in_kits = set().union(*kits().values())
    return frozenset(in_kits | set(AUTOSOMAL_MARKERS) | set(frequency_table().markers))


def known_marker(canonical: str) -> bool:
    """Tell whether a canonical autosomal marker name is a real, typed STR locus."""
    return canonical in known_markers()


def nearest_markers(name: str) -> list[str]:
    """Return up to two real marker names close to a misspelled one (D8S1197 -> D8S1179)."""
    return difflib.get_close_matches(name.strip(), sorted(known_markers()), n=2, cutoff=0.75)


def kit_name(kit: str) -> str | None:
    """Return the shipped kit a lab's kit or panel name stands for (case, spaces and dashes aside), or None."""
    folded = _fold(kit)
    by_fold = {_fold(k): k for k in kits()} | {_fold(a): k for a, k in _KIT_ALIASES.items()}
    if folded in by_fold:
        return by_fold[folded]
    # A panel name often carries the kit's name and a version: "IdentifilerPlus_Panels_v1", "GlobalFiler_v1.1".
    for fold, name in sorted(by_fold.items(), key=lambda item: -len(item[0])):
        if len(fold) >= 6 and folded.startswith(fold):
            return name
    return None


def kit_markers(kit: str) -> frozenset[str] | None:
    """Return the autosomal markers of a shipped kit named `kit`, or None for a kit not shipped."""
    name = kit_name(kit)
    return kits()[name] if name else None
