"""The lineage LR, checked against numbers worked out by hand from the cited rates and the counting bound."""

from __future__ import annotations

import math

import pytest

from matching.ystr.counting import clopper_pearson_upper, count_matches
from matching.ystr.haplotype import HaplotypeError, parse_haplotype
from matching.ystr.lineage import (
    MEIOSES,
    combined_log10_lr,
    lineage_lr,
    locus_probability,
    step_distribution,
)
from matching.ystr.loci import KIT_LOCI_COUNT, canonical_locus, loci

BOY = {"DYS19": "14", "DYS390": "23", "DYS385": ["13", "18"], "DYS576": "18"}


def test_the_kit_has_27_loci_with_the_cited_yhrd_counts():
    assert sum(locus.copies for locus in loci().values()) == KIT_LOCI_COUNT == 27
    assert {n for n, locus in loci().items() if locus.copies == 2} == {"DYS385", "DYF387S1"}
    assert (loci()["DYS19"].mutations, loci()["DYS19"].meioses) == (36, 16090)  # YHRD, data/CITATION.txt
    assert loci()["DYS518"].rate == pytest.approx(28 / 1556)
    assert {n for n, locus in loci().items() if locus.rapidly_mutating} == {
        "DYF387S1", "DYS449", "DYS518", "DYS570", "DYS576", "DYS627"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("DYS385a/b", "DYS385"), ("DYS385 b", "DYS385"), ("DYF387S1a", "DYF387S1"), ("Y GATA H4", "YGATAH4"),
     ("DYS389 II", "DYS389II"), ("dys389i", "DYS389I"), ("Y-GATA-C4", "DYS635")],
)  # fmt: skip
def test_lab_spellings_fold_to_the_kit_locus(written, canonical):
    assert canonical_locus(written) == canonical


def test_a_copy_suffix_is_only_dropped_on_a_multi_copy_locus():
    with pytest.raises(KeyError):
        canonical_locus("DYS19a")


def test_multi_copy_loci_are_unordered_pairs():
    a = parse_haplotype({"DYS385a": "18", "DYS385b": "13"}, min_loci=1)
    b = parse_haplotype({"DYS385 a/b": ["13", "18"]}, min_loci=1)
    assert a == b == {"DYS385": ("13", "18")}
    assert parse_haplotype({"DYF387S1": "36"}, min_loci=1) == {"DYF387S1": ("36", "36")}


@pytest.mark.parametrize(
    ("raw", "code"),
    [({"DYS19": ["14", "15"]}, "two_alleles"), ({"DYS385": ["11", "13", "14"]}, "too_many_alleles"),
     ({"DYS999": "12"}, "unknown_locus"), ({"D8S1179": "12"}, "unknown_locus"), ({"DYS19": "OL"}, "bad_allele"),
     ({"DYS19": "0"}, "implausible_allele"), ({"DYS19": "99"}, "implausible_allele"),
     ({"DYS385": "13", "DYS385a": "14"}, "locus_twice"), ({"DYS19": "14", "dys 19": "14"}, "locus_twice")],
)  # fmt: skip
def test_bad_haplotypes_are_refused_with_a_code(raw, code):
    with pytest.raises(HaplotypeError) as caught:
        parse_haplotype(raw, min_loci=1)
    assert caught.value.code == code


def test_too_few_loci_is_refused():
    with pytest.raises(HaplotypeError, match="too_few_loci"):
        parse_haplotype({"DYS19": "14"}, min_loci=2)


def test_step_distribution_two_meioses_by_hand():
    mu = 0.01
    d = step_distribution(mu, 2)
    assert d[0] == pytest.approx((1 - mu) ** 2 + 2 * (mu / 2) ** 2)
    assert d[1] == d[-1] == pytest.approx(mu * (1 - mu))
    assert d[2] == pytest.approx((mu / 2) ** 2)
    assert sum(d.values()) == pytest.approx(1.0)


