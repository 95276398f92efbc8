"""Explicit kappa against the named pedigrees, for every genotype shape (issue 7: a homozygous mutant survived).

Without mutation and theta a pairwise pedigree's LR is exactly k0 + k1 P(G2 | G1, one allele IBD)/P(G2) +
k2 [G1 = G2]/P(G2) with its IBD coefficients, so `"relationship": "kappa"` with those coefficients must give the
named relationship's LR for each pair of genotypes: homozygous or heterozygous on each side, sharing 0, 1 or 2
alleles, in both orders.
"""

from __future__ import annotations

import itertools

import pytest

from matching.frequencies import FrequencyTable
from matching.kinship import marker_lr
from matching.relationships import RELATIONSHIPS, kappa_relationship

# Unequal frequencies, so that swapping an allele for another changes every LR.
TABLE = FrequencyTable.from_csv_text(
    "marker,allele,frequency\nTPOX,8,0.41\nTPOX,9,0.27\nTPOX,9.3,0.07\nTPOX,10,0.25\n"
)
LOCUS = TABLE.locus("TPOX")
GENOTYPES = list(itertools.combinations_with_replacement(LOCUS.alleles, 2))
PAIRS = list(itertools.product(GENOTYPES, repeat=2))
NAMED = {  # the named relationship whose pedigree has these coefficients, and its roles as person1, person2
    "duo": (0.0, 1.0, 0.0),
    "full_siblings": (0.25, 0.5, 0.25),
    "half_siblings": (0.5, 0.5, 0.0),
    "grandparent": (0.5, 0.5, 0.0),
    "avuncular": (0.5, 0.5, 0.0),
    "first_cousins": (0.75, 0.25, 0.0),
    "identity": (0.0, 0.0, 1.0),
}


def _shape(g1, g2):
    hom1, hom2 = g1[0] == g1[1], g2[0] == g2[1]
    return ("hom" if hom1 else "het", "hom" if hom2 else "het", len(set(g1) & set(g2)))


def test_the_pairs_cover_every_genotype_shape():
    shapes = {_shape(g1, g2) for g1, g2 in PAIRS}
    expected = {
        ("hom", "hom", 0), ("hom", "hom", 1), ("hom", "het", 0), ("hom", "het", 1), ("het", "hom", 0),
        ("het", "hom", 1), ("het", "het", 0), ("het", "het", 1), ("het", "het", 2),
    }  # fmt: skip
    assert shapes == expected


@pytest.mark.parametrize("name", sorted(NAMED))
def test_explicit_kappa_equals_the_named_pedigree_for_every_genotype_pair(name):
    rel = RELATIONSHIPS[name]
    assert rel.kappa == NAMED[name]
    explicit = kappa_relationship(NAMED[name])
    first, second = rel.roles
    for g1, g2 in PAIRS:
        named, _ = marker_lr(rel, {first: g1, second: g2}, LOCUS, None, 0.0)
        by_kappa, _ = marker_lr(explicit, {"person1": g1, "person2": g2}, LOCUS, None, 0.0, explicit.kappa)
        assert by_kappa == pytest.approx(named, rel=1e-12, abs=0.0), (name, _shape(g1, g2), g1, g2)


def test_explicit_kappa_by_hand_for_a_homozygous_person():
    """Parent-child kappa (0, 1, 0): a homozygous 8/8 passes 8 for sure; the other allele comes at its frequency."""
    p = dict(zip(LOCUS.alleles, LOCUS.frequencies.tolist(), strict=True))
    parent_child = kappa_relationship((0.0, 1.0, 0.0))

    def lr(g1, g2):
        return marker_lr(parent_child, {"person1": g1, "person2": g2}, LOCUS, None, 0.0, parent_child.kappa)[
            0
        ]

    assert lr(("8", "8"), ("8", "8")) == pytest.approx(1 / p["8"], rel=1e-12)
    assert lr(("8", "8"), ("8", "9")) == pytest.approx(1 / (2 * p["8"]), rel=1e-12)
    assert lr(("8", "9"), ("8", "8")) == pytest.approx(1 / (2 * p["8"]), rel=1e-12)
    assert lr(("8", "8"), ("9", "9")) == 0.0
    siblings = kappa_relationship((0.25, 0.5, 0.25))
    got = marker_lr(
        siblings, {"person1": ("8", "8"), "person2": ("8", "8")}, LOCUS, None, 0.0, siblings.kappa
    )[0]
    assert got == pytest.approx(0.25 + 0.5 / p["8"] + 0.25 / p["8"] ** 2, rel=1e-12)
