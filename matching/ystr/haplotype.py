"""A Y-STR haplotype as labs write it ({"DYS19": "14", "DYS385 a/b": ["13", "18"]}), checked and folded into
one canonical form: the kit's locus names, canonical allele names, one allele per single-copy locus and a
sorted pair per multi-copy locus. Every refusal is a `HaplotypeError` with a stable `code` the adapters turn
into a translated answer.

    parse_haplotype(raw, min_loci=...) -> Haplotype        digest(haplotype) -> str
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from matching.alleles import allele_sort_key, canonical_allele, tenths
from matching.errors import ProfileError
from matching.markers import fold
from matching.ystr.loci import canonical_locus, loci

# A repeat count above this is a placeholder or a typo, not a Y allele: the longest allele the YHRD lists at
# any Yfiler Plus locus is 47 repeats (DYS518; data/CITATION.txt), so 60 leaves room for a rare long allele.
MAX_Y_REPEATS = 60
DEFAULT_MIN_LOCI = 12  # a policy, as the autosomal minimum is: fewer loci say too little about a line

Haplotype = dict[str, tuple[str, ...]]


class HaplotypeError(ProfileError):
    """A haplotype that cannot be stored: `code` says why (unknown_locus, bad_allele, ...), `locus` where."""

    def __init__(self, code: str, locus: str = "", detail: str = "") -> None:
        self.code, self.locus, self.detail = code, locus, detail
        super().__init__(f"{code}: {locus} {detail}".strip())


def _alleles(locus: str, value: object) -> list[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str) and "," in value:
        values: Sequence[object] = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, (str, int, float)):
        values = [value]
    elif isinstance(value, Sequence):
        values = value
    else:
        raise HaplotypeError("bad_allele", locus, str(value)[:20])
    out = []
    for v in values:
        try:
            allele = canonical_allele(v)
        except ValueError:
            raise HaplotypeError("bad_allele", locus, str(v)[:20]) from None
        if not 0 < tenths(allele) // 10 <= MAX_Y_REPEATS:
            raise HaplotypeError("implausible_allele", locus, allele)
        out.append(allele)
    return out


def _separate_copies(names: list[str]) -> bool:
    # DYS385a and DYS385b name the two copies of one locus; any other repeat names one locus twice.
    letters = [
        fold(n)[-1] if fold(n)[-1:] in ("A", "B") and not fold(n).endswith("/B") else "" for n in names
    ]
    return all(letters) and len(set(letters)) == len(letters)


def parse_haplotype(raw: Mapping[str, object], min_loci: int = DEFAULT_MIN_LOCI) -> Haplotype:
    """Return the canonical haplotype of `raw`, or raise HaplotypeError saying what to change.

    A single-copy locus takes one allele (the same allele twice is one); two different alleles there are a
    mixture or a duplication, refused. A multi-copy locus takes two alleles, given under one name or as its a
    and b copies; one allele means both copies carry it. An empty value leaves the locus untyped.
    """
    if not isinstance(raw, Mapping):
        raise HaplotypeError("bad_haplotype", "", "not an object of loci")
    given: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    for name, value in raw.items():
        try:
            locus = canonical_locus(str(name))
        except KeyError:
            raise HaplotypeError("unknown_locus", str(name)[:40]) from None
        if locus in names and not _separate_copies([*names[locus], str(name)]):
            raise HaplotypeError("locus_twice", locus, f"{names[locus][0]} / {name}")
        names.setdefault(locus, []).append(str(name))
        given.setdefault(locus, []).extend(_alleles(locus, value))
    haplotype: Haplotype = {}
    for locus, alleles in given.items():
        if not alleles:
            continue
        distinct = sorted(set(alleles), key=allele_sort_key)
        copies = loci()[locus].copies
        if copies == 1 and len(distinct) > 1:
            raise HaplotypeError("two_alleles", locus, ", ".join(distinct))
        if copies > 1 and len(alleles) > copies and len(distinct) > 1 or len(distinct) > copies:
            raise HaplotypeError("too_many_alleles", locus, ", ".join(alleles))
        pair = sorted(alleles, key=allele_sort_key) if len(alleles) == copies else distinct * copies
        haplotype[locus] = tuple(pair[:copies]) if copies > 1 else (distinct[0],)
    if len(haplotype) < min_loci:
        raise HaplotypeError("too_few_loci", "", f"{len(haplotype)} < {min_loci}")
    order = list(loci())
    return {locus: haplotype[locus] for locus in order if locus in haplotype}


def digest(haplotype: Haplotype) -> str:
    """Return a digest of a canonical haplotype, to tell a retry from a different haplotype."""
    body = json.dumps({k: list(v) for k, v in haplotype.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
