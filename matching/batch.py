"""Vectorised kinship LRs: one child against very many candidate parents or couples (the matching service's scan).

Each person's genotype at a marker is stored as a small integer code: the index of the unordered genotype in the
locus's genotype list, with `untyped` (= the number of genotypes) for a missing marker. Codes are stored
marker-major, shape (markers, candidates), as uint16 (a locus of 35 alleles has 630 genotypes); the index
keeps them one byte a marker where they fit (`matching.fast.Planes`), and every scan reads either. Alleles are ranked
by frequency and genotypes listed so that those of common alleles get small codes, which keeps the hot part of
each table small and in cache.

For a fixed child, every marker's log10 LR is tabulated over all candidate genotypes (and genotype pairs for a
couple) by the exact pedigree likelihood of `matching.likelihood`, so the scan is exact by construction, mutation
and theta included; a parent untyped at a marker is an untyped founder, as in the per-case path. The scan is then a
sum of table lookups (`matching.fast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.child_tables import Transmission
from matching.errors import FrequencyTableError
from matching.fast import (
    HAVE_NUMBA,
    Codes,
    FloatArray,
    IndexArray,
    ScanCodes,
    marker_loss,
    separable_trio_above,
    sum_above,
    sum_duo,
    sum_trio,
)
from matching.frequencies import FrequencyTable, Locus
from matching.likelihood import GenotypeBatch, Typing, pedigree_likelihood
from matching.mutation import MutationModel
from matching.profiles import Profile
from matching.relationships import RELATIONSHIPS

CODE_DTYPE = np.uint16


@dataclass(frozen=True, eq=False)
class LocusCodes:
    """The genotype list of one locus: code g is the genotype (alleles[first[g]], alleles[second[g]])."""

    locus: Locus
    first: npt.NDArray[np.intp]
    second: npt.NDArray[np.intp]
    codes: dict[tuple[int, int], int]

    @property
    def untyped(self) -> int:
        """Return the code of a person not typed at this marker."""
        return len(self.first)

    @classmethod
    def of(cls, locus: Locus) -> LocusCodes:
        """Return the genotype list of a locus, genotypes of common alleles first (colex order over ranks)."""
        by_rank = np.argsort(-locus.frequencies, kind="stable")
        first: list[int] = []
        second: list[int] = []
        codes: dict[tuple[int, int], int] = {}
        for r2 in range(len(by_rank)):
            for r1 in range(r2 + 1):
                a, b = sorted((int(by_rank[r1]), int(by_rank[r2])))
                codes[(a, b)] = len(first)
                first.append(a)
                second.append(b)
        return cls(locus, np.array(first, dtype=np.intp), np.array(second, dtype=np.intp), codes)

    def code(self, genotype: tuple[str, str] | None) -> int:
        """Return the code of a genotype (alleles in profile order), `untyped` for None."""
        if genotype is None:
            return self.untyped
        a, b = sorted(allele_indices(self.locus, genotype))
        return self.codes[(a, b)]


def allele_indices(locus: Locus, genotype: tuple[str, str]) -> tuple[int, int]:
    """Return a genotype's allele positions in the locus, or raise FrequencyTableError for an absent allele."""
    for allele in genotype:
        if allele not in locus.alleles:
            raise FrequencyTableError(
                f"marker {locus.marker}: allele {allele} is not in the table; extend the table first"
                " (FrequencyTable.with_alleles)"
            )
    return locus.index(genotype[0]), locus.index(genotype[1])


