"""The joint LR of a child against a whole family pedigree: one pair exactly, and one family against every child.

- `joint_lr(child, family, ...)`: the reference, `matching.kinship.kinship_lr` on the family's joint pedigree
  (`matching.family_pedigree`): per marker the exact pedigree likelihood under H1 (the child is the family's
  missing child) and H2 (the child unrelated), mutation on every transmission, theta if set. A trio (father and
  mother) or a duo (one parent) is the special case of today's `trio_couple` and `duo`, with the same numbers.
- `PedigreeFamilyScorer`: the family-side search. A relative arrives, the case's pedigree is rebuilt, and each
  marker's log10 LR is tabulated over every child genotype code by the same pedigree likelihood with the child
  batch-typed (`matching.likelihood.GenotypeBatch`), then summed over all children by the exact pruned scan
  (`matching.fast.sum_above`), as the other family-side scorers are (`matching.family_scan.TableScorer`).

The child-side search (one child against every family) is `matching.shapes`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.batch import GenotypeEncoding
from matching.errors import CaseError
from matching.family_pedigree import CHILD, FamilyPedigree, Member, family_pedigree
from matching.family_scan import TableScorer, genotype_indices
from matching.fast import FloatArray
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, KinshipResult, kinship_lr
from matching.likelihood import GenotypeBatch, Typing, pedigree_likelihood
from matching.mutation import MutationModel
from matching.profiles import Profile


def joint_lr(
    child: Profile,
    family: Mapping[Member, Profile],
    mutation: MutationModel | None,
    theta: float = 0.0,
    table: FrequencyTable | None = None,
) -> tuple[FamilyPedigree, KinshipResult]:
    """Return the family's pedigree and the child's LR against it (members left out of it are ignored)."""
    pedigree = family_pedigree(list(family))
    persons = {m.name: p for m, p in family.items() if m.name in pedigree.roles}
    case = KinshipCase(pedigree.relationship, {**persons, CHILD: child}, mutation, theta)
    return pedigree, kinship_lr(case, table)


class PedigreeFamilyScorer(TableScorer):
    """One family's joint pedigree against many children: per-marker log10 LR tables over child genotype codes.

    A marker none of the family is typed at has no table (it counts 1, as in `kinship_lr`); an allele the
    encoding's table lacks makes that member untyped here (the exact recomputation includes it).
    """

    def __init__(
        self,
        encoding: GenotypeEncoding,
        pedigree: FamilyPedigree,
        family: Mapping[str, Profile],
        mutation: MutationModel | None,
        theta: float = 0.0,
    ) -> None:
        rel = pedigree.relationship
        tables: list[tuple[int, FloatArray]] = []
        for row, marker in enumerate(encoding.markers):
            codes = encoding.loci[marker]
            typing: dict[str, Typing] = {
                name: g
                for name, profile in family.items()
                if name in pedigree.roles
                and (g := genotype_indices(codes, profile.genotype(marker))) is not None
            }
            if not typing:
                continue
            typing[CHILD] = GenotypeBatch(codes.first, codes.second)
            p = codes.locus.frequencies
            m = encoding.mutation_matrix(mutation, marker) if mutation is not None else None
            h1 = pedigree_likelihood(rel.h1, typing, p, m, theta)
            h2 = pedigree_likelihood(rel.h2, typing, p, m, theta)
            if np.any(h2 == 0.0):
                raise CaseError(f"marker {marker}: the family's genotypes are impossible together")
            with np.errstate(divide="ignore"):
                tables.append((row, np.append(np.log10(h1 / h2), 0.0)))
        super().__init__(encoding, tables)
