"""The power of a family's search (matching.power): hand-checked figures, orderings, additions, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from matching.errors import CaseError
from matching.family_pedigree import Member
from matching.frequencies import FrequencyTable
from matching.power import addable_roles, search_power
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profile

# One marker of four equally common alleles: every figure of a mother-child duo can be worked out by hand.
FLAT = FrequencyTable({"M1": {"1": 0.25, "2": 0.25, "3": 0.25, "4": 0.25}}, source="flat")
TABLE = FrequencyTable.default()
# The eight markers with fewest alleles: a small kit, so that the relatives' differences show and tests are quick.
SMALL = sorted(TABLE.markers, key=lambda m: len(TABLE.locus(m).alleles))[:8]
KIT = FrequencyTable.from_loci([TABLE.locus(m) for m in SMALL], source="small kit")
SMALL_KIT = {"table": KIT, "mutation": DEFAULT_MUTATION, "simulations": 4000, "candidate_lr": 100.0,
             "min_shared_markers": 8}  # fmt: skip


def test_a_duo_at_one_flat_marker_matches_the_hand_computed_figures() -> None:
    # Mother 1/2. The child's paternal allele is any of four, its maternal 1 or 2: children 1/1, 1/2, 2/2 have
    # LR 2 (H1 1/8, 1/4, 1/8 against H2 1/16, 1/8, 1/16), the others LR 1. So with the band at LR >= 2:
    # P(band | true child) = 1/2 and P(band | unrelated) = 1/16 + 1/8 + 1/16 = 1/4.
    mother = Profile({"M1": ("1", "2")})
    report = search_power({Member("m", "mother"): mother}, table=FLAT, mutation=None, simulations=20_000,
                          candidate_lr=2.0, min_shared_markers=1, additions=[])  # fmt: skip
    assert report.typed == ("mother",)
    assert report.today.true_rate == pytest.approx(0.5, abs=0.015)  # 4.5 standard errors
    # Every draw in the band has LR 2 exactly, so the importance-sampled rate is half the true rate.
    assert report.today.false_rate == pytest.approx(report.today.true_rate / 2)
    assert report.today.false_rate == pytest.approx(0.25, abs=0.008)
    assert report.today.expected_unrelated(1000) == pytest.approx(1000 * report.today.false_rate)


def test_the_trio_finds_more_true_children_and_fewer_unrelated_than_the_duo() -> None:
    rng = np.random.default_rng(7)
    father, mother = random_profile(KIT, rng), random_profile(KIT, rng)
    duo = search_power({Member("m", "mother"): mother}, additions=[], **SMALL_KIT)
    trio = search_power(
        {Member("m", "mother"): mother, Member("f", "father"): father}, additions=[], **SMALL_KIT
    )
    assert trio.today.true_rate > duo.today.true_rate
    assert trio.today.false_rate < duo.today.false_rate / 10
    assert 0.0 < duo.today.true_rate < 1.0


def test_a_mother_with_both_paternal_grandparents_beats_the_mother_alone() -> None:
    rng = np.random.default_rng(11)
    grandfather, grandmother, mother = (random_profile(KIT, rng) for _ in range(3))
    alone = search_power({Member("m", "mother"): mother}, additions=[], **SMALL_KIT)
    family = {Member("m", "mother"): mother, Member("a", "paternal_grandfather"): grandfather,
              Member("b", "paternal_grandmother"): grandmother}  # fmt: skip
    with_grandparents = search_power(family, additions=[], **SMALL_KIT)
    assert with_grandparents.typed == ("mother", "paternal_grandfather", "paternal_grandmother")
    assert with_grandparents.today.true_rate > alone.today.true_rate + 0.3
    # More true children in the band can bring more unrelated ones too, but never beyond the bound
    # P(LR >= t | unrelated) <= P(LR >= t | true) / t.
    for report in (alone, with_grandparents):
        assert 0.0 < report.today.false_rate <= report.today.true_rate / 100.0


def test_each_untyped_relative_is_a_scenario_and_the_father_helps_a_mother_most() -> None:
    rng = np.random.default_rng(3)
    mother = random_profile(KIT, rng)
    report = search_power({Member("m", "mother"): mother}, **SMALL_KIT)
    assert {s.added for s in report.additions} == set(addable_roles(("mother",)))
    assert report.best is not None and report.best.added == "father"
    rates = [s.true_rate for s in report.additions]
    assert rates == sorted(rates, reverse=True)
    # A grandparent alone is weaker evidence than the father, stronger than nothing more.
    grandmother = next(s for s in report.additions if s.added == "paternal_grandmother")
    assert report.today.true_rate <= grandmother.true_rate < report.best.true_rate


def test_the_figures_are_reproducible_by_seed_and_independent_of_the_scenarios_asked() -> None:
    rng = np.random.default_rng(5)
    mother = random_profile(KIT, rng)
    family = {Member("m", "mother"): mother}
    one = search_power(family, additions=["father", "full_sibling"], seed=9, **SMALL_KIT)
    two = search_power(family, additions=["full_sibling"], seed=9, **SMALL_KIT)
    other = search_power(family, additions=["full_sibling"], seed=10, **SMALL_KIT)
    assert one.today == two.today
    assert [s for s in one.additions if s.added == "full_sibling"] == list(two.additions)
    assert other.today.true_rate != one.today.true_rate or other.today.false_rate != one.today.false_rate


def test_addable_roles_skip_a_typed_parents_side_and_offer_the_other() -> None:
    assert addable_roles(("father",)) == (
        "mother", "full_sibling", "maternal_grandfather", "maternal_grandmother", "maternal_aunt_uncle",
    )  # fmt: skip
    assert "paternal_grandmother" in addable_roles(("mother", "paternal_grandfather"))
    assert "paternal_grandfather" not in addable_roles(("mother", "paternal_grandfather"))


def test_nobody_typed_has_no_power_today_and_the_parents_first() -> None:
    report = search_power({}, table=KIT, mutation=DEFAULT_MUTATION, simulations=2000, candidate_lr=100.0,
                          min_shared_markers=8, additions=["father", "paternal_grandmother"])  # fmt: skip
    assert report.today.true_rate == 0.0 and report.today.false_rate == 0.0
    assert report.best is not None and report.best.added == "father"


def test_too_few_markers_for_the_search_leave_no_power() -> None:
    rng = np.random.default_rng(1)
    mother = random_profile(KIT, rng)
    report = search_power(
        {Member("m", "mother"): mother}, additions=[], **{**SMALL_KIT, "min_shared_markers": 9}
    )
    assert report.today.true_rate == 0.0


def test_bad_requests_are_refused() -> None:
    with pytest.raises(CaseError):
        search_power({}, table=KIT, mutation=None, simulations=0)
    rng = np.random.default_rng(2)
    child = child_of(random_profile(KIT, rng), random_profile(KIT, rng), rng)
    with pytest.raises(CaseError):
        search_power({Member("+added", "mother"): child}, table=KIT, mutation=None, simulations=10)
