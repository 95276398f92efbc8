"""matching.simulate: the profiles the search tests, benchmarks and `reunite synth` draw."""

from __future__ import annotations

import numpy as np

from matching.alleles import tenths
from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.simulate import Simulator, child_of, random_profile, random_profiles, restrict
from matching.synthetic import Config, Generator

TABLE = FrequencyTable.default()
# What random_profile(TABLE, default_rng(7), ["TH01", "vWA", "FGA"]) drew with numpy's `choice`, before the simulators were one.
PINNED_7 = {"TH01": ("9", "9"), "vWA": ("14", "18"), "FGA": ("22", "25")}


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


def test_a_child_mutates_by_the_simulators_rule_the_other_way_where_the_table_has_no_allele() -> None:
    """child_of and the population generator share one mutation rule: TH01 12 has no 13 in the table, so a
    transmitted 12 that mutates becomes 11 whichever way was drawn (it stayed 12 half the time before)."""
    rng = np.random.default_rng(4)
    parent = Profile({"TH01": ("12", "12")})
    for _ in range(20):
        child = child_of(parent, parent, rng, mutation_rate=1.0, table=TABLE)
        assert child.genotypes["TH01"] == ("11", "11")


def test_profiles_are_drawn_by_the_simulator_the_population_generator_is() -> None:
    assert isinstance(Generator(TABLE, Config(families=0, children=0), seed=1), Simulator)
    simulator = Simulator(TABLE, np.random.default_rng(5))
    assert random_profiles(TABLE, np.random.default_rng(5), 30) == simulator.profiles(simulator.founders(30))


def test_seeded_profiles_are_those_drawn_before_the_simulators_were_one() -> None:
    """Seeded tests and benchmarks keep their data: these are what numpy's `choice` drew before."""
    one = random_profile(TABLE, np.random.default_rng(7), ["TH01", "vWA", "FGA"], sex="female")
    assert one == Profile(PINNED_7, {"Amelogenin": ("X", "X")})
