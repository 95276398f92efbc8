"""Vectorised kinship LRs: one child against very many candidate parents or couples (the matching service's scan).

Each person's genotype at a marker is stored as a small integer code: the index of the unordered genotype in the
locus's genotype list, with `untyped` (= the number of genotypes) for a missing marker. Codes are stored
marker-major, shape (markers, candidates), as uint16 (a locus of 35 alleles has 630 genotypes). Alleles are ranked
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

import numpy as np
import numpy.typing as npt

from matching.errors import FrequencyTableError
from matching.fast import Codes, FloatArray, IndexArray, sum_duo, sum_trio
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

    def encode(self, profiles: Sequence[Profile]) -> Codes:
        """Return the codes of many profiles, shape (markers, len(profiles)), untyped markers as `untyped`."""
        out = np.empty((len(self.markers), len(profiles)), dtype=CODE_DTYPE)
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
                mutation.matrix(encoding.loci[marker].locus) if mutation else None,
            )
            for row, marker in enumerate(encoding.markers)
            if (genotype := child.genotype(marker)) is not None
        ]
        self.rows: IndexArray = np.array([m.row for m in self.markers], dtype=np.int64)
        self.strides: IndexArray = np.array([m.codes.untyped + 1 for m in self.markers], dtype=np.int64)
        self._inconsistent: tuple[FloatArray, IndexArray] | None = None
        self.tables, self.offsets = self._tables(True, theta, False)

    def _tables(self, with_mutation: bool, theta: float, zero_only: bool) -> tuple[FloatArray, IndexArray]:
        """Return the per-marker tables (log10 LR, or 1 where H1 is impossible) concatenated, and their offsets."""
        tables = [
            self._table(m, m.mutation if with_mutation else None, theta, zero_only) for m in self.markers
        ]
        sizes = [t.size for t in tables]
        offsets = (
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if tables else np.zeros(0, np.int64)
        )
        flat = np.concatenate([t.ravel() for t in tables]) if tables else np.zeros(0)
        return np.ascontiguousarray(flat, dtype=np.float64), offsets

    def _inconsistent_tables(self) -> tuple[FloatArray, IndexArray]:
        if self._inconsistent is None:
            self._inconsistent = self._tables(False, 0.0, True)
        return self._inconsistent

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        raise NotImplementedError


def _ratio(h1: FloatArray, h2: FloatArray, zero_only: bool) -> FloatArray:
    """Return log10(h1 / h2), or with `zero_only` 1 where h1 is 0 (a Mendelian inconsistency) and 0 elsewhere."""
    if zero_only:
        flags: FloatArray = (h1 == 0).astype(np.float64)
        return flags
    with np.errstate(divide="ignore"):
        logs: FloatArray = np.log10(h1 / h2)
    return logs


def _hypotheses(
    name: str, typing: dict[str, Typing], marker: _ChildMarker, mutation: FloatArray | None, theta: float
) -> tuple[FloatArray, FloatArray]:
    rel = RELATIONSHIPS[name]
    h1 = pedigree_likelihood(rel.h1, typing, marker.p, mutation, theta)
    return h1, pedigree_likelihood(rel.h2, typing, marker.p, mutation, theta)


class DuoScorer(_ChildScorer):
    """One child against many alleged parents: `log10_lr(parent_codes)`."""

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        batch = GenotypeBatch(marker.codes.first, marker.codes.second)
        h1, h2 = _hypotheses("duo", {"parent": batch, "child": marker.child}, marker, mutation, theta)
        return np.append(_ratio(h1, h2, zero_only), 0.0)

    def log10_lr(self, parent_codes: Codes, *, use_numba: bool = True) -> FloatArray:
        """Return each candidate parent's combined log10 LR (shape (candidates,))."""
        return sum_duo(self.tables, self.offsets, self.rows, parent_codes, use_numba=use_numba)

    def inconsistent_counts(self, parent_codes: Codes) -> FloatArray:
        """Return each candidate's number of Mendel-inconsistent markers (as floats)."""
        tables, offsets = self._inconsistent_tables()
        return sum_duo(tables, offsets, self.rows, parent_codes)


class TrioScorer(_ChildScorer):
    """One child against many couples (reunite's central case): `log10_lr(father_codes, mother_codes)`.

    The table of a marker holds log10 LR for every (father, mother) genotype pair, untyped included. With theta = 0
    founders are independent and the LR factorises, LR = [t_F(c1) t_M(c2) + t_F(c2) t_M(c1)] / P(child), with
    t_X(x) the probability that X passes x (mutation included; an untyped parent passes x with probability
    sum_y p_y M[y, x]), so the table is one small matrix product; with theta > 0 it comes from the pedigree
    likelihood with both parents batch-typed. Both untyped: the marker counts 1, as in the per-case path.
    """

    def _table(
        self, marker: _ChildMarker, mutation: FloatArray | None, theta: float, zero_only: bool
    ) -> FloatArray:
        if theta == 0.0 and not zero_only:
            return factorised_trio_table(marker.codes, marker.child, mutation)
        batch = GenotypeBatch(marker.codes.first, marker.codes.second)
        n = marker.codes.untyped
        table = np.zeros((n + 1, n + 1))
        for where, typing in (
            ((slice(0, n), slice(0, n)), {"father": batch, "mother": batch}),
            ((n, slice(0, n)), {"mother": batch}),
            ((slice(0, n), n), {"father": batch}),
        ):
            table[where] = _ratio(
                *_hypotheses("trio_couple", {**typing, "child": marker.child}, marker, mutation, theta),
                zero_only,
            )
        return table

    def log10_lr(self, father_codes: Codes, mother_codes: Codes, *, use_numba: bool = True) -> FloatArray:
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

    def inconsistent_counts(self, father_codes: Codes, mother_codes: Codes) -> FloatArray:
        """Return each candidate couple's number of Mendel-inconsistent markers (as floats)."""
        tables, offsets = self._inconsistent_tables()
        return sum_trio(tables, offsets, self.strides, self.rows, father_codes, mother_codes)


def factorised_trio_table(
    codes: LocusCodes, child: tuple[int, int], mutation: FloatArray | None
) -> FloatArray:
    """Return the theta = 0 trio table log10 LR[father genotype, mother genotype] (last row/column: untyped)."""
    c1, c2 = child
    p = codes.locus.frequencies
    m = mutation if mutation is not None else np.eye(len(p))
    passes = np.vstack([0.5 * (m[codes.first] + m[codes.second]), p @ m])  # [genotype or untyped, allele]
    if c1 == c2:
        lr = np.outer(passes[:, c1], passes[:, c1]) / p[c1] ** 2
    else:
        lr = (np.outer(passes[:, c1], passes[:, c2]) + np.outer(passes[:, c2], passes[:, c1])) / (
            2 * p[c1] * p[c2]
        )
    lr[-1, -1] = 1.0
    with np.errstate(divide="ignore"):
        table: FloatArray = np.log10(lr)
    return table
