"""`reunite kinship-lr` against the brute-force reference in `tests/matching/reference.py`.

The first half checks the reference itself against textbook formulas and exact properties (no engine needed).
The second half feeds a few hundred seeded random cases to the engine's CLI and compares every LR, per case and per
marker, at relative tolerance 1e-9. Where the issue leaves a convention open, the cases sit in a separate,
parametrised test that computes every plausible reading, pins the one the engine follows (ENGINE_READING) and, on
failure, says which readings the engine matches instead.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.matching import reference as ref

RTOL = 1e-9
SEED = 20240611
THETAS = (0.0, 0.01, 0.03)
MUTATIONS: dict[str, dict[str, Any] | None] = {
    "null": None,
    "equal": {"model": "equal", "rate": 0.005},
    "proportional": {"model": "proportional", "rate": 0.005},
    "stepwise": {"model": "stepwise", "rate": 0.005, "rate2": 1e-6, "range": 0.1},
}
PAIRWISE_KAPPA = ("half_siblings", "grandparent", "avuncular", "first_cousins")


@functools.lru_cache(maxsize=1)
def loci() -> dict[str, ref.Locus]:
    return ref.load_frequencies()


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


# =============================================================================================================
# Random cases
# =============================================================================================================
SIM_PEDIGREES: dict[str, list[tuple[str, str | None, str | None]]] = {
    "duo": [("parent", None, None), ("other", None, None), ("child", "parent", "other")],
    "trio_couple": [("father", None, None), ("mother", None, None), ("child", "father", "mother")],
    "trio_known_mother": [
        ("mother", None, None),
        ("alleged_father", None, None),
        ("child", "alleged_father", "mother"),
    ],
    **{
        rel: [(q.name, q.father, q.mother) for q in ref.pairwise_pedigree(rel)]
        for rel in ("full_siblings", *PAIRWISE_KAPPA)
    },
}
NAME_VARIANTS = {"PentaD": "Penta D", "PentaE": "PENTA_E", "vWA": "VWA", "TH01": "th01", "D8S1179": "d8s1179"}


def _simulate(
    rng: np.random.Generator, relationship: str, marker: str, related: bool
) -> dict[str, list[int]]:
    """Ordered genotypes (allele indices) of the relationship's roles at one marker."""
    locus = loci()[marker]

    def draw() -> int:
        return int(rng.choice(locus.n, p=locus.p))

    roles = ref.ROLES[relationship]
    if not related and relationship == "trio_known_mother":
        # The mother is undisputed: only the alleged father is unrelated (an excluded mother has no LR, 0/0).
        mother = [draw(), draw()]
        return {
            "mother": mother,
            "alleged_father": [draw(), draw()],
            "child": [mother[rng.integers(2)], draw()],
        }
    if not related:
        return {role: [draw(), draw()] for role in roles}
    if relationship == "identity":
        g = [draw(), draw()]
        return {"person1": g, "person2": list(g)}
    genos: dict[str, list[int]] = {}
    for name, father, mother in SIM_PEDIGREES[relationship]:
        if father is None or mother is None:
            genos[name] = [draw(), draw()]
        else:
            genos[name] = [genos[father][rng.integers(2)], genos[mother][rng.integers(2)]]
    return {role: genos[role] for role in roles}


def _foreign_allele(rng: np.random.Generator, marker: str, near: int, avoid: set[int]) -> int:
    """An allele not in `avoid`, one repeat away from `near` when the ladder has one (like a real mutation)."""
    locus = loci()[marker]
    value = float(locus.alleles[near])
    steps = [
        i for i in range(locus.n) if i not in avoid and abs(abs(float(locus.alleles[i]) - value) - 1) < 1e-9
    ]
    choices = steps or [i for i in range(locus.n) if i not in avoid]
    return int(rng.choice(choices))


def _off_table_allele(rng: np.random.Generator, marker: str) -> str:
    """An allele the table lacks: one repeat beyond the ladder, or a microvariant it does not list."""
    listed = {round(float(a), 4) for a in loci()[marker].alleles}
    integers = sorted(int(v) for v in listed if v == int(v))
    if rng.random() < 0.5:
        return str(integers[-1] + int(rng.integers(1, 3)))
    while True:
        label = f"{int(rng.choice(integers))}.{int(rng.integers(1, 4))}"
        if round(float(label), 4) not in listed:
            return label


def _write(
    rng: np.random.Generator, marker: str, g: list[int], labels: Mapping[int, str] | None = None
) -> list[str]:
    alleles = {i: a for i, a in enumerate(loci()[marker].alleles)}
    alleles.update(labels or {})
    if g[0] == g[1] and rng.random() < 0.5:
        return [alleles[g[0]]]
    return [alleles[g[0]], alleles[g[1]]]


