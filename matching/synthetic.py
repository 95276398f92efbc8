"""Synthetic populations drawn from a frequency table: families of missing children, found children, the truth.

Pure numpy (no database): `reunite synth` writes what this draws into the database, and the recall benchmark
scores it in memory. A person's genotypes are allele indices into the table's loci, shape (persons, markers, 2),
uint8, markers in `FrequencyTable.markers` order; a child's slot 0 is the allele from the father, slot 1 from the
mother.

- People are drawn by the simulator (`matching.simulate.Simulator`: founders from the table's frequencies, a
  child's alleles one of each parent's, stepwise mutation to an allele the table lists), of which `Generator` is
  one: it adds the families, the found children and the truth.
- Mutation: each transmitted allele mutates with probability `mutation_rate` (default the rate the search assumes,
  0.002 per marker and generation, the order of the average autosomal STR rate; AABB Parentage Testing Standards
  annual reports, and Chen et al. 2019 on Chinese Han trios). `force_mutations=1` instead gives every found true
  child exactly one mutated marker, for the benchmark's "with mutation" runs.

Kits: most profiles are typed on a 20+ marker kit (Huaxia Platinum, the table's 23; PowerPlex 21, 20 of them),
some on Identifiler's 15 autosomal STRs (kit lists: /work/shared/data/kits, from Easykin and strvalidator).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.batch import CODE_DTYPE, GenotypeEncoding
from matching.errors import FrequencyTableError
from matching.fast import Codes
from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.search.settings import (
    DEFAULT_MUTATION_RATE as DEFAULT_MUTATION_RATE,  # the rate the search assumes
)
from matching.simulate import Alleles, BoolArray, IntArray, Simulator

IDENTIFILER = (
    "D8S1179", "D21S11", "D7S820", "CSF1PO", "D3S1358", "TH01", "D13S317", "D16S539", "D2S1338", "D19S433",
    "vWA", "TPOX", "D18S51", "D5S818", "FGA",
)  # fmt: skip
POWERPLEX_21 = (
    "D3S1358", "D1S1656", "D6S1043", "D13S317", "PentaE", "D16S539", "D18S51", "D2S1338", "CSF1PO", "PentaD",
    "TH01", "vWA", "D21S11", "D7S820", "D5S818", "TPOX", "D8S1179", "D12S391", "D19S433", "FGA",
)  # fmt: skip
HUAXIA_PLATINUM = "Huaxia Platinum"  # the 23 markers of the shipped table


class RelativeKind(enum.IntEnum):
    """Which other relative of a missing child is typed (besides the parents)."""

    NONE = 0
    FULL_SIBLING = 1
    GRANDPARENT = 2


class FoundSource(enum.IntEnum):
    """How a found child came to the database (sample sources 3, 4, 5)."""

    RESCUED = 0
    SUSPECTED_KIDNAPPED = 1
    UNKNOWN_IDENTITY = 2


@dataclass(frozen=True)
class Kit:
    name: str
    markers: tuple[str, ...]


def kits(table: FrequencyTable) -> tuple[Kit, ...]:
    """Return the kits synthetic profiles are typed on: the table's own markers, PowerPlex 21, Identifiler."""
    out = (
        Kit(HUAXIA_PLATINUM, table.markers),
        Kit("PowerPlex 21", POWERPLEX_21),
        Kit("Identifiler", IDENTIFILER),
    )
    for kit in out:
        missing = set(kit.markers) - set(table.markers)
        if missing:
            raise FrequencyTableError(
                f"kit {kit.name}: markers {', '.join(sorted(missing))} are not in the table"
            )
    return out


@dataclass(frozen=True)
class Config:
    """What to draw. Shares are of families (typing) or of found children (true ones, sources)."""

    families: int
    children: int
    true_share: float = (
        0.5  # found children who are the missing child of some family (at most one per family)
    )
    one_parent_share: float = 0.2  # families with only the father or only the mother typed
    relative_share: float = 0.1  # families with a typed full sibling or grandparent too
    kit_shares: tuple[float, float, float] = (
        0.6,
        0.25,
        0.15,
    )  # Huaxia (23), PowerPlex 21 (20), Identifiler (15)
    mutation_rate: float = DEFAULT_MUTATION_RATE
    force_mutations: int = 0  # if 1: every true found child has exactly one mutated marker (rate ignored)

    def __post_init__(self) -> None:
        if self.families < 0 or self.children < 0:
            raise ValueError("the numbers of families and children cannot be negative")
        for name in ("true_share", "one_parent_share", "relative_share", "mutation_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie between 0 and 1")
        if abs(sum(self.kit_shares) - 1.0) > 1e-9 or min(self.kit_shares) < 0:
            raise ValueError("the kit shares must be non-negative and sum to 1")

    @property
    def true_children(self) -> int:
        """Return how many found children are true children of a family."""
        return min(round(self.children * self.true_share), self.families)


