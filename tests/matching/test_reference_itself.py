"""The brute-force reference in `tests/matching/reference.py` against textbook formulas and exact properties.

No engine here: this checks the checker. The engine is compared with it on seeded random cases in
tests/matching/test_against_reference_<k>.py (one file per shard, see reference_checks.py).
"""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.matching import reference as ref
from tests.matching.reference_cases import (
    MUTATIONS,
    PAIRWISE_KAPPA,
    SHARDS,
    THETAS,
    _ambiguity_group,
    generate_cases,
    loci,
    shard_cases,
)


def _p(marker: str, allele: str) -> float:
    locus = loci()[marker]
    return float(locus.p[locus.index(allele)])


def _lr(relationship: str, persons: dict[str, Any], mutation: Any = None, theta: float = 0.0) -> float:
    case = {"relationship": relationship, "persons": persons, "mutation": mutation, "theta": theta}
    return float(ref.reference_lr(case, loci())["lr"])


# =============================================================================================================
# The reference against hand-worked formulas (no engine needed)
# =============================================================================================================
def test_duo_heterozygotes_sharing_one_allele_give_one_over_four_p():
    lr = _lr("duo", {"parent": {"D8S1179": ["13", "15"]}, "child": {"D8S1179": ["13", "16"]}})
    assert lr == pytest.approx(1 / (4 * _p("D8S1179", "13")), rel=1e-12)


def test_duo_same_homozygotes_give_one_over_p():
    lr = _lr("duo", {"parent": {"TH01": ["9"]}, "child": {"TH01": ["9", "9"]}})
    assert lr == pytest.approx(1 / _p("TH01", "9"), rel=1e-12)


@pytest.mark.parametrize("theta", [0.01, 0.03, 0.1])
def test_duo_with_theta_matches_the_issue_formula(theta):
    lr = _lr("duo", {"parent": {"vWA": ["14", "17"]}, "child": {"vWA": ["14", "18"]}}, theta=theta)
    pa = _p("vWA", "14")
    assert lr == pytest.approx((1 + 2 * theta) / (4 * (theta + (1 - theta) * pa)), rel=1e-12)


def test_trio_known_mother_classic_paternity_index():
    base = {"mother": {"D5S818": ["10", "11"]}, "child": {"D5S818": ["11", "12"]}}
    het = _lr("trio_known_mother", {**base, "alleged_father": {"D5S818": ["12", "13"]}})
    hom = _lr("trio_known_mother", {**base, "alleged_father": {"D5S818": ["12"]}})
    assert het == pytest.approx(1 / (2 * _p("D5S818", "12")), rel=1e-12)
    assert hom == pytest.approx(1 / _p("D5S818", "12"), rel=1e-12)
    # A child sharing both alleles with the mother: PI = 1 / (2 (p_a + p_b)) for a father carrying one of them.
    both = _lr(
        "trio_known_mother",
        {
            "mother": {"D5S818": ["10", "11"]},
            "child": {"D5S818": ["10", "11"]},
            "alleged_father": {"D5S818": ["11", "13"]},
        },
    )
    assert both == pytest.approx(1 / (2 * (_p("D5S818", "10") + _p("D5S818", "11"))), rel=1e-12)


def test_trio_couple_textbook_cases():
    lr = _lr(
        "trio_couple",
        {"father": {"TPOX": ["8", "11"]}, "mother": {"TPOX": ["9"]}, "child": {"TPOX": ["9", "11"]}},
    )
    # H1: 1/2 * 1 ; H2: 2 p9 p11.
    assert lr == pytest.approx(0.5 / (2 * _p("TPOX", "9") * _p("TPOX", "11")), rel=1e-12)
    # A parent untyped at the marker is an untyped founder: the marker acts like a duo.
    duo_like = _lr(
        "trio_couple", {"father": {"TPOX": ["8", "11"]}, "mother": {}, "child": {"TPOX": ["9", "11"]}}
    )
    assert duo_like == pytest.approx(1 / (4 * _p("TPOX", "11")), rel=1e-12)