def make_case(
    rng: np.random.Generator, case_id: str, relationship: str, mutation: dict[str, Any] | None, theta: float
) -> dict[str, Any]:
    all_markers = sorted(loci())
    if relationship in ("avuncular", "first_cousins") and mutation is not None and theta > 0:
        # Small loci only, so that the explicit pedigree under theta fits the naive enumeration.
        all_markers = [m for m in all_markers if loci()[m].n <= 13]
    k = len(all_markers) if rng.random() < 0.1 else int(rng.integers(4, 10))
    markers = sorted(rng.choice(all_markers, size=k, replace=False).tolist())
    related = rng.random() < 0.7
    roles = ref.ROLES[relationship]
    genos = {m: _simulate(rng, relationship, m, related) for m in markers}

    # A Mendelian inconsistency at one or two markers (a child allele neither parent carries).
    if (
        related
        and rng.random() < 0.35
        and relationship in ("duo", "trio_couple", "trio_known_mother", "identity")
    ):
        for m in rng.choice(markers, size=min(len(markers), int(rng.integers(1, 3))), replace=False):
            g = genos[m]
            target = "person2" if relationship == "identity" else "child"
            parents = [r for r in roles if r != target]
            avoid = {a for r in parents for a in g[r]}
            g[target][0] = _foreign_allele(rng, m, g[target][0], avoid)

    # An allele the table lacks (5/(2N), docs/kinship.md): relabel one allele wherever it occurs at one marker.
    labels: dict[str, dict[int, str]] = {}
    if rng.random() < 0.15:
        m = str(rng.choice(markers))
        present = sorted({a for role in roles for a in genos[m][role]})
        labels[m] = {int(rng.choice(present)): _off_table_allele(rng, m)}

    persons: dict[str, dict[str, list[str]]] = {role: {} for role in roles}
    for m in markers:
        for role in roles:
            persons[role][m] = _write(rng, m, genos[m][role], labels.get(m))

    # Markers missing in one person (for trio_couple sometimes one parent, sometimes both).
    if rng.random() < 0.4:
        for m in rng.choice(markers, size=min(2, len(markers)), replace=False):
            if relationship == "trio_couple" and rng.random() < 0.5:
                for r in (
                    ("father", "mother") if rng.random() < 0.3 else (str(rng.choice(["father", "mother"])),)
                ):
                    persons[r].pop(m, None)
            else:
                persons[str(rng.choice(roles))].pop(m, None)
    # Amelogenin takes no part; marker names as other kits write them.
    if rng.random() < 0.3:
        for role in roles:
            persons[role]["AMEL"] = ["X", "Y"] if rng.random() < 0.5 else ["X"]
    if rng.random() < 0.3:
        role = str(rng.choice(roles))
        for m, variant in NAME_VARIANTS.items():
            if m in persons[role]:
                persons[role][variant] = persons[role].pop(m)
    return {
        "id": case_id,
        "relationship": relationship,
        "persons": persons,
        "mutation": copy.deepcopy(mutation),
        "theta": theta,
    }


def _ambiguity_group(relationship: str, model: str, theta: float) -> str | None:
    """Which open convention (if any) a combination depends on; None = settled by the issue."""
    if relationship == "full_siblings" and model != "null":
        return "full_siblings_mutation"
    if relationship in PAIRWISE_KAPPA:
        if model == "null":
            return "kappa_theta" if theta > 0 else None
        return "kappa_mutation" if theta == 0 else "kappa_mutation_theta"
    if relationship == "identity" and theta > 0:
        return "identity_theta"
    return None


@functools.lru_cache(maxsize=1)
def generate_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    cases = []
    for relationship in ref.ROLES:
        for model, mutation in MUTATIONS.items():
            for theta in THETAS:
                group = _ambiguity_group(relationship, model, theta)
                count = (
                    6 if relationship in ("duo", "trio_couple", "trio_known_mother") else (3 if group else 6)
                )
                for k in range(count):
                    mut = copy.deepcopy(mutation)
                    if mut is not None and k % 3 == 1:
                        mut["rate"] = 0.002
                    if mut is not None and k % 3 == 2 and mut["model"] != "stepwise":
                        mut.update(rate2=1e-6, range=0.1)  # extra keys other models must ignore
                    case_id = f"{relationship}/{model}/theta={theta}/{k}"
                    cases.append(make_case(rng, case_id, relationship, mut, theta))
    return cases


