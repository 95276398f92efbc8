"""Likelihood ratios against textbook formulas, hand-worked cases and exact properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from matching.errors import CaseError
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr, marker_lr
from matching.likelihood import pedigree_likelihood
from matching.mutation import MutationModel
from matching.pedigree import ped
from matching.profiles import parse_profile
from matching.relationships import RELATIONSHIPS

TABLE = FrequencyTable.default()
TINY = FrequencyTable.from_csv_text(
    "marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.2\nTPOX,9.3,0.1\nTPOX,10,0.25\n"
)
EQUAL = MutationModel("equal", 0.005)
MODELS = [EQUAL, MutationModel("proportional", 0.005), MutationModel("stepwise", 0.005, 1e-6, 0.1)]


def p(marker, allele):
    locus = TABLE.locus(marker)
    return float(locus.frequencies[locus.index(allele)])


def case(relationship, persons, mutation=None, theta=0.0, kappa=None, table=TABLE):
    profiles = {role: parse_profile(raw) for role, raw in persons.items()}
    return kinship_lr(KinshipCase(relationship, profiles, mutation, theta, kappa), table)


def lr(*args, **kwargs):
    return case(*args, **kwargs).lr


# ----------------------------------------------------------------------------------------------------- duo
@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        (["13", "15"], ["13", "16"], lambda: 1 / (4 * p("D8S1179", "13"))),
        (["13"], ["13", "13"], lambda: 1 / p("D8S1179", "13")),
        (["13", "15"], ["13"], lambda: 1 / (2 * p("D8S1179", "13"))),
        (["13"], ["13", "16"], lambda: 1 / (2 * p("D8S1179", "13"))),
        (
            ["13", "15"],
            ["15", "13"],
            lambda: (p("D8S1179", "13") + p("D8S1179", "15")) / (4 * p("D8S1179", "13") * p("D8S1179", "15")),
        ),
    ],
)
def test_duo_paternity_index(parent, child, expected):
    assert lr("duo", {"parent": {"D8S1179": parent}, "child": {"D8S1179": child}}) == pytest.approx(
        expected(), rel=1e-12
    )


@pytest.mark.parametrize("theta", [0.01, 0.03, 0.1])
def test_duo_with_theta_is_the_issue_formula(theta):
    got = lr("duo", {"parent": {"vWA": ["14", "17"]}, "child": {"vWA": ["14", "18"]}}, theta=theta)
    pa = p("vWA", "14")
    assert got == pytest.approx((1 + 2 * theta) / (4 * (theta + (1 - theta) * pa)), rel=1e-12)


# ----------------------------------------------------------------------------------------------------- trios
def test_trio_known_mother_by_hand():
    base = {"mother": {"D5S818": ["10", "11"]}, "child": {"D5S818": ["11", "12"]}}
    assert lr("trio_known_mother", {**base, "alleged_father": {"D5S818": ["12", "13"]}}) == pytest.approx(
        1 / (2 * p("D5S818", "12")), rel=1e-12
    )
    assert lr("trio_known_mother", {**base, "alleged_father": {"D5S818": ["12"]}}) == pytest.approx(
        1 / p("D5S818", "12"), rel=1e-12
    )
    both = {"mother": {"D5S818": ["10", "11"]}, "child": {"D5S818": ["10", "11"]}}
    got = lr("trio_known_mother", {**both, "alleged_father": {"D5S818": ["11", "13"]}})
    assert got == pytest.approx(1 / (2 * (p("D5S818", "10") + p("D5S818", "11"))), rel=1e-12)


def test_trio_couple_by_hand_and_untyped_parents():
    got = lr(
        "trio_couple",
        {"father": {"TPOX": ["8", "11"]}, "mother": {"TPOX": ["9"]}, "child": {"TPOX": ["9", "11"]}},
    )
    assert got == pytest.approx(0.5 / (2 * p("TPOX", "9") * p("TPOX", "11")), rel=1e-12)
    # The mother untyped at TPOX is an untyped founder: TPOX acts like a duo, not a factor of 1.
    result = case(
        "trio_couple",
        {
            "father": {"TPOX": ["8", "11"]},
            "mother": {"TH01": ["9"]},
            "child": {"TPOX": ["9", "11"], "TH01": ["9"]},
        },
    )
    assert result.per_marker["TPOX"] == pytest.approx(1 / (4 * p("TPOX", "11")), rel=1e-12)
    # TH01: the father untyped, the mother homozygous 9 and the child 9/9: a duo with a homozygous pair.
    assert result.per_marker["TH01"] == pytest.approx(1 / p("TH01", "9"), rel=1e-12)
    # Both parents untyped: the marker says nothing and is reported untyped.
    result = case(
        "trio_couple",
        {"father": {"TPOX": ["8"]}, "mother": {"TPOX": ["8"]}, "child": {"TPOX": ["8"], "FGA": ["22", "23"]}},
    )
    assert result.per_marker["FGA"] == 1.0 and result.untyped_markers == ("FGA",)


def test_trio_couple_equals_known_mother_when_the_mother_is_consistent_and_typed_everywhere():
    persons = {
        "father": {"D3S1358": ["15", "16"]},
        "mother": {"D3S1358": ["17"]},
        "child": {"D3S1358": ["15", "17"]},
    }
    couple = lr("trio_couple", persons)
    known = lr(
        "trio_known_mother",
        {"alleged_father": persons["father"], "mother": persons["mother"], "child": persons["child"]},
    )
    # couple = (1/2 * 1) / (2 p15 p17); known mother: PI = 1 / (2 p15); they differ by 1 / (2 p17).
    assert couple == pytest.approx(known / (2 * p("D3S1358", "17")), rel=1e-12)


# ----------------------------------------------------------------------------------------------- pairwise
def test_identity_with_and_without_theta():
    het = {"person1": {"FGA": ["22", "24"]}, "person2": {"FGA": ["24", "22"]}}
    hom = {"person1": {"FGA": ["23"]}, "person2": {"FGA": ["23", "23"]}}
    pa, pb, pc = p("FGA", "22"), p("FGA", "24"), p("FGA", "23")
    assert lr("identity", het) == pytest.approx(1 / (2 * pa * pb), rel=1e-12)
    assert lr("identity", hom) == pytest.approx(1 / pc**2, rel=1e-12)
    t = 0.03
    het_theta = (1 + t) * (1 + 2 * t) / (2 * (t + (1 - t) * pa) * (t + (1 - t) * pb))
    hom_theta = (1 + t) * (1 + 2 * t) / ((2 * t + (1 - t) * pc) * (3 * t + (1 - t) * pc))
    assert lr("identity", het, theta=t) == pytest.approx(het_theta, rel=1e-12)
    assert lr("identity", hom, theta=t) == pytest.approx(hom_theta, rel=1e-12)
    mismatch = case("identity", {"person1": {"FGA": ["23"]}, "person2": {"FGA": ["22", "23"]}})
    assert mismatch.lr == 0.0 and mismatch.inconsistent_markers == ("FGA",)


def test_full_siblings_identical_heterozygotes():
    pa, pb = p("D21S11", "29"), p("D21S11", "30")
    persons = {"person1": {"D21S11": ["29", "30"]}, "person2": {"D21S11": ["30", "29"]}}
    expected = (1 + pa + pb + 2 * pa * pb) / (8 * pa * pb)
    assert lr("full_siblings", persons) == pytest.approx(expected, rel=1e-12)
    assert lr("kappa", persons, kappa=(0.25, 0.5, 0.25)) == pytest.approx(expected, rel=1e-12)


def _bn(seq, freqs, theta):
    """Balding-Nichols probability of an ordered allele sequence (independent of the engine)."""
    out, seen = 1.0, []
    for j, a in enumerate(seq, start=1):
        out *= (seen.count(a) * theta + (1 - theta) * freqs[a]) / (1 + (j - 2) * theta)
        seen.append(a)
    return out


def _kappa_bn(g1, g2, kappa, freqs, theta):
    def orders(g):
        return [g] if g[0] == g[1] else [g, g[::-1]]

    p0 = sum(_bn([*a, *b], freqs, theta) for a in orders(g1) for b in orders(g2))
    p1 = sum(_bn([a[0], a[1], b[1]], freqs, theta) for a in orders(g1) for b in orders(g2) if a[0] == b[0])
    p2 = sum(_bn(list(a), freqs, theta) for a in orders(g1)) if sorted(g1) == sorted(g2) else 0.0
    return (kappa[0] * p0 + kappa[1] * p1 + kappa[2] * p2) / p0


@pytest.mark.parametrize("theta", [0.0, 0.02])
@pytest.mark.parametrize(
    "relationship", ["full_siblings", "half_siblings", "grandparent", "avuncular", "first_cousins"]
)
def test_pairwise_pedigrees_give_the_kappa_formula_without_mutation(relationship, theta):
    locus = TABLE.locus("D16S539")
    freqs = dict(zip(locus.alleles, locus.frequencies.tolist(), strict=True))
    kappa = RELATIONSHIPS[relationship].kappa
    for g1, g2 in [
        (("9", "11"), ("11", "12")),
        (("11", "11"), ("11", "13")),
        (("9", "10"), ("12", "13")),
        (("12", "12"), ("12", "12")),
    ]:
        got = lr(
            relationship, {"person1": {"D16S539": list(g1)}, "person2": {"D16S539": list(g2)}}, theta=theta
        )
        assert got == pytest.approx(_kappa_bn(g1, g2, kappa, freqs, theta), rel=1e-10), (g1, g2)


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize(
    "relationship",
    ["full_siblings", "half_siblings", "grandparent", "avuncular", "first_cousins", "identity"],
)
def test_pairwise_relationships_are_symmetric_without_mutation(relationship, theta):
    a = {"D18S51": ["13", "15"], "TH01": ["9"], "vWA": ["14", "16"]}
    b = {"D18S51": ["15", "17"], "TH01": ["9", "7"], "vWA": ["14", "16"]}
    if relationship == "identity":
        b = dict(a)
    forward = lr(relationship, {"person1": a, "person2": b}, theta=theta)
    assert forward == pytest.approx(lr(relationship, {"person1": b, "person2": a}, theta=theta), rel=1e-12)


# ----------------------------------------------------------------------------------------------- mutation
def test_pedmut_readme_example():
    """pedmut's README: father 1/1, son 2/2, four equifrequent alleles, rate 0.1 -> likelihood 0.0005208333."""
    family = ped("fa", "mo", ("boy", "fa", "mo"))
    m = MutationModel("equal", 0.1).matrix(TINY.locus("TPOX"))
    got = pedigree_likelihood(family, {"fa": (0, 0), "boy": (1, 1)}, np.full(4, 0.25), m)
    assert float(got) == pytest.approx(0.0005208333333, rel=1e-9)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model)