class GenotypeEncoding:
    """Genotype codes for every marker of a frequency table (codes are only valid with the same table)."""

    def __init__(self, table: FrequencyTable, markers: Sequence[str] | None = None) -> None:
        self.table = table
        self.markers = tuple(markers) if markers is not None else table.markers
        self.loci = {m: LocusCodes.of(table.locus(m)) for m in self.markers}
        self._matrices: dict[tuple[MutationModel, str], FloatArray] = {}
        # Tables that depend only on the encoding and the model (e.g. `family_scan.pair_table`), computed once.
        self.cache: dict[tuple[object, ...], FloatArray] = {}
        self._transmissions: dict[MutationModel | None, Transmission] = {}

    def transmission(self, mutation: MutationModel | None) -> Transmission:
        """Return every genotype's transmission probabilities under a model (`matching.child_tables`), computed once."""
        if mutation not in self._transmissions:
            self._transmissions[mutation] = Transmission.of(
                [
                    (
                        locus.locus.frequencies,
                        locus.first,
                        locus.second,
                        self.mutation_matrix(mutation, marker) if mutation else None,
                        genotype_frequencies(locus),
                    )
                    for marker, locus in self.loci.items()
                ]
            )
        return self._transmissions[mutation]

    def mutation_matrix(self, mutation: MutationModel, marker: str) -> FloatArray:
        """Return the mutation matrix of a marker, computed once per encoding (every child's tables reuse it)."""
        key = (mutation, marker)
        if key not in self._matrices:
            self._matrices[key] = mutation.matrix(self.loci[marker].locus)
        return self._matrices[key]

    @property
    def smallest_dtype(self) -> type[np.unsignedinteger[Any]]:
        """Return uint8 when every locus's codes, untyped included, fit in one byte (< 256), else uint16."""
        fits = all(locus.untyped < 256 for locus in self.loci.values())
        return np.uint8 if fits else np.uint16

    def encode(self, profiles: Sequence[Profile], dtype: type[np.unsignedinteger[Any]] = CODE_DTYPE) -> Codes:
        """Return the codes of many profiles, shape (markers, len(profiles)), untyped markers as `untyped`.

        uint16 by default; `dtype=np.uint8` (allowed when `smallest_dtype` is uint8, e.g. an encoding restricted to
        loci of at most 22 alleles) reads half the bytes: every scan accepts both.
        """
        if np.iinfo(dtype).max < max((locus.untyped for locus in self.loci.values()), default=0):
            raise ValueError(f"codes of these markers do not fit in {np.dtype(dtype).name}")
        out = np.empty((len(self.markers), len(profiles)), dtype=dtype)
        for i, marker in enumerate(self.markers):
            locus = self.loci[marker]
            out[i] = [locus.code(p.genotype(marker)) for p in profiles]
        return out


@dataclass(frozen=True, eq=False)
class _ChildMarker:
    """A marker the child is typed at: its row in the code arrays, genotype list, child alleles and mutation."""

    row: int
    codes: LocusCodes
    child: tuple[int, int]
    mutation: FloatArray | None

    @property
    def p(self) -> FloatArray:
        return self.codes.locus.frequencies