@dataclass
class Families:
    """A chunk of families: rows [start, start + len) of the population."""

    start: int
    father: Alleles
    mother: Alleles
    child: Alleles  # the missing child, never typed (found, perhaps, among the found children)
    relative: Alleles  # the typed relative (zeros where none)
    father_typed: BoolArray
    mother_typed: BoolArray
    relative_kind: npt.NDArray[np.int8]
    child_male: BoolArray
    relative_male: BoolArray
    kit: npt.NDArray[np.int8]  # (families, 3): kit index of father, mother, relative

    def __len__(self) -> int:
        return len(self.father)


@dataclass
class Found:
    """A chunk of found children: rows [start, start + len) of the found children."""

    start: int
    genotypes: Alleles
    family: IntArray  # the family row of a true child, -1 for an unrelated child
    mutations: npt.NDArray[np.int8]  # mutated markers (0 for unrelated children)
    mutated_markers: list[tuple[int, ...]]  # marker positions that mutated, per child
    male: BoolArray
    source: npt.NDArray[np.int8]
    kit: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.genotypes)


@dataclass
class Generator(Simulator):
    """Draws a population chunk by chunk (so a million families never sit in memory at once).

    Iterate `families()` first, then `found()`: the true found children are the missing children of the families
    chosen at the start, copied (and mutated) as their chunk goes by. People are drawn by the `Simulator` it is.
    """

    table: FrequencyTable
    config: Config
    seed: int | None = None
    chunk: int = 10_000
    kits: tuple[Kit, ...] = field(init=False)

    def __post_init__(self) -> None:
        super().__init__(self.table, np.random.default_rng(self.seed))
        self.kits = kits(self.table)
        n_true = self.config.true_children
        true_rows = self.rng.choice(self.config.families, size=n_true, replace=False).astype(np.int64)
        order = self.rng.permutation(
            self.config.children
        )  # found children in random order, true ones mixed in
        self.found_family = np.full(self.config.children, -1, dtype=np.int64)
        self.found_family[order[:n_true]] = true_rows
        self.true_slots = dict(zip(true_rows.tolist(), order[:n_true].tolist(), strict=True))
        self._true = np.zeros((self.config.children, len(self.markers), 2), dtype=np.uint8)
        self._true_male = np.zeros(self.config.children, dtype=bool)
        self._families_done = False

    def _kit_choice(self, shape: tuple[int, ...]) -> npt.NDArray[np.int8]:
        return self.rng.choice(len(self.kits), size=shape, p=self.config.kit_shares).astype(np.int8)

    # chunks --------------------------------------------------------------------------------------------------
    def families(self) -> Iterator[Families]:
        """Yield the families chunk by chunk."""
        cfg = self.config
        for start in range(0, cfg.families, self.chunk):
            n = min(self.chunk, cfg.families - start)
            father, mother = self.founders(n), self.founders(n)
            relative_kind = np.zeros(n, dtype=np.int8)
            has_relative = self.rng.random(n) < cfg.relative_share
            relative_kind[has_relative] = np.where(
                self.rng.random(int(has_relative.sum())) < 0.5,
                RelativeKind.FULL_SIBLING,
                RelativeKind.GRANDPARENT,
            )
            relative = np.zeros_like(father)
            grand = np.flatnonzero(relative_kind == RelativeKind.GRANDPARENT)
            if grand.size:  # the father is the child of the typed grandparent and an untyped grandmother
                grandparent = self.founders(grand.size)
                father[grand], _ = self.offspring(grandparent, self.founders(grand.size), cfg.mutation_rate)
                relative[grand] = grandparent
            child, mutated = self.offspring(father, mother, 0.0)
            sibling = np.flatnonzero(relative_kind == RelativeKind.FULL_SIBLING)
            if sibling.size:
                relative[sibling], _ = self.offspring(father[sibling], mother[sibling], cfg.mutation_rate)
            one_parent = self.rng.random(n) < cfg.one_parent_share
            father_only = self.rng.random(n) < 0.5
            father_typed = ~one_parent | father_only
            mother_typed = ~one_parent | ~father_only
            child_male = self.rng.random(n) < 0.5
            self._keep_true(start, child, father, mother, child_male)
            yield Families(
                start, father, mother, child, relative, father_typed, mother_typed, relative_kind, child_male,
                self.rng.random(n) < 0.5, self._kit_choice((n, 3)),
            )  # fmt: skip
        self._families_done = True

    def _keep_true(
        self, start: int, child: Alleles, father: Alleles, mother: Alleles, male: BoolArray
    ) -> None:
        for row in range(len(child)):
            slot = self.true_slots.get(start + row)
            if slot is not None:
                self._true[slot] = child[row]
                self._true_male[slot] = male[row]

    def found(self) -> Iterator[Found]:
        """Yield the found children chunk by chunk (after `families()` has run to the end)."""
        if not self._families_done and self.config.families:
            raise RuntimeError("draw the families first: the true found children are their missing children")
        cfg = self.config
        for start in range(0, cfg.children, self.chunk):
            n = min(self.chunk, cfg.children - start)
            family = self.found_family[start : start + n]
            genotypes = self.founders(n)
            male = self.rng.random(n) < 0.5
            true = np.flatnonzero(family >= 0)
            mutated = np.zeros((n, len(self.markers)), dtype=bool)
            if true.size:
                genotypes[true] = self._true[start + true]
                male[true] = self._true_male[start + true]
                sub = genotypes[true]
                if cfg.force_mutations:
                    mutated[true] = self.force_one_mutation(sub)
                elif cfg.mutation_rate > 0:  # each of the child's two transmissions may have mutated
                    mutated[true] = self.mutate_transmissions(sub, cfg.mutation_rate)
                genotypes[true] = sub
            yield Found(
                start, genotypes, family.copy(), mutated.sum(axis=1).astype(np.int8),
                [tuple(np.flatnonzero(row).tolist()) for row in mutated], male,
                self.rng.choice(len(FoundSource), size=n).astype(np.int8), self._kit_choice((n,)),
            )  # fmt: skip


