"""The one genotype simulator: unrelated people drawn from a frequency table, their children, mutation.

`Simulator` draws people as allele indices into the table's loci, shape (persons, markers, 2), uint8, markers in
the simulator's order (the table's by default); a child's slot 0 is the allele from the father, slot 1 from the
mother. `matching.synthetic` draws whole populations (families, found children, kits) with it.

- Founders draw both alleles of each marker independently from the table's frequencies (Hardy-Weinberg, theta 0).
- A child gets one allele of each parent, chosen with probability 1/2, at every marker independently.
- Mutation: a transmitted allele mutates by one repeat up or down (stepwise, the single-step kind that makes up
  about 90% of observed mutations: Brinkmann et al. 1998, see matching.search), to the allele the table lists in the
  same decimal group (9 -> 10, 9.3 -> 10.3); where the table has none in the direction drawn, the other direction;
  where it has neither, the allele does not mutate.

The functions on `Profile`s serve tests and benchmarks that want a few people: `random_profile`,
`random_profiles`, `child_of` (a marker is typed in the child only where both parents are typed; `keep` drops
markers to imitate a smaller kit) and `restrict`. Relatives follow from these: a full sibling is another child of
the same parents, a grandchild a child of a child.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
import numpy.typing as npt

from matching.alleles import allele_sort_key, tenths
from matching.frequencies import FrequencyTable
from matching.profiles import Genotype, Profile

Alleles = npt.NDArray[np.uint8]  # (persons, markers, 2) allele indices
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Simulator:
    """Draws founders and children as allele indices, on `markers` (default: the table's), with `rng`."""

    def __init__(
        self, table: FrequencyTable, rng: np.random.Generator, markers: Sequence[str] | None = None
    ) -> None:
        self.table = table
        self.rng = rng
        self.markers: tuple[str, ...] = tuple(markers) if markers is not None else table.markers
        self._cdf = [np.cumsum(table.locus(m).frequencies) for m in self.markers]

    @cached_property
    def _steps(self) -> list[tuple[IntArray, IntArray]]:
        return [step_neighbours(self.table.locus(m).alleles) for m in self.markers]

    def founders(self, n: int) -> Alleles:
        """Return n unrelated people drawn from the table (Hardy-Weinberg)."""
        out = np.empty((n, len(self.markers), 2), dtype=np.uint8)
        for i, cdf in enumerate(self._cdf):
            u = self.rng.random((n, 2)) * cdf[-1]
            out[:, i, :] = np.minimum(np.searchsorted(cdf, u), len(cdf) - 1)
        return out

    def offspring(self, father: Alleles, mother: Alleles, rate: float) -> tuple[Alleles, BoolArray]:
        """Return children of the couples (slot 0 from the father) and which markers mutated, at `rate`."""
        n, m, _ = father.shape
        rows = np.arange(n)[:, None]
        cols = np.arange(m)[None, :]
        child = np.empty_like(father)
        child[:, :, 0] = father[rows, cols, self.rng.integers(0, 2, (n, m))]
        child[:, :, 1] = mother[rows, cols, self.rng.integers(0, 2, (n, m))]
        return child, self.mutate_transmissions(child, rate) if rate > 0 else np.zeros((n, m), dtype=bool)

    def mutate_transmissions(self, child: Alleles, rate: float) -> BoolArray:
        """Mutate each of the children's two transmitted alleles in place with probability `rate`; return where."""
        mutated = np.zeros(child.shape[:2], dtype=bool)
        for slot in (0, 1):
            hit = self.rng.random(child.shape[:2]) < rate
            mutated |= self.mutate(child, hit, slot)
        return mutated

    def mutate(self, child: Alleles, hit: BoolArray, slot: int) -> BoolArray:
        """Step the alleles of `slot` one repeat where `hit`; return where a mutation happened."""
        done = np.zeros_like(hit)
        for i, (up_of, down_of) in enumerate(self._steps):
            who = np.flatnonzero(hit[:, i])
            if not who.size:
                continue
            new = stepped(
                up_of, down_of, child[who, i, slot].astype(np.int64), self.rng.random(who.size) < 0.5
            )
            ok = new >= 0
            child[who[ok], i, slot] = new[ok]
            done[who[ok], i] = True
        return done

    def force_one_mutation(self, child: Alleles, positions: Sequence[int] | None = None) -> BoolArray:
        """Mutate exactly one marker of each child in place (among `positions`, default all), in a random
        parent's allele; return where the mutations are."""
        n, m, _ = child.shape
        allowed = np.asarray(positions if positions is not None else range(m), dtype=np.int64)
        mutated = np.zeros((n, m), dtype=bool)
        todo = np.arange(n)
        for _ in range(100):
            if not todo.size:
                break
            hit = np.zeros((n, m), dtype=bool)
            hit[todo, allowed[self.rng.integers(0, len(allowed), todo.size)]] = True
            done = self.mutate(child, hit, int(self.rng.integers(0, 2)))
            mutated |= done
            todo = todo[~done[todo].any(axis=1)]
        return mutated

    def profiles(self, genotypes: Alleles) -> list[Profile]:
        """Return the drawn people (allele indices on this simulator's markers) as Profiles."""
        n = len(genotypes)
        columns = []
        for i, marker in enumerate(self.markers):
            alleles = self.table.locus(marker).alleles  # in repeat order, so the lower index comes first
            low = np.minimum(genotypes[:, i, 0], genotypes[:, i, 1]).tolist()
            high = np.maximum(genotypes[:, i, 0], genotypes[:, i, 1]).tolist()
            names = {(a, b): (alleles[a], alleles[b]) for a, b in set(zip(low, high, strict=True))}
            columns.append((marker, [names[g] for g in zip(low, high, strict=True)]))
        return [Profile({marker: values[k] for marker, values in columns}) for k in range(n)]


def step_neighbours(alleles: Sequence[str]) -> tuple[IntArray, IntArray]:
    """Return the index of each allele's one-repeat-up and -down neighbour in its decimal group (-1: none)."""
    where = {tenths(a): i for i, a in enumerate(alleles)}
    up_of = np.array([where.get(tenths(a) + 10, -1) for a in alleles], dtype=np.int64)
    down_of = np.array([where.get(tenths(a) - 10, -1) for a in alleles], dtype=np.int64)
    return up_of, down_of


def stepped(up_of: IntArray, down_of: IntArray, old: IntArray, up: BoolArray) -> IntArray:
    """Return the alleles `old` mutate to, one repeat up where `up` (else down), the other way where that
    neighbour is missing; -1 where there is neither."""
    first = np.where(up, up_of[old], down_of[old])
    other = np.where(up, down_of[old], up_of[old])
    return np.where(first >= 0, first, other)


def random_profile(
    table: FrequencyTable,
    rng: np.random.Generator,
    markers: Iterable[str] | None = None,
    sex: str | None = None,
) -> Profile:
    """Return a profile of an unrelated person: two alleles per marker drawn from the table's frequencies.

    With `sex` ("female" or "male") the profile carries Amelogenin X,X or X,Y.
    """
    (drawn,) = random_profiles(table, rng, 1, markers)
    return Profile(genotypes=drawn.genotypes, other=_amelogenin(sex))


def random_profiles(
    table: FrequencyTable, rng: np.random.Generator, n: int, markers: Iterable[str] | None = None
) -> list[Profile]:
    """Return `n` unrelated profiles (the simulator's founders)."""
    simulator = Simulator(table, rng, None if markers is None else list(markers))
    return simulator.profiles(simulator.founders(n))


def _amelogenin(sex: str | None) -> dict[str, tuple[str, ...]]:
    if sex == "female":
        return {"Amelogenin": ("X", "X")}
    if sex == "male":
        return {"Amelogenin": ("X", "Y")}
    return {}


def _mutated(table: FrequencyTable, marker: str, allele: str, rng: np.random.Generator) -> str:
    up = rng.random() < 0.5
    alleles = table.locus(marker).alleles
    if allele not in alleles:
        return allele
    (new,) = stepped(*step_neighbours(alleles), np.array([alleles.index(allele)]), np.array([up])).tolist()
    return alleles[new] if new >= 0 else allele


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

    Profiles may be typed on any markers, with alleles the table lacks (which never mutate). Mutation (the
    simulator's rule, probability `mutation_rate` per transmitted allele) needs `table`.
    """
    wanted = set(keep) if keep is not None else None
    genotypes: dict[str, Genotype] = {}
    for marker, paternal in father.genotypes.items():
        maternal = mother.genotype(marker)
        if maternal is None or (wanted is not None and marker not in wanted):
            continue
        alleles = [paternal[int(rng.integers(2))], maternal[int(rng.integers(2))]]
        if mutation_rate > 0.0 and table is not None and marker in table.loci:
            alleles = [
                _mutated(table, marker, a, rng) if rng.random() < mutation_rate else a for a in alleles
            ]
        first, second = sorted(alleles, key=allele_sort_key)
        genotypes[marker] = (first, second)
    return Profile(genotypes=genotypes, other=_amelogenin(sex))


def restrict(profile: Profile, markers: Iterable[str]) -> Profile:
    """Return the profile typed only at `markers` (a smaller kit), Amelogenin kept."""
    wanted = set(markers)
    return Profile({m: g for m, g in profile.genotypes.items() if m in wanted}, dict(profile.other))
