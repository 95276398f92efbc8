"""Simulated profiles for tests, benchmarks and demos: unrelated people drawn from a frequency table, and children.

`random_profile` draws each marker's two alleles independently from the table (Hardy-Weinberg, theta 0);
`child_of` passes one allele of each parent at random, each allele mutating with probability `mutation_rate` by one
repeat up or down (stepwise, the common kind: Brinkmann et al. 1998, see matching.search) when the table has the
allele one step away. A marker is typed in the child only where both parents are typed; `keep` drops markers to
imitate a smaller kit. Relatives follow from these two: a full sibling is another child of the same parents, a
grandchild a child of a child.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from matching.alleles import allele_sort_key, tenths
from matching.frequencies import FrequencyTable
from matching.profiles import Genotype, Profile


def _genotype(a: str, b: str) -> Genotype:
    first, second = sorted((a, b), key=allele_sort_key)
    return (first, second)


def random_profile(
    table: FrequencyTable,
    rng: np.random.Generator,
    markers: Iterable[str] | None = None,
    sex: str | None = None,
) -> Profile:
    """Return a profile of an unrelated person: two alleles per marker drawn from the table's frequencies.

    With `sex` ("female" or "male") the profile carries Amelogenin X,X or X,Y.
    """
    genotypes: dict[str, Genotype] = {}
    for marker in markers if markers is not None else table.markers:
        locus = table.locus(marker)
        a, b = rng.choice(len(locus.alleles), size=2, p=locus.frequencies)
        genotypes[marker] = _genotype(locus.alleles[a], locus.alleles[b])
    return Profile(genotypes=genotypes, other=_amelogenin(sex))


def random_profiles(
    table: FrequencyTable, rng: np.random.Generator, n: int, markers: Iterable[str] | None = None
) -> list[Profile]:
    """Return `n` unrelated profiles at once (as `random_profile`, drawn marker by marker for speed)."""
    columns = []
    for marker in markers if markers is not None else table.markers:
        locus = table.locus(marker)
        genotypes = {}
        draws = rng.choice(len(locus.alleles), size=(n, 2), p=locus.frequencies)
        low, high = np.minimum(draws[:, 0], draws[:, 1]), np.maximum(draws[:, 0], draws[:, 1])
        for a, b in set(zip(low.tolist(), high.tolist(), strict=True)):
            genotypes[(a, b)] = (locus.alleles[a], locus.alleles[b])  # table alleles are in repeat order
        columns.append((marker, [genotypes[g] for g in zip(low.tolist(), high.tolist(), strict=True)]))
    return [Profile({marker: values[i] for marker, values in columns}) for i in range(n)]


def _amelogenin(sex: str | None) -> dict[str, tuple[str, ...]]:
    if sex == "female":
        return {"Amelogenin": ("X", "X")}
    if sex == "male":
        return {"Amelogenin": ("X", "Y")}
    return {}


def _mutate(table: FrequencyTable, marker: str, allele: str, rng: np.random.Generator) -> str:
    step = 10 if rng.random() < 0.5 else -10
    target = tenths(allele) + step
    for candidate in table.locus(marker).alleles:
        if tenths(candidate) == target:
            return candidate
    return allele


def child_of(
    father: Profile,
    mother: Profile,
    rng: np.random.Generator,
    mutation_rate: float = 0.0,
    *,
    table: FrequencyTable | None = None,
    keep: Iterable[str] | None = None,
    sex: str | None = None,
) -> Profile:
    """Return a child of two profiles on the markers both are typed at (and in `keep`, if given).

    Mutation (one repeat up or down, probability `mutation_rate` per transmitted allele) needs `table`, to keep
    the mutated allele one the table knows.
    """
    wanted = set(keep) if keep is not None else None
    genotypes: dict[str, Genotype] = {}
    for marker, paternal in father.genotypes.items():
        maternal = mother.genotype(marker)
        if maternal is None or (wanted is not None and marker not in wanted):
            continue
        alleles = [paternal[int(rng.integers(2))], maternal[int(rng.integers(2))]]
        if mutation_rate > 0.0 and table is not None and marker in table.loci:
            alleles = [_mutate(table, marker, a, rng) if rng.random() < mutation_rate else a for a in alleles]
        genotypes[marker] = _genotype(alleles[0], alleles[1])
    return Profile(genotypes=genotypes, other=_amelogenin(sex))


def restrict(profile: Profile, markers: Iterable[str]) -> Profile:
    """Return the profile typed only at `markers` (a smaller kit), Amelogenin kept."""
    wanted = set(markers)
    return Profile({m: g for m, g in profile.genotypes.items() if m in wanted}, dict(profile.other))
