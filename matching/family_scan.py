"""Scans of the matching service that `matching.batch` does not have: a fixed family against every child, and a
fixed child against every relative of one pairwise relationship.

Both are per-marker log10 LR tables over the genotype codes of the batch side (`matching.batch` codes, `untyped`
scoring 0), built by the exact pedigree likelihood of `matching.likelihood` with the batch person typed by a
`GenotypeBatch`, mutation and theta included, and summed by the numba kernels of `matching.fast` (`sum_above`,
the exact pruned 1-D scan; `sum_duo`, the full sum). A marker where the fixed side cannot say anything (a trio
with neither parent typed) has no table, as in the per-case path. Genotypes with an allele the table lacks are left out of the tables (the
index stores them untyped); the exact per-pair recomputation includes them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.batch import GenotypeEncoding, LocusCodes
from matching.fast import Codes, FloatArray, IndexArray, sum_above, sum_duo
from matching.likelihood import GenotypeBatch, Typing, pedigree_likelihood
from matching.mutation import MutationModel
from matching.profiles import Genotype, Profile
from matching.relationships import RELATIONSHIPS

# The family role of a relative and the pairwise relationship it is tested by (the relative is person1, the elder).
RELATIVE_RELATIONSHIP = {
    "full_sibling": "full_siblings",
    "half_sibling": "half_siblings",
    "grandparent": "grandparent",
    "aunt_uncle": "avuncular",
}


def _indices(codes: LocusCodes, genotype: Genotype | None) -> tuple[int, int] | None:
    """Return a genotype's allele indices, or None when untyped or an allele is not in the table."""
    if genotype is None or genotype[0] not in codes.locus.alleles or genotype[1] not in codes.locus.alleles:
        return None
    return codes.locus.index(genotype[0]), codes.locus.index(genotype[1])


class _TableScorer:
    """Concatenated per-marker log10 LR tables over one batch person's genotype codes (last entry: untyped)."""

    def __init__(self, encoding: GenotypeEncoding, tables: list[tuple[int, FloatArray]]) -> None:
        self.encoding = encoding
        self.rows: IndexArray = np.array([row for row, _ in tables], dtype=np.int64)
        sizes = [t.size for _, t in tables]
        self.offsets: IndexArray = (
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if tables else np.zeros(0, np.int64)
        )
        flat = np.concatenate([t for _, t in tables]) if tables else np.zeros(0)
        self.tables: FloatArray = np.ascontiguousarray(flat, dtype=np.float64)

    def log10_lr(self, codes: Codes, *, use_numba: bool = True) -> FloatArray:
        """Return each batch person's combined log10 LR (shape (columns,))."""
        return sum_duo(self.tables, self.offsets, self.rows, codes, use_numba=use_numba)

    def above(
        self, codes: Codes, log10_threshold: float, *, use_numba: bool = True
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the columns reaching `log10_threshold`: the exact pruned scan."""
        return sum_above(self.tables, self.offsets, self.rows, codes, log10_threshold, use_numba=use_numba)


def _table(
    encoding: GenotypeEncoding,
    relationship: str,
    fixed: Mapping[str, Typing],
    batch_role: str,
    codes: LocusCodes,
    mutation: MutationModel | None,
    theta: float,
) -> FloatArray:
    rel = RELATIONSHIPS[relationship]
    p = codes.locus.frequencies
    m = encoding.mutation_matrix(mutation, codes.locus.marker) if mutation is not None else None
    typing = {**fixed, batch_role: GenotypeBatch(codes.first, codes.second)}
    h1 = pedigree_likelihood(rel.h1, typing, p, m, theta)
    h2 = pedigree_likelihood(rel.h2, typing, p, m, theta)
    with np.errstate(divide="ignore"):
        logs = np.log10(h1 / h2)
    return np.append(logs, 0.0)


class FamilyScorer(_TableScorer):
    """A fixed family (roles -> profiles of one relationship) against many children: `log10_lr(child_codes)`.

    `relationship` is "trio_couple" (roles father, mother), "duo" (role parent) or a pairwise relationship (role
    person1, the relative); the child takes the remaining role.
    """

    def __init__(
        self,
        encoding: GenotypeEncoding,
        relationship: str,
        family: Mapping[str, Profile],
        mutation: MutationModel | None = None,
        theta: float = 0.0,
    ) -> None:
        rel = RELATIONSHIPS[relationship]
        child_role = next(r for r in rel.roles if r not in family)
        tables = []
        for row, marker in enumerate(encoding.markers):
            codes = encoding.loci[marker]
            fixed = {
                r: g for r, p in family.items() if (g := _indices(codes, p.genotype(marker))) is not None
            }
            if not rel.typed_enough([*fixed, child_role]):
                continue
            tables.append((row, _table(encoding, relationship, fixed, child_role, codes, mutation, theta)))
        super().__init__(encoding, tables)


class PairScorer(_TableScorer):
    """A fixed child (person2) against many relatives (person1) of one pairwise relationship."""

    def __init__(
        self,
        encoding: GenotypeEncoding,
        relationship: str,
        child: Profile,
        mutation: MutationModel | None = None,
        theta: float = 0.0,
    ) -> None:
        tables = []
        for row, marker in enumerate(encoding.markers):
            codes = encoding.loci[marker]
            genotype = _indices(codes, child.genotype(marker))
            if genotype is None:
                continue
            tables.append(
                (
                    row,
                    _table(encoding, relationship, {"person2": genotype}, "person1", codes, mutation, theta),
                )
            )
        super().__init__(encoding, tables)