def test_locus_probability_single_and_pair():
    mu = 0.002
    assert locus_probability(("14",), ("14",), mu, 1) == pytest.approx(1 - mu)
    assert locus_probability(("15",), ("14",), mu, 1) == pytest.approx(mu / 2)
    assert locus_probability(("16",), ("14",), mu, 1) == 0.0  # two steps in one meiosis: not single-step
    assert locus_probability(("13.2",), ("13",), mu, 3) == 0.0  # a partial repeat never appears by a step
    # {13, 14} from {13, 14}: copies kept (1-mu)^2, or both swapped by one step each (mu/2)^2
    assert locus_probability(("13", "14"), ("13", "14"), mu, 1) == pytest.approx(
        (1 - mu) ** 2 + (mu / 2) ** 2
    )
    # {13, 13} from {13, 14}: one pairing only, 13 kept and 14 -> 13
    assert locus_probability(("13", "13"), ("13", "14"), mu, 1) == pytest.approx((1 - mu) * mu / 2)


def test_clopper_pearson_upper_bound():
    assert clopper_pearson_upper(0, 19) == pytest.approx(1 - 0.05 ** (1 / 19))
    assert clopper_pearson_upper(0, 0) == 1.0
    # x = 1 of n = 10: P(X <= 1 | 10, p) = 0.05 solved by hand-checked bisection, 0.3942 (binomial tables)
    p = clopper_pearson_upper(1, 10)
    assert (1 - p) ** 10 + 10 * p * (1 - p) ** 9 == pytest.approx(0.05, abs=1e-9)
    assert p == pytest.approx(0.3942, abs=1e-4)
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2)


def test_counting_skips_haplotypes_that_lack_a_locus():
    h = {"DYS19": ("14",), "DYS390": ("23",)}
    database = [h, {"DYS19": ("14",)}, {"DYS19": ("15",), "DYS390": ("23",)}, dict(h)]
    assert count_matches(h, database) == (2, 3)


def test_father_son_lineage_lr_by_hand():
    boy = parse_haplotype(BOY, min_loci=1)
    father = parse_haplotype({**BOY, "DYS576": "19"}, min_loci=1)  # one single-step mutation at DYS576
    database = [parse_haplotype({**BOY, "DYS19": str(12 + i % 5)}, min_loci=1) for i in range(19)]
    r = lineage_lr(boy, father, MEIOSES["father"], database)
    mu = {n: loci()[n].mutations / loci()[n].meioses for n in ("DYS19", "DYS390", "DYS385", "DYS576")}
    transmission = (1 - mu["DYS19"]) * (1 - mu["DYS390"]) * (1 - mu["DYS385"]) ** 2 * mu["DYS576"] / 2
    # the boy's haplotype: DYS19 = 14 is i % 5 == 2, 4 of 19 (i = 2, 7, 12, 17)
    assert (r.matches, r.database) == (4, 19)
    frequency = clopper_pearson_upper(4, 19)
    assert r.frequency == frequency
    assert r.log10_lr == pytest.approx(math.log10(transmission / frequency), rel=1e-12)
    assert [e.locus for e in r.loci] == ["DYS576", "DYS19", "DYS390", "DYS385"]  # the kit's order
    assert r.inconsistent == []


def test_an_uncle_three_meioses_away_tolerates_two_steps_and_a_microvariant_excludes():
    boy = parse_haplotype(BOY, min_loci=1)
    uncle = parse_haplotype({**BOY, "DYS576": "20"}, min_loci=1)
    r = lineage_lr(boy, uncle, MEIOSES["paternal_aunt_uncle"], [])
    mu = loci()["DYS576"].rate
    dys576 = next(e for e in r.loci if e.locus == "DYS576")
    assert dys576.probability == pytest.approx(3 * (mu / 2) ** 2 * (1 - mu))  # 2 steps down in 3 meioses
    assert r.frequency == 1.0 and r.database == 0  # no database: the frequency bound says nothing
    other = parse_haplotype({**BOY, "DYS19": "14.2"}, min_loci=1)
    excluded = lineage_lr(boy, other, 3, [])
    assert excluded.log10_lr is None and excluded.inconsistent == ["DYS19"]


def test_only_shared_loci_count():
    boy = parse_haplotype(BOY, min_loci=1)
    partial = parse_haplotype({"DYS19": "14", "DYS390": "23"}, min_loci=1)
    r = lineage_lr(boy, partial, 1, [partial, boy])
    assert [e.locus for e in r.loci] == ["DYS19", "DYS390"] and (r.matches, r.database) == (2, 2)


def test_combined_lr_multiplies_and_zero_stays_zero():
    assert combined_log10_lr(5.0, 2.5) == 7.5
    assert combined_log10_lr(5.0, None) is None and combined_log10_lr(None, 2.0) is None