def case_label(case: Mapping[str, Any]) -> str:
    model = case["mutation"]["model"] if case["mutation"] else "null"
    return f"{case['id']} ({case['relationship']}, mutation {model}, theta {case['theta']})"


# =============================================================================================================
# The engine
# =============================================================================================================
@functools.lru_cache(maxsize=1)
def _engine_outputs_cached() -> dict[str, dict[str, Any]]:
    from click.testing import CliRunner

    from intake.cli.kinship import kinship_lr

    def run(cases: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], BaseException | None]:
        text = "".join(json.dumps(case) + "\n" for case in cases)
        result = CliRunner().invoke(kinship_lr, ["--frequencies", str(ref.FREQUENCIES)], input=text)
        outputs = {}
        for line in result.stdout.splitlines():
            if line.strip():
                row = json.loads(line)
                outputs[str(row.get("id"))] = row
        crash = result.exception if not isinstance(result.exception, SystemExit | None) else None
        return outputs, crash

    outputs, crash = run(list(generate_cases()))
    if crash is not None:
        # One crashing line must not hide the others: rerun line by line and record each crash as an error.
        outputs = {}
        for case in generate_cases():
            one, crash = run([case])
            outputs.update(one)
            if crash is not None:
                outputs[case["id"]] = {"id": case["id"], "error": f"kinship-lr crashed: {crash!r}"}
    return outputs


def engine_outputs() -> dict[str, dict[str, Any]]:
    """The engine's answer to every generated case, by id. Fails (never skips) if the engine is missing."""
    try:
        import intake.cli.kinship  # noqa: F401
    except Exception as exc:
        pytest.fail(
            f"cannot import intake.cli.kinship.kinship_lr ({exc!r}): the kinship engine's CLI is missing, so it "
            "cannot be compared with the brute-force reference in tests/matching/reference.py"
        )
    return _engine_outputs_cached()


def _rel_err(a: float, b: float) -> float:
    if a == b:
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