def test_an_inconsistent_duo_marker_is_small_and_finite_with_mutation_and_zero_without(model):
    persons = {
        "parent": {"CSF1PO": ["10", "12"], "TH01": ["9"]},
        "child": {"CSF1PO": ["9", "11"], "TH01": ["9"]},
    }
    with_mutation = case("duo", persons, mutation=model)
    without = case("duo", persons)
    assert 0 < with_mutation.per_marker["CSF1PO"] < 0.05
    assert without.per_marker["CSF1PO"] == 0.0 and without.lr == 0.0 and without.log10_lr == -math.inf
    assert with_mutation.inconsistent_markers == without.inconsistent_markers == ("CSF1PO",)
    assert with_mutation.per_marker["TH01"] == pytest.approx(without.per_marker["TH01"], rel=0.01)


def test_duo_exclusion_with_equal_mutation_by_hand():
    pp = TINY.locus("TPOX").frequencies
    m = MutationModel("equal", 0.003).matrix(TINY.locus("TPOX"))
    got = lr(
        "duo",
        {"parent": {"TPOX": ["8"]}, "child": {"TPOX": ["9"]}},
        mutation=MutationModel("equal", 0.003),
        table=TINY,
    )
    # H1: parent 8/8 passes 8 mutated to 9 (0.003 / 3); the untyped other parent passes 9 with sum_y p_y M[y, 9].
    assert got == pytest.approx((0.001 * float(pp @ m[:, 1])) / pp[1] ** 2, rel=1e-12)


