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
from matching.pedigree import Pedigree
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


class _ChildScorer:
    """Per-marker log10 LR tables for one child, for one relationship's candidate roles."""

    def __init__(
        self, encoding: GenotypeEncoding, child: Profile, mutation: MutationModel | None, theta: float
    ) -> None:
        self.encoding = encoding
        rows, tables, inconsistent = [], [], []
        for row, marker in enumerate(encoding.markers):
            genotype = child.genotype(marker)
            if genotype is None:
                continue
            codes = encoding.loci[marker]
            locus = codes.locus
            c = allele_indices(locus, genotype)
            m = mutation.matrix(locus) if mutation else None
            rows.append(row)
            tables.append(self._table(codes, c, m, theta, locus.frequencies))
            inconsistent.append(self._table(codes, c, None, 0.0, locus.frequencies, zero_only=True))
        self.rows: IndexArray = np.array(rows, dtype=np.int64)
        self.tables, self.offsets = _concatenate(tables)
        self.inconsistent_tables, _ = _concatenate(inconsistent)
        self.strides: IndexArray = np.array([t.shape[-1] for t in tables], dtype=np.int64)

    def _table(
        self,
        codes: LocusCodes,
        child: tuple[int, int],
        mutation: FloatArray | None,
        theta: float,
        p: FloatArray,
        zero_only: bool = False,
    ) -> FloatArray:
        raise NotImplementedError


def _concatenate(tables: list[FloatArray]) -> tuple[FloatArray, IndexArray]:
    sizes = [t.size for t in tables]
    offsets = (
        np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if tables else np.zeros(0, np.int64)
    )
    flat = np.concatenate([t.ravel() for t in tables]) if tables else np.zeros(0)
    return np.ascontiguousarray(flat, dtype=np.float64), offsets


def _log10_ratio(h1: FloatArray, h2: FloatArray, zero_only: bool) -> FloatArray:
    if zero_only:
        flags: FloatArray = (h1 == 0).astype(np.float64)
        return flags
    with np.errstate(divide="ignore"):
        logs: FloatArray = np.log10(h1 / h2)
    return logs


def _lr(
    pedigree: Pedigree,
    h2: Pedigree,
    typing: dict[str, Typing],
    p: FloatArray,
    m: FloatArray | None,
    theta: float,
) -> tuple[FloatArray, FloatArray]:
    return pedigree_likelihood(pedigree, typing, p, m, theta), pedigree_likelihood(h2, typing, p, m, theta)


class DuoScorer(_ChildScorer):
    """One child against many alleged parents: `log10_lr(parent_codes)`."""

    relationship = RELATIONSHIPS["duo"]

    def _table(
        self,
        codes: LocusCodes,
        child: tuple[int, int],
        mutation: FloatArray | None,
        theta: float,
        p: FloatArray,
        zero_only: bool = False,
    ) -> FloatArray:
        batch = GenotypeBatch(codes.first, codes.second)
        rel = self.relationship
        h1, h2 = _lr(rel.h1, rel.h2, {"parent": batch, "child": child}, p, mutation, theta)
        return np.append(_log10_ratio(h1, h2, zero_only), 0.0)

    def log10_lr(self, parent_codes: Codes, *, use_numba: bool = True) -> FloatArray:
        """Return each candidate parent's combined log10 LR (shape (candidates,))."""
        return sum_duo(self.tables, self.offsets, self.rows, parent_codes, use_numba=use_numba)

    def inconsistent_counts(self, parent_codes: Codes) -> FloatArray:
        """Return each candidate's number of Mendel-inconsistent markers (as floats)."""
        return sum_duo(self.inconsistent_tables, self.offsets, self.rows, parent_codes)


class TrioScorer(_ChildScorer):
    """One child against many couples (reunite's central case): `log10_lr(father_codes, mother_codes)`."""

    relationship = RELATIONSHIPS["trio_couple"]

    def _table(
        self,
        codes: LocusCodes,
        child: tuple[int, int],
        mutation: FloatArray | None,
        theta: float,
        p: FloatArray,
        zero_only: bool = False,
    ) -> FloatArray:
        batch = GenotypeBatch(codes.first, codes.second)
        rel = self.relationship
        n = codes.untyped
        table = np.zeros((n + 1, n + 1))
        both = _lr(rel.h1, rel.h2, {"father": batch, "mother": batch, "child": child}, p, mutation, theta)
        table[:n, :n] = _log10_ratio(*both, zero_only)
        no_father = _lr(rel.h1, rel.h2, {"mother": batch, "child": child}, p, mutation, theta)
        table[n, :n] = _log10_ratio(*no_father, zero_only)
        no_mother = _lr(rel.h1, rel.h2, {"father": batch, "child": child}, p, mutation, theta)
        table[:n, n] = _log10_ratio(*no_mother, zero_only)
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
        return sum_trio(
            self.inconsistent_tables, self.offsets, self.strides, self.rows, father_codes, mother_codes
        )