def test_identity():
    het = _lr("identity", {"person1": {"FGA": ["22", "24"]}, "person2": {"FGA": ["24", "22"]}})
    hom = _lr("identity", {"person1": {"FGA": ["23"]}, "person2": {"FGA": ["23", "23"]}})
    assert het == pytest.approx(1 / (2 * _p("FGA", "22") * _p("FGA", "24")), rel=1e-12)
    assert hom == pytest.approx(1 / _p("FGA", "23") ** 2, rel=1e-12)
    assert _lr("identity", {"person1": {"FGA": ["23"]}, "person2": {"FGA": ["22", "23"]}}) == 0.0


def test_full_siblings_identical_heterozygotes_pedigree_equals_kappa_formula():
    pa, pb = _p("D21S11", "29"), _p("D21S11", "30")
    expected = (1 + pa + pb + 2 * pa * pb) / (8 * pa * pb)
    persons = {"person1": {"D21S11": ["29", "30"]}, "person2": {"D21S11": ["30", "29"]}}
    assert _lr("full_siblings", persons) == pytest.approx(expected, rel=1e-12)  # the pedigree enumeration
    locus = loci()["D21S11"]
    g = ref.parse_genotype(["29", "30"], locus)
    assert ref.kappa_lr(g, g, ref.KAPPA["full_siblings"], locus.p, 0.0) == pytest.approx(expected, rel=1e-12)


def test_an_allele_missing_from_the_table_gets_five_over_two_n_and_the_locus_is_renormalised():
    q = 0.0005 / 1.0005  # 5/(2N), N = 5,000 (docs/kinship.md), added to a locus that sums to 1, renormalised
    out = ref.reference_lr(
        {
            "relationship": "duo",
            "persons": {"parent": {"TH01": ["9", "13.3"]}, "child": {"TH01": ["13.3", "10"]}},
            "mutation": None,
            "theta": 0.0,
        },
        loci(),
    )
    assert out["lr"] == pytest.approx(1 / (4 * q), rel=1e-12)
    two = ref.extend_locus(loci()["TH01"], ["9", "13.3", "14.2", "13.3"])
    assert two.n == loci()["TH01"].n + 2
    assert two.p.sum() == pytest.approx(1.0, abs=1e-15)
    assert two.p[two.index("14.2")] == pytest.approx(0.0005 / 1.001, rel=1e-12)


def _all_genotypes(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i, n)]


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("marker", ["D3S1358", "TPOX"])
def test_sibling_pedigrees_equal_the_kappa_formula_without_mutation(marker, theta):
    """The property the engine relies on: without mutation, pedigree = kappa formula (also under theta)."""
    locus = loci()[marker]
    identity = np.eye(locus.n)
    pairs = list(itertools.combinations_with_replacement(_all_genotypes(locus.n)[::9], 2))
    for g1, g2 in pairs:
        for relationship in ("full_siblings", "half_siblings"):
            ped = ref.pairwise_pedigree_lr(relationship, g1, g2, locus.p, identity, theta)
            kap = ref.kappa_lr(g1, g2, ref.KAPPA[relationship], locus.p, theta)
            assert ped == pytest.approx(kap, rel=1e-10), (relationship, g1, g2)


def test_grandparent_avuncular_cousin_pedigrees_equal_the_kappa_formula_without_mutation():
    locus = loci()["D16S539"]
    identity = np.eye(locus.n)
    for g1, g2 in [((2, 3), (3, 4)), ((3, 3), (3, 5)), ((1, 2), (4, 6)), ((4, 4), (4, 4))]:
        for relationship in PAIRWISE_KAPPA:
            ped = ref.pairwise_pedigree_lr(relationship, g1, g2, locus.p, identity, 0.0)
            kap = ref.kappa_lr(g1, g2, ref.KAPPA[relationship], locus.p, 0.0)
            assert ped == pytest.approx(kap, rel=1e-10), (relationship, g1, g2)