@pytest.mark.parametrize("model", ["equal", "proportional", "stepwise"])
@pytest.mark.parametrize("theta", [0.0, 0.02])
def test_rate_zero_is_no_mutation(model, theta):
    persons = {
        "father": {"D18S51": ["13", "15"], "CSF1PO": ["10", "12"]},
        "mother": {"D18S51": ["14"], "CSF1PO": ["11"]},
        "child": {"D18S51": ["14", "15"], "CSF1PO": ["9", "11"]},
    }
    zero = case("trio_couple", persons, mutation=MutationModel(model, 0.0, 0.0, 0.1), theta=theta)
    none = case("trio_couple", persons, theta=theta)
    assert zero.per_marker == pytest.approx(none.per_marker, rel=1e-12)
    assert zero.inconsistent_markers == none.inconsistent_markers == ("CSF1PO",)


# ----------------------------------------------------------------------------------------------- properties
SMALL = FrequencyTable.from_csv_text("marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.3\nTPOX,9.3,0.2\n")
ALL_GENOTYPES = [(i, j) for i in range(3) for j in range(i, 3)]


RELATIONSHIP_THETA = [
    *((r, 0.0) for r in ("duo", "trio_couple", "trio_known_mother", "full_siblings", "half_siblings")),
    *((r, 0.0) for r in ("grandparent", "avuncular", "first_cousins", "identity")),
    *(
        (r, 0.05)
        for r in ("duo", "trio_couple", "trio_known_mother", "full_siblings", "grandparent", "identity")
    ),
]