def _canonical_per_marker(per_marker: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for marker, value in per_marker.items():
        try:
            name = ref.canonical_marker(marker, loci())
        except KeyError:
            name = marker
        if name is not None:
            out[name] = float(value)
    return out


def compare(expected: Mapping[str, Any], got: Mapping[str, Any] | None) -> tuple[float, list[str]]:
    """(worst relative error, descriptions) of the engine's line against the reference's."""
    if got is None:
        return math.inf, ["no output line"]
    if "error" in got:
        return math.inf, [f"error line: {got['error']!r}"]
    problems = []
    worst = _rel_err(float(expected["lr"]), float(got.get("lr", math.nan)))
    if worst > RTOL:
        problems.append(f"lr: reference {expected['lr']!r}, engine {got.get('lr')!r}, rel err {worst:.3g}")
    if expected["lr"] > 0 and "log10_lr" in got:
        log_err = abs(float(got["log10_lr"]) - expected["log10_lr"])
        if log_err > 1e-9:
            problems.append(f"log10_lr: reference {expected['log10_lr']!r}, engine {got['log10_lr']!r}")
            worst = max(worst, log_err)
    mine = expected["per_marker"]
    theirs = _canonical_per_marker(got.get("per_marker", {}))
    for marker in sorted(set(mine) | set(theirs)):
        a, b = mine.get(marker, 1.0), theirs.get(marker, 1.0)
        err = _rel_err(a, b)
        if err > RTOL:
            problems.append(f"{marker}: reference {a!r}, engine {b!r}, rel err {err:.3g}")
            worst = max(worst, err)
    return worst, problems


def _inconsistent_set(out: Mapping[str, Any]) -> set[str]:
    return set(_canonical_per_marker({m: 0 for m in out.get("inconsistent_markers", [])}))


def _report(rows: list[tuple[float, str, list[str]]], limit: int = 12) -> str:
    rows = sorted(rows, key=lambda r: -r[0])
    lines = [f"{len(rows)} case(s) disagree; worst first:"]
    for worst, label, problems in rows[:limit]:
        lines.append(f"- {label}: worst rel err {worst:.3g}")
        lines.extend(f"    {p}" for p in problems[:6])
    return "\n".join(lines)


def test_engine_agrees_with_the_reference_on_settled_conventions():
    outputs = engine_outputs()
    cases = [
        c
        for c in generate_cases()
        if _ambiguity_group(
            c["relationship"], c["mutation"]["model"] if c["mutation"] else "null", c["theta"]
        )
        is None
    ]
    assert len(cases) > 250
    bad = []
    for case in cases:
        expected = ref.reference_lr(case, loci())
        got = outputs.get(case["id"])
        worst, problems = compare(expected, got)
        # Reported inconsistent markers: settled without a mutation model (there the LR is 0).
        settled = got is not None and "error" not in got and case["mutation"] is None
        if settled and _inconsistent_set(got) != set(expected["inconsistent_markers"]):
            problems.append(
                f"inconsistent_markers: reference {expected['inconsistent_markers']}, "
                f"engine {got.get('inconsistent_markers')}"
            )
            worst = max(worst, 1.0)
        if problems:
            bad.append((worst, case_label(case), problems))
    assert not bad, _report(bad)


# ---------------------------------------------------------------------------------------------- open conventions
Reading = Callable[[dict[str, Any]], dict[str, Any] | str | None]


def _with(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(case), **changes}


def _swap(case: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(case)
    out["persons"] = {"person1": case["persons"]["person2"], "person2": case["persons"]["person1"]}
    return out


def _pedigree_reading(case: dict[str, Any]) -> dict[str, Any] | None:
    # Under theta, single-child founders are collapsed (exact: test_collapsing_single_child_founders_is_exact)
    # so that the joint founder-allele tensor fits in memory.
    try:
        return ref.reference_lr(case, loci(), pairwise_mutation=True, collapse=case["theta"] > 0)
    except ValueError:  # still too large: this reading is not evaluated for this case
        return None


REFUSED = (
    "refused"  # the engine answers the line with "error" (the issue only promises theta for duo, trios, FS)
)

AMBIGUITIES: dict[str, tuple[str, dict[str, Reading]]] = {
    "full_siblings_mutation": (
        "full_siblings with a mutation model. The issue lists full siblings under 'pairwise relationships through "
        "IBD coefficients' (no transmissions, so no mutation), yet says a mutation model 'applies to every "
        "parent-to-child transmission in the pedigree'. Reference default: the explicit pedigree (two untyped "
        "parents, mutation on all four transmissions, theta on the four founder alleles).",
        {
            "pedigree with mutation": lambda c: ref.reference_lr(c, loci()),
            "mutation ignored (kappa formula)": lambda c: ref.reference_lr(_with(c, mutation=None), loci()),
        },
    ),
    "kappa_theta": (
        "theta > 0 for half_siblings/grandparent/avuncular/first_cousins. The issue promises theta only 'for duo, "
        "trios and full siblings'. Reference default: kappa formula with every IBD state's distinct alleles drawn "
        "jointly by Balding-Nichols (= the explicit pedigree with all founder alleles drawn jointly); alternatives: "
        "theta ignored, or the line refused with an error.",
        {
            "Balding-Nichols kappa": lambda c: ref.reference_lr(c, loci()),
            "theta ignored": lambda c: ref.reference_lr(_with(c, theta=0.0), loci()),
            "refused with an error line": lambda c: REFUSED,
        },
    ),
    "kappa_mutation": (
        "a mutation model for half_siblings/grandparent/avuncular/first_cousins (theta 0). Kappa formula = no "
        "transmissions, so no mutation; but 'a mutation model applies to every parent-to-child transmission in "
        "the pedigree' suggests forrel-style explicit pedigrees. For grandparent/avuncular the direction matters: "
        "the schema does not say whether person1 or person2 is the elder.",
        {
            "kappa formula, mutation ignored": lambda c: ref.reference_lr(_with(c, mutation=None), loci()),
            "explicit pedigree with mutation, person1 elder": _pedigree_reading,
            "explicit pedigree with mutation, person2 elder": lambda c: _pedigree_reading(_swap(c)),
            "refused with an error line": lambda c: REFUSED,
        },
    ),
    "kappa_mutation_theta": (
        "a mutation model AND theta > 0 for half_siblings/grandparent/avuncular/first_cousins: both open questions "
        "above at once. (The explicit-pedigree reading under theta is only evaluated where the naive enumeration "
        "fits in memory; elsewhere it counts as unknown.)",
        {
            "Balding-Nichols kappa, mutation ignored": lambda c: ref.reference_lr(
                _with(c, mutation=None), loci()
            ),
            "kappa without theta or mutation": lambda c: ref.reference_lr(
                _with(c, mutation=None, theta=0.0), loci()
            ),
            "explicit pedigree, mutation and theta, person1 elder": _pedigree_reading,
            "explicit pedigree with mutation, theta ignored, person1 elder": lambda c: _pedigree_reading(
                _with(c, theta=0.0)
            ),
            "refused with an error line": lambda c: REFUSED,
        },
    ),
    "identity_theta": (
        "theta > 0 for identity. Not in the issue's theta list. Reference default: H1 = one person's two alleles "
        "drawn by Balding-Nichols, H2 = both persons' four alleles drawn jointly (for a heterozygote LR = "
        "(1+theta)(1+2theta)/(2 (theta+(1-theta)p_a)(theta+(1-theta)p_b))); alternatives: theta ignored "
        "(1/(2 p_a p_b)), or refused.",
        {
            "Balding-Nichols": lambda c: ref.reference_lr(c, loci()),
            "theta ignored": lambda c: ref.reference_lr(_with(c, theta=0.0), loci()),
            "refused with an error line": lambda c: REFUSED,
        },
    ),
}


def _matches(expected: dict[str, Any] | str | None, got: Mapping[str, Any] | None) -> bool | None:
    if expected is None:
        return None  # reading not evaluable for this case
    if expected == REFUSED:
        return got is not None and "error" in got
    worst, problems = compare(expected, got)
    return not problems


# The reading each open convention is pinned to: the one the engine was found to follow when this test was
# written (all of them agree with forrel/pedprobr, which compute every relationship from its explicit pedigree,
# mutation on every transmission and theta on all founder alleles), and the ones docs/kinship.md states ("For
# grandparent and avuncular, person1 is the elder"; "Theta applies to every relationship"; inconsistent markers
# listed "whether or not a mutation model is given"). The issue does not decide them; if the engine deliberately
# changes one (and says so in docs/kinship.md), change it here, naming another reading above.
ENGINE_READING = {
    "full_siblings_mutation": "pedigree with mutation",
    "kappa_theta": "Balding-Nichols kappa",
    "kappa_mutation": "explicit pedigree with mutation, person1 elder",
    "kappa_mutation_theta": "explicit pedigree, mutation and theta, person1 elder",
    "identity_theta": "Balding-Nichols",
}


@pytest.mark.parametrize("group", sorted(AMBIGUITIES))
def test_engine_keeps_its_reading_of_each_open_convention(group):
    explanation, readings = AMBIGUITIES[group]
    pinned = ENGINE_READING[group]
    outputs = engine_outputs()
    cases = [
        c
        for c in generate_cases()
        if _ambiguity_group(
            c["relationship"], c["mutation"]["model"] if c["mutation"] else "null", c["theta"]
        )
        == group
    ]
    assert cases
    tally: dict[str, list[bool | None]] = {name: [] for name in readings}
    against_pinned: list[tuple[float, str, list[str]]] = []
    for case in cases:
        got = outputs.get(case["id"])
        for name, reading in readings.items():
            expected = reading(case)
            ok = _matches(expected, got)
            tally[name].append(ok)
            if name == pinned and ok is False:
                worst, problems = compare(expected, got) if isinstance(expected, dict) else (math.inf, [])
                against_pinned.append((worst, case_label(case), problems))
    summary = "\n".join(
        f"  {name}: matches {sum(ok is True for ok in oks)}/{len(oks)} cases"
        + (f" ({sum(ok is None for ok in oks)} not evaluable)" if any(ok is None for ok in oks) else "")
        for name, oks in tally.items()
    )
    message = (
        f"OPEN CONVENTION ({group}): {explanation}\n"
        f"Pinned reading: {pinned!r} (see ENGINE_READING). Readings the engine matches:\n{summary}\n"
    )
    assert any(ok is True for ok in tally[pinned]), message + "The pinned reading was never evaluated."
    assert not against_pinned, message + _report(against_pinned, limit=5)


def test_inconsistent_markers_under_a_mutation_model_are_still_listed():
    """OPEN CONVENTION: with a mutation model, is a Mendelian-inconsistent marker still listed in
    `inconsistent_markers`? The issue says such a locus 'gives a small finite LR instead of zero' and that
    'without a mutation model ... the number of inconsistent loci is reported'. Pinned reading (the engine's, and
    the reference's): listed whatever the model, since the genotypes are inconsistent either way."""
    outputs = engine_outputs()
    listed = 0
    others = []
    for case in generate_cases():
        if case["mutation"] is None or case["relationship"] not in (
            "duo",
            "trio_couple",
            "trio_known_mother",
        ):
            continue
        expected = set(ref.reference_lr(case, loci())["inconsistent_markers"])
        got = outputs.get(case["id"])
        if not expected or got is None or "error" in got:
            continue
        engine = _inconsistent_set(got)
        if engine == expected:
            listed += 1
        else:
            others.append(f"{case_label(case)}: reference {sorted(expected)}, engine {sorted(engine)}")
    assert listed > 0 and not others, (
        "inconsistent markers under a mutation model (open convention, pinned to 'listed'): "
        f"listed as the reference does in {listed} cases; differently in {len(others)}: {others[:10]}"
    )