# reading what was drawn ----------------------------------------------------------------------------------------
def genotype_dicts(
    table: FrequencyTable, genotypes: Alleles, markers: Sequence[str]
) -> list[dict[str, list[str]]]:
    """Return each person's {marker: [allele, allele]} on `markers` (alleles by repeat number, as labs write)."""
    positions = [table.markers.index(m) for m in markers]
    names = [table.locus(m).alleles for m in markers]
    lo = np.minimum(genotypes[:, positions, 0], genotypes[:, positions, 1]).tolist()
    hi = np.maximum(genotypes[:, positions, 0], genotypes[:, positions, 1]).tolist()
    return [
        {m: [al[a], al[b]] for m, al, a, b in zip(markers, names, row_lo, row_hi, strict=True)}
        for row_lo, row_hi in zip(lo, hi, strict=True)
    ]


def profile(table: FrequencyTable, genotypes: Alleles, markers: Sequence[str]) -> Profile:
    """Return one person's (genotypes shape (markers, 2)) Profile on `markers`."""
    raw = genotype_dicts(table, genotypes[None], markers)[0]
    return Profile({m: (g[0], g[1]) for m, g in raw.items()})


def encode(encoding: GenotypeEncoding, genotypes: Alleles, typed: Mapping[str, bool] | None = None) -> Codes:
    """Return the batch codes (markers, persons) of many people; markers not `typed` get the untyped code."""
    table_markers = encoding.table.markers
    out = np.empty((len(encoding.markers), len(genotypes)), dtype=CODE_DTYPE)
    for row, marker in enumerate(encoding.markers):
        locus = encoding.loci[marker]
        if typed is not None and not typed.get(marker, False):
            out[row] = locus.untyped
            continue
        k = len(locus.locus.alleles)
        lookup = np.empty((k, k), dtype=CODE_DTYPE)
        for (a, b), code in locus.codes.items():
            lookup[a, b] = lookup[b, a] = code
        i = table_markers.index(marker)
        out[row] = lookup[genotypes[:, i, 0], genotypes[:, i, 1]]
    return out


def mendel_inconsistent(child: Alleles, father: Alleles | None, mother: Alleles | None) -> BoolArray:
    """Return (persons, markers): where the child cannot have its genotype from the typed parent(s) without mutation."""
    if father is None and mother is None:
        return np.zeros(child.shape[:2], dtype=bool)
    c0, c1 = child[..., 0, None], child[..., 1, None]

    def has(parent: Alleles, allele: npt.NDArray[np.uint8]) -> BoolArray:
        return np.asarray((parent == allele).any(axis=-1))

    if father is None or mother is None:
        parent = father if father is not None else mother
        assert parent is not None
        return ~(has(parent, c0) | has(parent, c1))
    ok = (has(father, c0) & has(mother, c1)) | (has(father, c1) & has(mother, c0))
    return ~ok