@pytest.mark.parametrize(("relationship", "theta"), RELATIONSHIP_THETA)
@pytest.mark.parametrize("mutation", [None, EQUAL, MODELS[2]], ids=["none", "equal", "stepwise"])
def test_expected_lr_under_h2_is_exactly_one(relationship, mutation, theta):
    """Sum over every genotype combination of P(genotypes | H2) LR = sum of P(genotypes | H1) = 1."""
    rel = RELATIONSHIPS[relationship]
    locus = SMALL.locus("TPOX")  # three alleles, two stepwise groups
    m = mutation.matrix(locus) if mutation else None
    total_h2 = expected = 0.0
    for combo in itertools.product(ALL_GENOTYPES, repeat=len(rel.roles)):
        typing = dict(zip(rel.roles, combo, strict=True))
        h2 = float(pedigree_likelihood(rel.h2, typing, locus.frequencies, m, theta))
        if h2 == 0.0:
            continue
        genotypes = {r: (locus.alleles[a], locus.alleles[b]) for r, (a, b) in typing.items()}
        value, _ = marker_lr(rel, genotypes, locus, mutation, theta)
        total_h2 += h2
        expected += h2 * value
    assert total_h2 == pytest.approx(1.0, abs=1e-12)
    assert expected == pytest.approx(1.0, abs=1e-12)


def test_mean_lr_of_simulated_unrelated_pairs_is_near_one():
    rng = np.random.default_rng(7)
    locus = TABLE.locus("D3S1358")
    draws = rng.choice(len(locus.alleles), size=(4_000, 4), p=locus.frequencies)
    rel = RELATIONSHIPS["full_siblings"]
    values = [
        marker_lr(
            rel,
            {
                "person1": (locus.alleles[a], locus.alleles[b]),
                "person2": (locus.alleles[c], locus.alleles[d]),
            },
            locus,
            None,
            0.0,
        )[0]
        for a, b, c, d in draws
    ]
    assert np.mean(values) == pytest.approx(1.0, abs=0.05)


def test_per_marker_lrs_multiply_to_the_total_and_untyped_markers_count_one():
    result = case(
        "duo",
        {
            "parent": {"D8S1179": ["13", "15"], "TH01": ["9", "7"], "FGA": ["22"], "AMEL": ["X", "Y"]},
            "child": {"D8S1179": ["13", "16"], "TH01": ["9"], "vWA": ["14", "16"], "AMEL": ["X"]},
        },
    )
    assert set(result.per_marker) == {"D8S1179", "TH01", "FGA", "vWA"}
    assert result.untyped_markers == ("FGA", "vWA")
    assert result.per_marker["FGA"] == result.per_marker["vWA"] == 1.0
    assert result.lr == pytest.approx(math.prod(result.per_marker.values()), rel=1e-14)
    assert result.log10_lr == pytest.approx(math.log10(result.lr), rel=1e-12)


# ----------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("relationship", "persons", "kwargs", "message"),
    [
        ("cousins", {"person1": {"TH01": ["9"]}, "person2": {"TH01": ["9"]}}, {}, "unknown relationship"),
        ("duo", {"parent": {"TH01": ["9"]}}, {}, "needs the roles parent, child"),
        ("duo", {"parent": {"TH01": ["9"]}, "child": {"TH01": ["9"]}}, {"theta": 1.0}, "theta"),
        (
            "kappa",
            {"person1": {"TH01": ["9"]}, "person2": {"TH01": ["9"]}},
            {"kappa": (0.5, 0.6, 0.0)},
            "sum",
        ),
        (
            "kappa",
            {"person1": {"TH01": ["9"]}, "person2": {"TH01": ["9"]}},
            {"kappa": (0.5, 0.5, 0.0), "theta": 0.01},
            "neither",
        ),
        (
            "trio_known_mother",
            {"mother": {"TH01": ["6"]}, "alleged_father": {"TH01": ["9"]}, "child": {"TH01": ["9"]}},
            {},
            "mother",
        ),
    ],
)
def test_cases_that_cannot_be_computed_say_why(relationship, persons, kwargs, message):
    with pytest.raises(CaseError, match=message):
        case(relationship, persons, **kwargs)