class _ChildScorer:
    """Per-marker log10 LR tables for one child, over the genotypes a candidate can have."""

    _duo = False  # a duo's tables (one parent) rather than a trio's (a couple)

    def __init__(
        self,
        encoding: GenotypeEncoding,
        child: Profile,
        mutation: MutationModel | None = None,
        theta: float = 0.0,
    ) -> None:
        self.encoding = encoding
        self.theta = theta
        self.markers = [
            _ChildMarker(
                row,
                encoding.loci[marker],
                allele_indices(encoding.loci[marker].locus, genotype),
                encoding.mutation_matrix(mutation, marker) if mutation else None,
            )
            for row, marker in enumerate(encoding.markers)
            if (genotype := child.genotype(marker)) is not None
        ]
        self.rows: IndexArray = np.array([m.row for m in self.markers], dtype=np.int64)
        self.strides: IndexArray = np.array([m.codes.untyped + 1 for m in self.markers], dtype=np.int64)
        self._inconsistent: tuple[FloatArray, IndexArray] | None = None
        self._order: IndexArray | None = None
        if theta == 0.0 and HAVE_NUMBA:  # the closed form, compiled (`matching.child_tables`)
            self.tables, self.offsets, losses = encoding.transmission(mutation).tables(
                self.rows,
                np.array([m.child[0] for m in self.markers], dtype=np.int64),
                np.array([m.child[1] for m in self.markers], dtype=np.int64),
                duo=self._duo,
            )
            self._order = np.argsort(-losses, kind="stable").astype(np.int64)
        else:
            self.tables, self.offsets = self._tables(True, theta, False)

    def _tables(self, with_mutation: bool, theta: float, zero_only: bool) -> tuple[FloatArray, IndexArray]:
        """Return the per-marker tables (log10 LR, or 1 where H1 is impossible) concatenated, and their offsets."""
        sizes = [self._size(m) for m in self.markers]
        offsets: IndexArray = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)[: len(sizes)]
        flat = np.empty(sum(sizes))
        for m, start, size in zip(self.markers, offsets, sizes, strict=True):
            table = self._table(m, m.mutation if with_mutation else None, theta, zero_only)
            flat[start : start + size] = table.ravel()
        return flat, offsets

    def _size(self, marker: _ChildMarker) -> int:
        raise NotImplementedError

    def _inconsistent_tables(self) -> tuple[FloatArray, IndexArray]:
        if self._inconsistent is None:
            self._inconsistent = self._tables(False, 0.0, True)
        return self._inconsistent

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        raise NotImplementedError

    def _loss(self, marker: _ChildMarker, table: FloatArray) -> float:
        """Return how much a random candidate loses on this marker against its best entry (`marker_loss`)."""
        raise NotImplementedError

    @property
    def order(self) -> IndexArray:
        """Return the markers (positions in `rows`) in the order the pruned scan tries them, most excluding first."""
        if self._order is None:
            ends = np.append(self.offsets[1:], len(self.tables))[: len(self.offsets)]
            losses = [
                self._loss(m, self.tables[a:z])
                for m, a, z in zip(self.markers, self.offsets, ends, strict=True)
            ]
            self._order = np.argsort(-np.array(losses), kind="stable").astype(np.int64)
        return self._order

    def scan(
        self, codes: ScanCodes, second: ScanCodes | None, log10_threshold: float, use_numba: bool
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the candidates (parents, or couples with the `second` codes) whose
        combined log10 LR is >= `log10_threshold`.

        Exactly the candidates and values of `log10_lr(...)` filtered by the threshold, found by the pruned scan
        (`matching.fast.sum_above`, markers tried in `order`); indices increase. Codes may be uint16, uint8 or
        planes.
        """
        return sum_above(
            self.tables,
            self.offsets,
            self.rows,
            codes,
            log10_threshold,
            pairs=None if second is None else (self.strides, second),
            order=self.order if use_numba else None,
            use_numba=use_numba,
        )


def _ratio(h1: FloatArray, h2: FloatArray, zero_only: bool) -> FloatArray:
    """Return log10(h1 / h2), or with `zero_only` 1 where h1 is 0 (a Mendelian inconsistency) and 0 elsewhere."""
    if zero_only:
        flags: FloatArray = (h1 == 0).astype(np.float64)
        return flags
    with np.errstate(divide="ignore"):
        logs: FloatArray = np.log10(h1 / h2)
    return logs


def _log_ratio_in_place(h1: FloatArray, h2: FloatArray) -> FloatArray:
    """Return log10(h1 / h2) written over h1 (a temporary of the caller): two passes, no new array."""
    np.divide(h1, h2, out=h1)
    with np.errstate(divide="ignore"):
        np.log10(h1, out=h1)
    return h1


class DuoScorer(_ChildScorer):
    """One child against many alleged parents: `log10_lr(parent_codes)`."""

    _duo = True

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        # A duo is a trio with the other parent untyped: the last row of the trio likelihoods.
        h1, h2 = trio_likelihoods(marker.codes, marker.child, mutation, theta, one_parent=True)
        return np.append(_ratio(h1, h2, zero_only), 0.0)

    def _size(self, marker: _ChildMarker) -> int:
        return marker.codes.untyped + 1

    def _loss(self, marker: _ChildMarker, table: FloatArray) -> float:
        freq = genotype_frequencies(marker.codes)
        return marker_loss(table[:-1], freq)

    def log10_lr(self, parent_codes: ScanCodes, *, use_numba: bool = True) -> FloatArray:
        """Return each candidate parent's combined log10 LR (shape (candidates,))."""
        return sum_duo(self.tables, self.offsets, self.rows, parent_codes, use_numba=use_numba)

    def above(
        self, parent_codes: ScanCodes, log10_threshold: float, *, use_numba: bool = True
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the candidates whose combined log10 LR is >= `log10_threshold` (see
        `_ChildScorer.scan`)."""
        return self.scan(parent_codes, None, log10_threshold, use_numba)

    def inconsistent_counts(self, parent_codes: ScanCodes) -> FloatArray:
        """Return each candidate's number of Mendel-inconsistent markers (as floats)."""
        tables, offsets = self._inconsistent_tables()
        return sum_duo(tables, offsets, self.rows, parent_codes)


class TrioScorer(_ChildScorer):
    """One child against many couples (reunite's central case): `log10_lr(father_codes, mother_codes)`.

    The table of a marker holds log10 LR for every (father, mother) genotype pair, untyped included, in closed
    form (`trio_likelihoods`): with theta = 0 the factorised LR [t_F(c1) t_M(c2) + t_F(c2) t_M(c1)] / P(child),
    t_X(x) the probability that X passes x (mutation included); with theta > 0 the same numerator over the
    Balding-Nichols probability of the child's alleles given the parents' four, a few broadcast numpy operations
    per marker (tested equal to the pedigree likelihood). Both untyped: the marker counts 1, as in the per-case
    path.
    """

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        h1, h2 = trio_likelihoods(marker.codes, marker.child, mutation, theta)
        table = _ratio(h1, h2, True) if zero_only else _log_ratio_in_place(h1, h2)
        table[-1, -1] = 0.0  # both parents untyped: the marker says nothing
        return table

    def log10_lr(
        self, father_codes: ScanCodes, mother_codes: ScanCodes, *, use_numba: bool = True
    ) -> FloatArray:
        """Return each candidate couple's combined log10 LR (shape (candidates,))."""
        return sum_trio(
            self.tables,
            self.offsets,
            self.strides,
            self.rows,
            father_codes,
            mother_codes,
            use_numba=use_numba,
        )

    def _size(self, marker: _ChildMarker) -> int:
        return (marker.codes.untyped + 1) ** 2

    def _loss(self, marker: _ChildMarker, table: FloatArray) -> float:
        freq = genotype_frequencies(marker.codes)
        g = len(freq)
        return marker_loss(table.reshape(g + 1, g + 1)[:g, :g], freq, freq)

    def above(
        self,
        father_codes: ScanCodes,
        mother_codes: ScanCodes,
        log10_threshold: float,
        *,
        use_numba: bool = True,
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the couples whose combined log10 LR is >= `log10_threshold` (see
        `_ChildScorer.scan`)."""
        return self.scan(father_codes, mother_codes, log10_threshold, use_numba)

    def inconsistent_counts(self, father_codes: ScanCodes, mother_codes: ScanCodes) -> FloatArray:
        """Return each candidate couple's number of Mendel-inconsistent markers (as floats)."""
        tables, offsets = self._inconsistent_tables()
        return sum_trio(tables, offsets, self.strides, self.rows, father_codes, mother_codes)


class SeparableTrioScorer:
    """One child against many couples with theta 0, by the separable scan (`matching.fast.separable_trio_above`):
    what a search runs. Same couples as `TrioScorer.above`, from O(G) vectors per marker instead of O(G^2) tables.

    With theta 0 a trio table is X[f] Y[m] + Y[f] X[m] (`matching.child_tables.Transmission.vectors`), so the
    child's per-marker data are two vectors of G + 1 entries (a few KB, in the first-level cache) rather than a
    (G + 1)^2 table (up to 3 MB); the scan's marker order and bounds come from the 2-D tables' losses and maxima,
    which depend on the child's genotype at the marker only and are computed once per genotype
    (`Transmission.trio_stats`). Where the linear products could overflow (`separable_trio_above` returns None),
    the 2-D scan of `TrioScorer` runs instead.
    """

    def __init__(
        self, encoding: GenotypeEncoding, child: Profile, mutation: MutationModel | None = None
    ) -> None:
        if not HAVE_NUMBA:
            raise RuntimeError("the separable scan is compiled: numba is required (TrioScorer without it)")
        self.encoding = encoding
        self.child = child
        self.mutation = mutation
        typed = [
            (row, allele_indices(encoding.loci[marker].locus, genotype))
            for row, marker in enumerate(encoding.markers)
            if (genotype := child.genotype(marker)) is not None
        ]
        self.rows: IndexArray = np.array([row for row, _ in typed], dtype=np.int64)
        c1 = np.array([a for _, (a, _) in typed], dtype=np.int64)
        c2 = np.array([b for _, (_, b) in typed], dtype=np.int64)
        transmission = encoding.transmission(mutation)
        self.vectors, self.offsets = transmission.vectors(self.rows, c1, c2)
        self.untyped: IndexArray = transmission.genotypes[self.rows].copy()
        losses, self.log10_maxima = transmission.trio_stats(self.rows, c1, c2)
        self.order: IndexArray = np.argsort(-losses, kind="stable").astype(np.int64)

    def above(
        self, father_codes: ScanCodes, mother_codes: ScanCodes, log10_threshold: float
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the couples whose LR may reach `log10_threshold`: every couple of
        `TrioScorer.above`, and perhaps a few within `matching.fast.PRUNE_MARGIN` below (the search recomputes
        each hit exactly); the LRs are close to the 2-D tables' sums, not bit-identical."""
        got = separable_trio_above(
            self.vectors, self.offsets, self.untyped, self.rows, father_codes, mother_codes, log10_threshold,
            self.log10_maxima, self.order,
        )  # fmt: skip
        if got is None:
            return TrioScorer(self.encoding, self.child, self.mutation).above(
                father_codes, mother_codes, log10_threshold
            )
        return got


def trio_scorer(
    encoding: GenotypeEncoding, child: Profile, mutation: MutationModel | None, theta: float
) -> SeparableTrioScorer | TrioScorer:
    """Return the scorer a search scans couples with: the separable scan with theta 0 (and numba), else the 2-D
    tables of `TrioScorer` (theta > 0 is not separable)."""
    if theta == 0.0 and HAVE_NUMBA:
        return SeparableTrioScorer(encoding, child, mutation)
    return TrioScorer(encoding, child, mutation, theta)


def genotype_frequencies(codes: LocusCodes) -> FloatArray:
    """Return each genotype's Hardy-Weinberg frequency (p_a^2, or 2 p_a p_b), in code order."""
    p = codes.locus.frequencies
    freq: FloatArray = p[codes.first] * p[codes.second] * np.where(codes.first == codes.second, 1.0, 2.0)
    return freq


def trio_likelihoods(
    codes: LocusCodes,
    child: tuple[int, int],
    mutation: FloatArray | None,
    theta: float,
    *,
    one_parent: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Return the trio likelihoods (H1, H2) of one child at one locus over every (father, mother) genotype pair.

    Both arrays have shape (G + 1, G + 1), G genotypes and the last row/column for an untyped parent, and are
    divided by the common factor P(parents' genotypes) (the founders' joint Balding-Nichols probability), so
    h1 / h2 is the LR of the pedigree path (`matching.likelihood` on `trio_couple`) in closed form:

    - H1 = P(F, M) T(C | F, M): the child's alleles are passed by the parents (T: each parent passes one of its
      alleles with probability 1/2, then M mutates it). H2 = P(F, M) P(C | F, M): under H2 the child is a founder
      too, and by exchangeability of the urn its two alleles are the 5th and 6th draws after the parents' four:
      P(c | n of the earlier draws are c) = (n theta + (1 - theta) p_c) / (1 + (j - 2) theta) for the j-th draw.
    - A parent untyped under H1 is a founder that passes one drawn allele x (the 3rd draw, after the typed parent's
      two), x mutated to the child's allele; under H2 it draws nothing, and the child's alleles are draws 3 and 4.

    With theta = 0 this is the factorised LR [t_F(c1) t_M(c2) + t_F(c2) t_M(c1)] / (2 p_c1 p_c2). Both parents
    untyped (the last entry) is returned as 1 / 1. With `one_parent` only the last row is returned (shape (G,)):
    the duo of a parent and the child, whose other parent is untyped.
    """
    p = codes.locus.frequencies
    m = mutation if mutation is not None else np.eye(len(p))
    g = codes.untyped
    c1, c2 = child
    het = c1 != c2
    count = np.zeros((g, len(p)))  # count[g, x]: how many of genotype g's alleles are x
    np.add.at(count, (np.arange(g), codes.first), 1.0)
    np.add.at(count, (np.arange(g), codes.second), 1.0)
    passes = 0.5 * (m[codes.first] + m[codes.second])  # P(a parent of genotype g passes x)
    drawn = ((theta * count + (1.0 - theta) * p) @ m) / (
        1.0 + theta
    )  # an untyped co-parent, given genotype g

    def urn(n1: FloatArray, n2: FloatArray, seen: int) -> FloatArray:
        """Return P(the next two draws are the child's alleles | n1, n2 of the `seen` earlier draws are c1, c2)."""
        first, second = 1.0 + (seen - 1) * theta, 1.0 + seen * theta
        q1 = n1 * theta + (1.0 - theta) * p[c1]
        if het:
            out: FloatArray = 2.0 * q1 * (n2 * theta + (1.0 - theta) * p[c2]) / (first * second)
        else:
            out = q1 * ((n1 + 1.0) * theta + (1.0 - theta) * p[c1]) / (first * second)
        return out

    def transmitted(a1: FloatArray, a2: FloatArray, b1: FloatArray, b2: FloatArray) -> FloatArray:
        """Return P(child | one side passes c1 with a1, c2 with a2, the other c1 with b1, c2 with b2)."""
        out: FloatArray = a1 * b2 + a2 * b1 if het else a1 * b1
        return out

    k1, k2 = count[:, c1], count[:, c2]
    one_h1 = transmitted(passes[:, c1], passes[:, c2], drawn[:, c1], drawn[:, c2])
    one_h2 = urn(k1, k2, 2)
    if one_parent:
        return one_h1, one_h2
    h1 = np.empty((g + 1, g + 1))
    # Both parents typed: a rank-2 (heterozygous child) or rank-1 product, one matrix multiplication.
    sides = passes[:, [c1, c2]] if het else passes[:, [c1]]
    np.matmul(sides, sides[:, ::-1].T, out=h1[:g, :g])
    h1[g, g] = 1.0
    if theta == 0.0:  # founders independent: P(child | parents) = P(child), the same for every pair
        h2 = np.full((g + 1, g + 1), urn(np.zeros(1), np.zeros(1), 4)[0])
        h2[g, g] = 1.0
    else:
        h2 = np.ones((g + 1, g + 1))
        h2[:g, :g] = urn(k1[:, None] + k1[None, :], k2[:, None] + k2[None, :], 4)
    h1[g, :g] = h1[:g, g] = one_h1
    h2[g, :g] = h2[:g, g] = one_h2
    return h1, h2


def pedigree_trio_table(
    codes: LocusCodes, child: tuple[int, int], mutation: FloatArray | None, theta: float
) -> FloatArray:
    """Return the trio log10 LR table of `trio_likelihoods` by the general pedigree likelihood (slow: seconds
    per locus with theta > 0). The reference that tests and the benchmark compare the closed form with."""
    batch = GenotypeBatch(codes.first, codes.second)
    rel = RELATIONSHIPS["trio_couple"]
    p = codes.locus.frequencies
    n = codes.untyped
    table = np.zeros((n + 1, n + 1))
    for where, typing in (
        ((slice(0, n), slice(0, n)), {"father": batch, "mother": batch}),
        ((n, slice(0, n)), {"mother": batch}),
        ((slice(0, n), n), {"father": batch}),
    ):
        both: dict[str, Typing] = {**typing, "child": child}
        h1 = pedigree_likelihood(rel.h1, both, p, mutation, theta)
        table[where] = _ratio(h1, pedigree_likelihood(rel.h2, both, p, mutation, theta), False)
    return table