@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_collapsing_single_child_founders_is_exact(theta):
    """The memory-saving option of the reference gives the same likelihood as the full enumeration."""
    locus = loci()["D3S1358"]
    M = ref.mutation_matrix(locus, MUTATIONS["stepwise"])
    relationships = ("half_siblings", "grandparent", "avuncular") + (("first_cousins",) if theta == 0 else ())
    for g1, g2 in [((2, 3), (3, 4)), ((3, 3), (3, 5)), ((1, 2), (4, 6))]:
        for relationship in relationships:
            full = ref.pairwise_pedigree_lr(relationship, g1, g2, locus.p, M, theta)
            short = ref.pairwise_pedigree_lr(relationship, g1, g2, locus.p, M, theta, collapse=True)
            assert short == pytest.approx(full, rel=1e-12), (relationship, g1, g2)
        for name in ("duo", "trio_known_mother"):
            roles = ref.ROLES[name]
            gts = dict(zip(roles, [g1, g2, (2, 4)][: len(roles)], strict=True))
            full = ref.marker_lr(name, gts, locus, MUTATIONS["equal"], theta)[0]
            short = ref.marker_lr(name, gts, locus, MUTATIONS["equal"], theta, collapse=True)[0]
            assert short == pytest.approx(full, rel=1e-12), (name, gts)


def test_half_siblings_pedigree_with_mutation_departs_slightly_from_the_kappa_formula():
    """Recorded, not relied on: with mutation (rate 0.005) the explicit half-sibling pedigree (mutation on all four
    transmissions, theta 0) moves the LR away from the kappa formula by up to 1.3% on D8S1179: equal -1.1% (het
    pair sharing one allele), -1.3% (identical homozygotes); proportional +1.2% (pair sharing nothing); stepwise
    +0.005% to -0.9%. k0 = 1/2 keeps both finite."""
    locus = loci()["D8S1179"]
    rel_diffs = []
    for name in ("equal", "proportional", "stepwise"):
        M = ref.mutation_matrix(locus, MUTATIONS[name])
        for g1, g2 in [((3, 4), (4, 5)), ((4, 4), (4, 4)), ((2, 3), (5, 6)), ((3, 5), (3, 5))]:
            ped = ref.half_siblings_pedigree_lr(g1, g2, locus.p, M, 0.0)
            kap = ref.kappa_lr(g1, g2, ref.KAPPA["half_siblings"], locus.p, 0.0)
            rel_diffs.append(abs(ped - kap) / kap)
    assert max(rel_diffs) > 1e-6, "mutation should change the pedigree LR"
    assert max(rel_diffs) < 0.02, rel_diffs


@pytest.mark.parametrize("name", ["equal", "proportional", "stepwise"])
def test_mutation_rate_zero_is_no_mutation(name):
    mutation = {**MUTATIONS[name], "rate": 0.0, "rate2": 0.0}
    for locus in loci().values():
        assert np.array_equal(ref.mutation_matrix(locus, mutation), np.eye(locus.n)), locus.name
    persons = {
        "father": {"D18S51": ["13", "15"], "CSF1PO": ["10", "12"]},
        "mother": {"D18S51": ["14"], "CSF1PO": ["11"]},
        "child": {"D18S51": ["14", "15"], "CSF1PO": ["9", "11"]},  # CSF1PO: inconsistent
    }
    for theta in THETAS:
        with_zero = ref.reference_lr(
            {"relationship": "trio_couple", "persons": persons, "mutation": mutation, "theta": theta}, loci()
        )
        without = ref.reference_lr(
            {"relationship": "trio_couple", "persons": persons, "mutation": None, "theta": theta}, loci()
        )
        assert with_zero["per_marker"] == without["per_marker"]
        assert without["per_marker"]["CSF1PO"] == 0.0
        assert without["inconsistent_markers"] == ["CSF1PO"]


