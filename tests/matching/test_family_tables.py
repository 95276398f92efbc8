"""The family side's tables (a fixed couple, parent or relative against every child genotype, and a fixed child
against every relative genotype) are built without the per-search pedigree likelihood and equal it: every entry
of every marker to 1e-9 relative, exclusions (-inf) at the same genotypes."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from matching.batch import GenotypeEncoding
from matching.family_scan import (
    RELATIVE_RELATIONSHIP,
    FamilyScorer,
    PairScorer,
    family_table,
    genotype_indices,
    pedigree_family_table,
)
from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel
from matching.search import DEFAULT_MUTATION
from matching.simulate import random_profile, restrict

TABLE = FrequencyTable.default()
MODELS = [
    (None, 0.0),
    (DEFAULT_MUTATION, 0.0),
    (MutationModel("equal", 0.005), 0.0),
    (MutationModel("proportional", 0.003), 0.0),
    (DEFAULT_MUTATION, 0.02),
    (None, 0.03),
]
# Large and small loci (PentaE has 630 genotypes); theta's pedigree likelihood is slow, so fewer loci there.
LOCI = ["TH01", "D8S1179", "PentaE", "FGA"]


def _same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("mutation", "theta"), MODELS)
@pytest.mark.parametrize("relationship", ["trio_couple", "duo", *RELATIVE_RELATIONSHIP.values()])
def test_family_tables_equal_the_pedigree_likelihood(
    relationship: str, mutation: MutationModel | None, theta: float
) -> None:
    encoding = GenotypeEncoding(TABLE)
    rng = np.random.default_rng(zlib.crc32(f"{relationship}{mutation}{theta}".encode()))
    loci = LOCI[:2] if theta else LOCI
    for marker in loci:
        codes = encoding.loci[marker]
        for _ in range(3):
            a, b = (random_profile(TABLE, rng, [marker]).genotype(marker) for _ in range(2))
            fa, fb = genotype_indices(codes, a), genotype_indices(codes, b)
            assert fa is not None and fb is not None
            if relationship == "trio_couple":
                cases = [{"father": fa, "mother": fb}, {"father": fa}, {"mother": fb}]
                fa_hom = (fa[0], fa[0])
                cases.append({"father": fa_hom, "mother": fa_hom})  # both homozygous for one allele
            elif relationship == "duo":
                cases = [{"parent": fa}, {"parent": (fb[1], fb[1])}]
            else:
                cases = [{"person1": fa}, {"person1": (fb[0], fb[0])}]
            child_role = "person2" if relationship in RELATIVE_RELATIONSHIP.values() else "child"
            for fixed in cases:
                got = family_table(encoding, relationship, fixed, marker, mutation, theta)
                want = pedigree_family_table(
                    encoding, relationship, fixed, child_role, marker, mutation, theta
                )
                _same(got, want)


@pytest.mark.parametrize(
    ("mutation", "theta"), [(DEFAULT_MUTATION, 0.0), (None, 0.0), (DEFAULT_MUTATION, 0.02)]
)
@pytest.mark.parametrize("relationship", RELATIVE_RELATIONSHIP.values())
def test_child_side_relative_tables_equal_the_pedigree_likelihood(
    relationship: str, mutation: MutationModel | None, theta: float
) -> None:
    encoding = GenotypeEncoding(TABLE)
    rng = np.random.default_rng(zlib.crc32(f"pair{relationship}{theta}".encode()))
    markers = list(TABLE.markers[:3]) if theta else list(TABLE.markers)
    child = random_profile(TABLE, rng, markers)
    scorer = PairScorer(encoding, relationship, child, mutation, theta)
    for k, row in enumerate(scorer.rows.tolist()):
        marker = encoding.markers[row]
        genotype = genotype_indices(encoding.loci[marker], child.genotype(marker))
        assert genotype is not None
        end = scorer.offsets[k + 1] if k + 1 < len(scorer.offsets) else len(scorer.tables)
        want = pedigree_family_table(
            encoding, relationship, {"person2": genotype}, "person1", marker, mutation, theta
        )
        _same(scorer.tables[scorer.offsets[k] : end], want)


def test_family_scorer_keeps_the_markers_the_family_can_speak_for() -> None:
    """A marker where neither parent is typed has no table; one where the child could be anything scores 0."""
    encoding = GenotypeEncoding(TABLE)
    rng = np.random.default_rng(3)
    father = restrict(random_profile(TABLE, rng), TABLE.markers[:10])
    mother = restrict(random_profile(TABLE, rng), TABLE.markers[5:15])
    scorer = FamilyScorer(encoding, "trio_couple", {"father": father, "mother": mother}, DEFAULT_MUTATION)
    assert scorer.rows.tolist() == list(range(15))
