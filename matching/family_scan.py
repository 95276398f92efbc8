"""Scans of the matching service that `matching.batch` does not have: a fixed family against every child, and a
fixed child against every relative of one pairwise relationship.

Both are per-marker log10 LR tables over the genotype codes of the batch side (`matching.batch` codes, `untyped`
scoring 0), summed by the numba kernels of `matching.fast` (`sum_above`, the exact pruned 1-D scan; `sum_duo`, the
full sum). No table is built by the general pedigree likelihood per genotype:

- a couple or one parent against every child: the closed form of `matching.batch.trio_likelihoods` turned round
  (`family_trio_likelihoods`): the parents fixed, the child's genotype the batch axis, mutation and theta included;
- a relative against every child, and a child against every relative: one row or column of the relationship's
  pair table (`pair_table`), the log10 LR of every (person1, person2) genotype pair of a locus. The LR of a pairwise
  relationship depends only on the two genotypes (and the table, mutation model and theta), so the pair table is
  computed once per encoding, relationship and locus by `matching.likelihood.pedigree_likelihood` with both persons
  batch-typed, and cached; a search then only copies a row.

A marker where the fixed side cannot say anything (a trio with neither parent typed) has no table, as in the
per-case path. Genotypes with an allele the table lacks are left out of the tables (the index stores them
untyped); the exact per-pair recomputation includes them. `pedigree_family_table` is the previous path (the
pedigree likelihood with the child batch-typed), kept as the reference the tests and the benchmark compare with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matching.batch import GenotypeEncoding, LocusCodes
from matching.fast import FloatArray, IndexArray, ScanCodes, sum_above, sum_duo
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
_PARENT_RELATIONSHIPS = ("trio_couple", "duo")


def genotype_indices(codes: LocusCodes, genotype: Genotype | None) -> tuple[int, int] | None:
    """Return a genotype's allele indices, or None when untyped or an allele is not in the table."""
    if genotype is None or genotype[0] not in codes.locus.alleles or genotype[1] not in codes.locus.alleles:
        return None
    return codes.locus.index(genotype[0]), codes.locus.index(genotype[1])


class TableScorer:
    """Concatenated per-marker log10 LR tables over one batch person's genotype codes (last entry: untyped), summed
    by the kernels of `matching.fast`: the base of every family-side scorer (here and `matching.joint`)."""

    def __init__(self, encoding: GenotypeEncoding, tables: list[tuple[int, FloatArray]]) -> None:
        self.encoding = encoding
        self.rows: IndexArray = np.array([row for row, _ in tables], dtype=np.int64)
        sizes = [t.size for _, t in tables]
        self.offsets: IndexArray = (
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if tables else np.zeros(0, np.int64)
        )
        flat = np.concatenate([t for _, t in tables]) if tables else np.zeros(0)
        self.tables: FloatArray = np.ascontiguousarray(flat, dtype=np.float64)

    def log10_lr(self, codes: ScanCodes, *, use_numba: bool = True) -> FloatArray:
        """Return each batch person's combined log10 LR (shape (columns,))."""
        return sum_duo(self.tables, self.offsets, self.rows, codes, use_numba=use_numba)

    def above(
        self, codes: ScanCodes, log10_threshold: float, *, use_numba: bool = True
    ) -> tuple[IndexArray, FloatArray]:
        """Return (indices, log10 LRs) of the columns reaching `log10_threshold`: the exact pruned scan."""
        return sum_above(self.tables, self.offsets, self.rows, codes, log10_threshold, use_numba=use_numba)


def family_trio_likelihoods(
    codes: LocusCodes,
    parents: Sequence[tuple[int, int]],
    mutation: FloatArray | None,
    theta: float,
) -> tuple[FloatArray, FloatArray]:
    """Return the trio likelihoods (H1, H2) of fixed parents at one locus over every child genotype (shape (G,)).

    `parents` holds the allele indices of one or two typed parents (one: the other parent is an untyped founder,
    which is also the `duo` relationship). The formulas are those of `matching.batch.trio_likelihoods` with the
    parents fixed and the child's genotype running over the locus's genotype list (code order), both divided by the
    parents' common founder probability, so h1 / h2 is the pedigree path's LR:

    - two parents: H1 = t_F(c1) t_M(c2) + t_F(c2) t_M(c1) (heterozygous child; t_F(c1) t_M(c1) homozygous), t_X(x)
      the probability that X passes x (each of its alleles with probability 1/2, then mutated); H2 = the probability
      that the 5th and 6th draws of the Balding-Nichols urn are the child's alleles given the parents' four;
    - one parent X: H1 = t_X(c1) d(c2) + t_X(c2) d(c1), d(x) the probability that the untyped co-parent, a 3rd draw
      given X's two alleles, passes x after mutation; H2 = the child's alleles as draws 3 and 4.
    """
    p = codes.locus.frequencies
    m = mutation if mutation is not None else np.eye(len(p))
    c1, c2 = codes.first, codes.second
    het = c1 != c2
    counts = []
    passes = []
    for a, b in parents:
        count = np.zeros(len(p))
        count[a] += 1.0
        count[b] += 1.0
        counts.append(count)
        passes.append(0.5 * (m[a] + m[b]))
    if len(parents) == 2:
        tf, tm = passes
        seen = 4
    elif len(parents) == 1:
        tf = passes[0]
        tm = ((theta * counts[0] + (1.0 - theta) * p) @ m) / (1.0 + theta)
        seen = 2
    else:
        raise ValueError("give one or two typed parents")
    h1: FloatArray = np.where(het, tf[c1] * tm[c2] + tf[c2] * tm[c1], tf[c1] * tm[c1])
    n = np.sum(counts, axis=0)
    first, second = 1.0 + (seen - 1) * theta, 1.0 + seen * theta
    q1 = n[c1] * theta + (1.0 - theta) * p[c1]
    h2: FloatArray = np.where(
        het,
        2.0 * q1 * (n[c2] * theta + (1.0 - theta) * p[c2]),
        q1 * ((n[c1] + 1.0) * theta + (1.0 - theta) * p[c1]),
    ) / (first * second)
    return h1, h2