@pytest.mark.parametrize("name", ["equal", "proportional", "stepwise"])
def test_mutation_matrix_rows_sum_to_one(name):
    for rate in (0.001, 0.005, 0.02):
        for locus in loci().values():
            M = ref.mutation_matrix(locus, {**MUTATIONS[name], "rate": rate})
            assert np.all(M >= 0), locus.name
            assert np.allclose(M.sum(axis=1), 1.0, rtol=0, atol=1e-14), locus.name


def _tiny_table(tmp_path: Path) -> dict[str, ref.Locus]:
    path = tmp_path / "tiny.csv"
    path.write_text("marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.2\nTPOX,10,0.25\nTPOX,9.3,0.1\n")
    return ref.load_frequencies(path)


def test_loading_renormalises_and_keeps_the_rows_as_the_allele_set(tmp_path):
    locus = _tiny_table(tmp_path)["TPOX"]
    assert locus.alleles == ("8", "9", "10", "9.3")
    assert locus.p == pytest.approx(np.array([0.5, 0.2, 0.25, 0.1]) / 1.05, rel=1e-15)
    assert ref.canonical_marker("Penta D", loci()) == "PentaD"
    assert ref.canonical_marker("PENTA_E", loci()) == "PentaE"
    assert ref.canonical_marker("VWA", loci()) == "vWA"
    assert ref.canonical_marker("tho1", loci()) == "TH01"
    assert ref.canonical_marker("Amelogenin", loci()) is None


def test_stepwise_matrix_by_hand(tmp_path):
    locus = _tiny_table(tmp_path)["TPOX"]  # alleles 8, 9, 10 (integers) and 9.3 (alone in its group)
    r, r2, rg = 0.005, 1e-6, 0.1
    M = ref.mutation_matrix(locus, {"model": "stepwise", "rate": r, "rate2": r2, "range": rg})
    # 8 -> 9 weight 0.1, 8 -> 10 weight 0.01; to 9.3: rate2 / (4 - 3).
    assert M[0] == pytest.approx([1 - r - r2, r * 0.1 / 0.11, r * 0.01 / 0.11, r2], rel=1e-12)
    assert M[1] == pytest.approx([r / 2, 1 - r - r2, r / 2, r2], rel=1e-12)
    assert M[3] == pytest.approx([r2 / 3, r2 / 3, r2 / 3, 1 - r2], rel=1e-12)
    one_group = ref.Locus("X", ("8", "9", "10"), np.array([0.2, 0.3, 0.5]))
    M1 = ref.mutation_matrix(one_group, {"model": "stepwise", "rate": r, "rate2": r2, "range": rg})
    assert M1[0] == pytest.approx([1 - r, r * 0.1 / 0.11, r * 0.01 / 0.11], rel=1e-12)


def test_equal_and_proportional_matrices_by_hand(tmp_path):
    locus = _tiny_table(tmp_path)["TPOX"]
    p = locus.p
    E = ref.mutation_matrix(locus, {"model": "equal", "rate": 0.006})
    assert E[2] == pytest.approx([0.002, 0.002, 0.994, 0.002], rel=1e-12)
    P = ref.mutation_matrix(locus, {"model": "proportional", "rate": 0.006})
    a = 0.006 / np.sum(p * (1 - p))
    assert P[1] == pytest.approx(a * p + (1 - a) * np.array([0, 1, 0, 0]), rel=1e-12)
    assert float(p @ (1 - np.diag(P))) == pytest.approx(0.006, rel=1e-12)  # expected mutation rate = rate


