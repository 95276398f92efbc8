"""The closed-form trio and duo LRs (`matching.parentage`) equal `matching.kinship.kinship_lr`, the pedigree path,
on many random cases: true and unrelated parents, mutated children, untyped markers, rare and absent alleles,
every mutation model; anything else (theta, other relationships) goes to `kinship_lr` itself."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matching.alleles import allele_sort_key
from matching.frequencies import FrequencyTable, MissingAllelePolicy
from matching.kinship import KinshipCase, KinshipResult, kinship_lr
from matching.mutation import MutationModel
from matching.parentage import exact_lr, parentage_lr
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profiles

TABLE = FrequencyTable.default()
MODELS = [
    None,
    DEFAULT_MUTATION,
    MutationModel("stepwise", 0.01, 1e-4, 0.3),
    MutationModel("equal", 0.003),
    MutationModel("proportional", 0.005),
]


def _same(got: KinshipResult, expected: KinshipResult) -> None:
    assert list(got.per_marker) == list(expected.per_marker)
    for marker, value in expected.per_marker.items():
        assert got.per_marker[marker] == pytest.approx(value, rel=1e-12, abs=0.0), marker
    assert got.inconsistent_markers == expected.inconsistent_markers
    assert got.untyped_markers == expected.untyped_markers
    assert got.imputed_alleles == expected.imputed_alleles
    if math.isinf(expected.log10_lr):
        assert got.log10_lr == expected.log10_lr and got.lr == 0.0
    else:  # LRs equal to 1e-9 relative (and much closer)
        assert abs(got.log10_lr - expected.log10_lr) < 1e-12 * max(1.0, abs(expected.log10_lr))
        assert got.lr == pytest.approx(expected.lr, rel=1e-9)


def _rare(profile: Profile, rng: np.random.Generator, markers: list[str]) -> Profile:
    """Give the profile a rare or absent allele at a few markers (an allele the table lacks is imputed)."""
    genotypes = dict(profile.genotypes)
    for marker in markers:
        if marker not in genotypes:
            continue
        locus = TABLE.locus(marker)
        rare = locus.alleles[int(np.argmin(locus.frequencies))]
        allele = rare if rng.random() < 0.5 else "99"  # "99" is in no locus of the table
        other = genotypes[marker][int(rng.integers(2))]
        first, second = sorted((allele, other), key=allele_sort_key)
        genotypes[marker] = (first, second)
    return Profile(genotypes)


def _drop(profile: Profile, rng: np.random.Generator, share: float) -> Profile:
    """Leave some markers untyped (a smaller kit, a failed marker)."""
    return Profile({m: g for m, g in profile.genotypes.items() if rng.random() >= share})


def _cases(seed: int, n: int) -> list[KinshipCase]:
    rng = np.random.default_rng(seed)
    fathers, mothers, strangers = (random_profiles(TABLE, rng, n) for _ in range(3))
    cases = []
    for i in range(n):
        mutation = MODELS[i % len(MODELS)]
        father, mother = fathers[i], mothers[i]
        kind = i % 4
        if kind == 0:  # the true child, often with a mutation
            child = child_of(father, mother, rng, 0.2, table=TABLE)
        elif kind == 1:  # an unrelated child
            child = strangers[i]
        elif kind == 2:  # a true child and parents with rare or absent alleles
            child = child_of(father, mother, rng, 0.1, table=TABLE)
            markers = [str(m) for m in rng.choice(TABLE.markers, size=3, replace=False)]
            child, father = _rare(child, rng, markers[:2]), _rare(father, rng, markers[1:])
        else:  # a true child of the father only
            child = child_of(father, strangers[i], rng, 0.1, table=TABLE)
        child, father, mother = _drop(child, rng, 0.1), _drop(father, rng, 0.15), _drop(mother, rng, 0.15)
        if i % 3 == 0:
            cases.append(KinshipCase("duo", {"parent": father, "child": child}, mutation))
        else:
            cases.append(
                KinshipCase("trio_couple", {"father": father, "mother": mother, "child": child}, mutation)
            )
    return cases


@pytest.mark.parametrize("seed", range(4))
def test_the_closed_form_equals_the_pedigree_likelihood_on_random_cases(seed: int) -> None:
    inconsistent = imputed = 0
    for case in _cases(seed, 60):
        got = parentage_lr(case, TABLE)
        assert got is not None
        _same(got, kinship_lr(case, TABLE))
        inconsistent += bool(got.inconsistent_markers)
        imputed += bool(got.imputed_alleles)
    assert inconsistent > 10 and imputed > 3  # the cases exercise exclusions, mutations and absent alleles


def test_a_missing_allele_policy_is_the_reference_s() -> None:
    policy = MissingAllelePolicy(min_frequency=0.02, renormalise=False)
    for case in _cases(7, 20):
        got = parentage_lr(case, TABLE, policy)
        assert got is not None
        _same(got, kinship_lr(case, TABLE, policy))


def test_homozygous_children_and_parents_and_a_one_parent_marker() -> None:
    child = Profile({"TH01": ("7", "7"), "TPOX": ("8", "11"), "vWA": ("14", "17"), "FGA": ("22", "22")})
    father = Profile({"TH01": ("7", "7"), "TPOX": ("8", "8"), "vWA": ("15", "16"), "FGA": ("21", "23")})
    mother = Profile({"TH01": ("6", "7"), "TPOX": ("11", "12"), "FGA": ("22", "24")})  # vWA untyped
    for mutation in MODELS:
        case = KinshipCase("trio_couple", {"father": father, "mother": mother, "child": child}, mutation)
        got = parentage_lr(case, TABLE)
        assert got is not None
        _same(got, kinship_lr(case, TABLE))
        assert set(got.inconsistent_markers) == {"vWA", "FGA"}  # a one-parent marker can exclude too


def test_other_cases_go_to_the_pedigree_path() -> None:
    rng = np.random.default_rng(3)
    a, b = random_profiles(TABLE, rng, 2)
    kid = child_of(a, b, rng)
    others = [
        KinshipCase("trio_couple", {"father": a, "mother": b, "child": kid}, DEFAULT_MUTATION, theta=0.01),
        KinshipCase("full_siblings", {"person1": a, "person2": kid}, DEFAULT_MUTATION),
        KinshipCase("trio_known_mother", {"mother": b, "alleged_father": a, "child": kid}),
    ]
    for case in others:
        assert parentage_lr(case, TABLE) is None
        assert exact_lr(case, TABLE) == kinship_lr(case, TABLE)
    wrong = KinshipCase("duo", {"father": a, "child": kid})  # a role the relationship lacks
    assert parentage_lr(wrong, TABLE) is None
    with pytest.raises(Exception, match="parent"):
        exact_lr(wrong, TABLE)
