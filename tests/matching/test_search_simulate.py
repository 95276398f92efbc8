"""matching.simulate: the profiles the search tests, benchmarks and `reunite synth` draw."""

from __future__ import annotations

import numpy as np

from matching.alleles import tenths
from matching.frequencies import FrequencyTable
from matching.simulate import child_of, random_profile, random_profiles, restrict

TABLE = FrequencyTable.default()


def test_random_profiles_follow_the_table() -> None:
    rng = np.random.default_rng(1)
    profiles = random_profiles(TABLE, rng, 4000)
    locus = TABLE.locus("TPOX")
    counts = {a: 0 for a in locus.alleles}
    for p in profiles:
        for allele in p.genotypes["TPOX"]:
            counts[allele] += 1
    assert all(set(p.genotypes) == set(TABLE.markers) for p in profiles[:50])
    observed = np.array([counts[a] for a in locus.alleles]) / 8000
    assert np.abs(observed - locus.frequencies).max() < 0.03
    one = random_profile(TABLE, rng, ["TH01", "vWA"], sex="male")
    assert set(one.genotypes) == {"TH01", "vWA"} and one.other == {"Amelogenin": ("X", "Y")}


def test_children_inherit_one_allele_from_each_parent() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
        child = child_of(father, mother, rng, sex="female")
        assert child.other == {"Amelogenin": ("X", "X")}
        for marker, (a, b) in child.genotypes.items():
            f, m = father.genotypes[marker], mother.genotypes[marker]
            assert (a in f and b in m) or (b in f and a in m)


def test_mutation_is_one_repeat_and_kits_restrict() -> None:
    rng = np.random.default_rng(3)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    mutated = 0
    for _ in range(20):
        child = child_of(father, mother, rng, mutation_rate=0.5, table=TABLE, keep=TABLE.markers[:10])
        assert set(child.genotypes) == set(TABLE.markers[:10])
        for marker, genotype in child.genotypes.items():
            parents = {*father.genotypes[marker], *mother.genotypes[marker]}
            for allele in set(genotype) - parents:
                mutated += 1
                assert allele in TABLE.locus(marker).alleles
                assert 10 in {abs(tenths(allele) - tenths(p)) for p in parents}
    assert mutated > 0
    assert set(restrict(father, ["TH01", "SE33"]).genotypes) == {"TH01"}