def test_duo_exclusion_with_equal_mutation_by_hand(tmp_path):
    freqs = _tiny_table(tmp_path)
    p = freqs["TPOX"].p
    rate = 0.003
    case = {
        "relationship": "duo",
        "persons": {"parent": {"TPOX": ["8"]}, "child": {"TPOX": ["9"]}},
        "mutation": {"model": "equal", "rate": rate},
        "theta": 0.0,
    }
    out = ref.reference_lr(case, freqs)
    M = ref.mutation_matrix(freqs["TPOX"], case["mutation"])
    # H1: P(parent 8/8) * [8 -> 9 from the parent] * [the untyped other parent passes 9: sum_y p_y M[y, 9]].
    h1 = p[0] ** 2 * (rate / 3) * float(p @ M[:, 1])
    assert out["lr"] == pytest.approx(h1 / (p[0] ** 2 * p[1] ** 2), rel=1e-12)
    assert out["inconsistent_markers"] == ["TPOX"]


def _expected_lr_under_h2(freqs, relationship, mutation, theta, roles):
    """sum over every genotype combination of P(genotypes | H2) * LR = sum of P(genotypes | H1), exactly."""
    locus = freqs["TPOX"]
    gs = _all_genotypes(locus.n)
    M = ref.mutation_matrix(locus, mutation)
    total_h2 = total = 0.0
    for combo in itertools.product(gs, repeat=len(roles)):
        gts = dict(zip(roles, combo, strict=True))
        if relationship == "trio_known_mother":
            ped2 = [
                ref.Person("mother"),
                ref.Person("unknown"),
                ref.Person("alleged_father"),
                ref.Person("child", "unknown", "mother"),
            ]
            h2 = ref.pedigree_likelihood(ped2, gts, locus.p, M, theta)
        else:
            h2 = ref.unrelated_likelihood(list(combo), locus.p, theta)
        if h2 == 0.0:  # impossible under H2 (an excluded undisputed mother): no LR, no weight
            continue
        lr, _, _ = ref.marker_lr(relationship, gts, locus, mutation, theta)
        total_h2 += h2
        total += h2 * lr
    return total_h2, total


@pytest.mark.parametrize(
    "relationship",
    [
        "duo",
        "trio_couple",
        "trio_known_mother",
        "full_siblings",
        "half_siblings",
        "first_cousins",
        "identity",
    ],
)
@pytest.mark.parametrize("mutation", [None, MUTATIONS["stepwise"], {"model": "equal", "rate": 0.05}])
@pytest.mark.parametrize("theta", [0.0, 0.05])
def test_expected_lr_under_unrelatedness_is_exactly_one(tmp_path, relationship, mutation, theta):
    freqs = _tiny_table(tmp_path)
    roles = ref.ROLES[relationship]
    total_h2, expected_lr = _expected_lr_under_h2(freqs, relationship, mutation, theta, roles)
    assert total_h2 == pytest.approx(1.0, abs=1e-12)
    assert expected_lr == pytest.approx(1.0, abs=1e-12)


def test_per_marker_lrs_multiply_to_the_total_and_pairwise_lrs_are_symmetric():
    cases = generate_cases()
    for case in cases[::9]:
        out = ref.reference_lr(case, loci())
        assert out["lr"] == pytest.approx(math.prod(out["per_marker"].values()), rel=1e-12)
        if case["relationship"] in ref.KAPPA and not case["mutation"]:
            swapped = copy.deepcopy(case)
            swapped["persons"] = {
                "person1": case["persons"]["person2"],
                "person2": case["persons"]["person1"],
            }
            assert ref.reference_lr(swapped, loci())["lr"] == pytest.approx(out["lr"], rel=1e-10)


def test_the_shards_hold_every_case_once_and_the_settled_ones_number_over_250():
    ids = [c["id"] for k in range(SHARDS) for c in shard_cases(k)]
    assert sorted(ids) == sorted(c["id"] for c in generate_cases())
    assert len(set(ids)) == len(ids) == 465
    settled = [
        c
        for c in generate_cases()
        if _ambiguity_group(
            c["relationship"], c["mutation"]["model"] if c["mutation"] else "null", c["theta"]
        )
        is None
    ]
    assert len(settled) > 250
