"""DNA profiles: a mapping from canonical marker to an unordered genotype of canonical allele names.

Input is as labs write it: any marker spelling of `matching.markers`, alleles as strings or numbers, a homozygote
as one allele or two. Amelogenin and Y markers are kept in `other` and take no part in autosomal likelihoods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matching.alleles import allele_sort_key, check_allele
from matching.errors import AlleleFormatError, DuplicateMarkerError, EmptyProfileError, TriallelicError
from matching.markers import MarkerKind, normalise_marker

if TYPE_CHECKING:
    from matching.frequencies import FrequencyTable

Genotype = tuple[str, str]

_AMELOGENIN_ALLELES = {"X", "Y"}


@dataclass(frozen=True)
class Profile:
    """A person's typed markers: `genotypes` (autosomal STRs) and `other` (Amelogenin, Y markers)."""

    genotypes: Mapping[str, Genotype]
    other: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def genotype(self, marker: str) -> Genotype | None:
        """Return the genotype at a canonical marker, or None when the marker is untyped."""
        return self.genotypes.get(marker)


def parse_profile(
    raw: Mapping[str, Sequence[object] | str | int | float | None],
    *,
    table: FrequencyTable | None = None,
    extra_markers: Iterable[str] = (),
    who: str = "profile",
) -> Profile:
    """Return the Profile of a raw {marker: [allele, allele]} mapping, or raise a ProfileError naming the problem.

    A marker given as None, [] or [""] is untyped and left out. With `table` (the frequency table in use) its
    markers are known too and every autosomal allele is checked by `matching.alleles.check_allele` (a
    placeholder such as 0 or 1000 is refused with ImplausibleAlleleError); `extra_markers` adds marker names
    without that check. A marker given twice raises DuplicateMarkerError; a profile with no typed autosomal
    marker raises EmptyProfileError.
    """
    if not isinstance(raw, Mapping):
        raise EmptyProfileError(who)
    extra = (*extra_markers, *(table.markers if table is not None else ()))
    genotypes: dict[str, Genotype] = {}
    other: dict[str, tuple[str, ...]] = {}
    spelling: dict[str, str] = {}
    for name, value in raw.items():
        marker = normalise_marker(name, extra)
        if marker.name in spelling:
            raise DuplicateMarkerError(marker.name, (spelling[marker.name], str(name)))
        spelling[marker.name] = str(name)
        values = _allele_list(marker.name, value)
        if not values:
            continue
        if marker.kind is MarkerKind.SEX:
            other[marker.name] = _amelogenin(marker.name, values)
            continue
        if marker.kind is MarkerKind.Y:
            other[marker.name] = tuple(check_allele(marker.name, v) for v in values)
            continue
        alleles = tuple(check_allele(marker.name, v, table) for v in values)
        distinct = tuple(sorted(set(alleles), key=allele_sort_key))
        if len(distinct) > 2 or len(alleles) > 2:
            raise TriallelicError(marker.name, tuple(sorted(alleles, key=allele_sort_key)))
        genotypes[marker.name] = (distinct[0], distinct[-1])
    if not genotypes:
        raise EmptyProfileError(who)
    return Profile(genotypes=genotypes, other=other)


def _allele_list(marker: str, value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        # "12,14" and "12/14" as one string are common in spreadsheets
        value = [v for v in str(value).replace("/", ",").split(",")] if isinstance(value, str) else [value]
    if not isinstance(value, Sequence):
        raise AlleleFormatError(marker, value, "give the alleles as a list such as ['12', '14']")
    return [v for v in value if not (isinstance(v, str) and not v.strip())]


def _amelogenin(marker: str, values: list[object]) -> tuple[str, ...]:
    alleles = tuple(str(v).strip().upper() for v in values)
    for allele in alleles:
        if allele not in _AMELOGENIN_ALLELES:
            raise AlleleFormatError(marker, allele, "Amelogenin is X or Y")
    return tuple(sorted(alleles))