def _log10_ratio(h1: FloatArray, h2: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        logs: FloatArray = np.log10(h1 / h2)
    return logs


def pair_table(
    encoding: GenotypeEncoding,
    relationship: str,
    marker: str,
    mutation: MutationModel | None,
) -> FloatArray:
    """Return the log10 LR of a pairwise relationship (theta = 0) for every (person1, person2) genotype pair.

    Shape (G + 1, G + 1): rows person1's genotype code (the relative, the elder), columns person2's (the child),
    the last row and column untyped (0). Computed once per encoding, relationship, mutation model and locus by the
    pedigree likelihood with both persons batch-typed (about 0.1 s for a locus of 630 genotypes), then cached on
    the encoding (about 10 MB per relationship for the shipped table).
    """
    key = ("pair", relationship, mutation, marker)
    cached = encoding.cache.get(key)
    if cached is not None:
        return cached
    rel = RELATIONSHIPS[relationship]
    codes = encoding.loci[marker]
    p = codes.locus.frequencies
    m = encoding.mutation_matrix(mutation, marker) if mutation is not None else None
    batch = GenotypeBatch(codes.first, codes.second)
    typing: dict[str, Typing] = {"person1": batch, "person2": batch}
    g = codes.untyped
    table = np.zeros((g + 1, g + 1))
    table[:g, :g] = _log10_ratio(
        pedigree_likelihood(rel.h1, typing, p, m), pedigree_likelihood(rel.h2, typing, p, m)
    )
    table.setflags(write=False)
    encoding.cache[key] = table
    return table


def pair_row(
    encoding: GenotypeEncoding,
    relationship: str,
    marker: str,
    mutation: MutationModel | None,
    theta: float,
    fixed_role: str,
    genotype: tuple[int, int],
) -> FloatArray:
    """Return the table of a pairwise relationship with one person fixed, over the other's genotype codes.

    With theta = 0 a row (person1 fixed) or column (person2 fixed) of `pair_table`. With theta > 0 the whole pair
    table would take minutes per locus (the urn's set partitions times every genotype pair), so the line of the
    fixed genotype is computed by the pedigree likelihood and cached per genotype (at most G per locus and role).
    """
    code = encoding.loci[marker].codes[(min(genotype), max(genotype))]
    if theta == 0.0:
        table = pair_table(encoding, relationship, marker, mutation)
        return np.array(table[code] if fixed_role == "person1" else table[:, code])
    key = ("pair_row", relationship, mutation, theta, marker, fixed_role, code)
    cached = encoding.cache.get(key)
    if cached is None:
        other = "person2" if fixed_role == "person1" else "person1"
        fixed: dict[str, Typing] = {fixed_role: genotype}
        cached = pedigree_family_table(encoding, relationship, fixed, other, marker, mutation, theta)
        cached.setflags(write=False)
        encoding.cache[key] = cached
    return np.array(cached)


def pedigree_family_table(
    encoding: GenotypeEncoding,
    relationship: str,
    fixed: Mapping[str, Typing],
    batch_role: str,
    marker: str,
    mutation: MutationModel | None,
    theta: float,
) -> FloatArray:
    """Return one marker's log10 LR table over the batch person's genotype codes (last entry: untyped, 0) by the
    general pedigree likelihood with that person batch-typed: the reference the fast tables are tested against."""
    codes = encoding.loci[marker]
    rel = RELATIONSHIPS[relationship]
    p = codes.locus.frequencies
    m = encoding.mutation_matrix(mutation, marker) if mutation is not None else None
    typing = {**fixed, batch_role: GenotypeBatch(codes.first, codes.second)}
    h1 = pedigree_likelihood(rel.h1, typing, p, m, theta)
    h2 = pedigree_likelihood(rel.h2, typing, p, m, theta)
    return np.append(_log10_ratio(h1, h2), 0.0)


def family_table(
    encoding: GenotypeEncoding,
    relationship: str,
    fixed: Mapping[str, tuple[int, int]],
    marker: str,
    mutation: MutationModel | None,
    theta: float,
) -> FloatArray:
    """Return one marker's log10 LR table of a fixed family over every child genotype code (last: untyped, 0).

    `fixed` maps the family's typed roles at this marker to allele indices: father and/or mother for
    "trio_couple", parent for "duo", person1 for a pairwise relationship.
    """
    if relationship in _PARENT_RELATIONSHIPS:
        codes = encoding.loci[marker]
        m = encoding.mutation_matrix(mutation, marker) if mutation is not None else None
        h1, h2 = family_trio_likelihoods(codes, list(fixed.values()), m, theta)
        return np.append(_log10_ratio(h1, h2), 0.0)
    return pair_row(encoding, relationship, marker, mutation, theta, "person1", fixed["person1"])


class FamilyScorer(TableScorer):
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
                r: g
                for r, p in family.items()
                if (g := genotype_indices(codes, p.genotype(marker))) is not None
            }
            if not rel.typed_enough([*fixed, child_role]):
                continue
            tables.append((row, family_table(encoding, relationship, fixed, marker, mutation, theta)))
        super().__init__(encoding, tables)


class PairScorer(TableScorer):
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
            genotype = genotype_indices(codes, child.genotype(marker))
            if genotype is None:
                continue
            tables.append(
                (row, pair_row(encoding, relationship, marker, mutation, theta, "person2", genotype))
            )
        super().__init__(encoding, tables)
