"""Joint pedigrees: one family pedigree per case, its LR equal to kinship_lr, trio and duo as before, the scans."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matching import shapes
from matching.bands import Band
from matching.batch import GenotypeEncoding
from matching.errors import CaseError
from matching.family_pedigree import CHILD, Member, family_pedigree
from matching.frequencies import FrequencyTable, Locus
from matching.joint import PedigreeFamilyScorer, joint_lr
from matching.joint_index import PEDIGREE, PedigreeIndex
from matching.kinship import KinshipCase, kinship_lr
from matching.likelihood import pedigree_likelihood
from matching.mutation import MutationModel
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION, Entry, Side
from matching.simulate import child_of, random_profile

TABLE = FrequencyTable.default()
ENCODING = GenotypeEncoding(TABLE)
SHAPES = [
    ("mother", "paternal_grandfather", "paternal_grandmother"),
    ("father", "mother"),
    ("mother",),
    ("father",),
    ("mother", "paternal_grandfather"),
    ("father", "maternal_grandfather", "maternal_grandmother", "maternal_aunt_uncle"),
    ("paternal_grandfather", "paternal_grandmother", "maternal_grandmother"),
    ("father", "mother", "full_sibling", "full_sibling"),
    ("mother", "maternal_half_sibling", "paternal_aunt_uncle"),
    ("mother", "full_sibling"),
    ("father", "paternal_half_sibling", "maternal_aunt_uncle"),
]


def family_of(rng: np.random.Generator, roles: tuple[str, ...]) -> dict[Member, Profile]:
    return {Member(f"m{i}", role): random_profile(TABLE, rng) for i, role in enumerate(roles)}


def test_pedigree_places_every_sided_role_on_its_side() -> None:
    members = [
        Member("pgf", "paternal_grandfather"),
        Member("mgm", "maternal_grandmother"),
        Member("mother", "mother"),
        Member("aunt", "paternal_aunt_uncle"),
        Member("sib", "full_sibling"),
        Member("half", "maternal_half_sibling"),
        Member("old", "grandparent"),
    ]
    ped = family_pedigree(members)
    h1 = {p.name: (p.father, p.mother) for p in ped.relationship.h1.persons}
    assert h1[CHILD] == ("_father", "mother")
    assert h1["_father"] == ("pgf", "_father_1")  # the untyped paternal grandmother is a founder
    assert h1["aunt"] == ("pgf", "_father_1")
    assert h1["mother"] == ("_mother_0", "mgm")
    assert h1["sib"] == ("_father", "mother")
    assert h1["half"] == ("_half_other_parent", "mother")
    h2 = {p.name: (p.father, p.mother) for p in ped.relationship.h2.persons}
    assert h2[CHILD] == (None, None) and {k: v for k, v in h2.items() if k != CHILD} == {
        k: v for k, v in h1.items() if k != CHILD
    }
    assert [m.name for m in ped.left_out] == ["old"]  # unsided: scored on its own, not placed
    assert ped.typed_roles == (
        "mother", "full_sibling", "maternal_half_sibling", "paternal_grandfather", "maternal_grandmother",
        "paternal_aunt_uncle",
    )  # fmt: skip
    assert ped.sexes["pgf"] == "male" and ped.sexes["mgm"] == "female"


def test_pedigree_refuses_what_is_not_one_pedigree() -> None:
    with pytest.raises(CaseError, match="two persons are typed as the mother"):
        family_pedigree([Member("a", "mother"), Member("b", "mother")])
    with pytest.raises(CaseError, match="no member"):
        family_pedigree([Member("a", "grandparent"), Member("b", "other_relative")])


@pytest.mark.parametrize("roles", SHAPES, ids=["+".join(s) for s in SHAPES])
def test_joint_lr_is_kinship_lr_and_the_family_tables(roles: tuple[str, ...]) -> None:
    """The family-side tables and the child-side slots give kinship_lr's LR on the same pedigree (1e-9)."""
    rng = np.random.default_rng(len(roles) * 31 + hash(roles) % 1000)
    family = family_of(rng, roles)
    child = random_profile(TABLE, rng)
    ped, result = joint_lr(child, family, DEFAULT_MUTATION, 0.0, TABLE)
    persons = {m.name: p for m, p in family.items()} | {CHILD: child}
    direct = kinship_lr(KinshipCase(ped.relationship, persons, DEFAULT_MUTATION), TABLE)
    assert result.log10_lr == pytest.approx(direct.log10_lr, rel=1e-12)
    scorer = PedigreeFamilyScorer(ENCODING, ped, {m.name: p for m, p in family.items()}, DEFAULT_MUTATION)
    table_sum = scorer.log10_lr(ENCODING.encode([child]))[0]
    assert table_sum == pytest.approx(result.log10_lr, rel=1e-9)
    block, exact = shapes.family_slots(ENCODING, [(m.role, p) for m, p in family.items()])
    expected_exact = "full_sibling" not in roles[1:] or {"father", "mother"} <= set(roles)
    expected_exact &= not ({"maternal_half_sibling", "paternal_half_sibling"} & set(roles))
    expected_exact &= not ("paternal_aunt_uncle" in roles and "paternal_grandmother" not in roles)
    assert exact == expected_exact
    if exact:
        vectors = shapes.ChildVectors(ENCODING, child, DEFAULT_MUTATION)
        for use_numba in (True, False):
            assert shapes.log10_lr(vectors, block, use_numba=use_numba)[0] == pytest.approx(
                result.log10_lr, rel=1e-9
            )


@pytest.mark.parametrize("mutation", [None, DEFAULT_MUTATION, MutationModel("equal", 0.005)])
def test_trio_and_duo_are_todays_numbers(mutation: MutationModel | None) -> None:
    rng = np.random.default_rng(7)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    child = child_of(father, mother, rng)
    _, trio = joint_lr(child, {Member("f", "father"): father, Member("m", "mother"): mother}, mutation)
    today = kinship_lr(
        KinshipCase("trio_couple", {"father": father, "mother": mother, "child": child}, mutation)
    )
    assert trio.per_marker == today.per_marker and trio.lr == today.lr
    for role, parent in (("mother", mother), ("father", father)):
        _, duo = joint_lr(child, {Member("p", role): parent}, mutation)
        today = kinship_lr(KinshipCase("duo", {"parent": parent, "child": child}, mutation))
        assert duo.per_marker == today.per_marker and duo.lr == today.lr


def test_theta_reaches_the_pedigree() -> None:
    rng = np.random.default_rng(3)
    markers = TABLE.markers[:3]
    mother = random_profile(TABLE, rng, markers)
    child = child_of(mother, random_profile(TABLE, rng, markers), rng)
    family = {Member("m", "mother"): mother}
    _, plain = joint_lr(child, family, None, 0.0)
    _, corrected = joint_lr(child, family, None, 0.02)
    today = kinship_lr(KinshipCase("duo", {"parent": mother, "child": child}, None, 0.02))
    assert corrected.lr == pytest.approx(today.lr, rel=1e-12) and corrected.lr != plain.lr


# ---- reference values from the pedsuite's own tests ------------------------------------------------------------
# pedprobr, tests/testthat/test-likelihood.R and test-mutations.R at commit
# 3de93683547bba5493755a427c0273447381c86d (github.com/magnusdv/pedprobr), and forrel,
# tests/testthat/test-kinshipLR.R at commit 8c712540d91762a45c1403baecdeeae6a06f9441 (github.com/magnusdv/forrel).
# Their expected values are closed forms in the allele frequencies; the pedigrees are rebuilt by family_pedigree
# and the likelihoods computed by matching.likelihood.


def _likelihood(members: list[Member], typing: dict[str, tuple[int, int]], p: np.ndarray, m=None) -> float:  # type: ignore[no-untyped-def]
    ped = family_pedigree(members)
    return float(pedigree_likelihood(ped.relationship.h1, typing, p, m))


def test_pedprobr_three_generations() -> None:
    """test-likelihood.R "likelihoods are correct in 3 generat. SNP example": nuclearPed(1), addParents to both
    parents; the paternal grandfather (4), the maternal grandmother (7) and the child (3) all 1/2, p = 0.2:
    likelihood (2pq)^2 (3/8 + pq/2)."""
    p, q = 0.2, 0.8
    members = [Member("pgf", "paternal_grandfather"), Member("mgm", "maternal_grandmother")]
    typing = {"pgf": (0, 1), "mgm": (0, 1), CHILD: (0, 1)}
    assert _likelihood(members, typing, np.array([p, q])) == pytest.approx(
        (2 * p * q) ** 2 * (3 / 8 + p * q / 2)
    )


def test_pedprobr_siblings_and_trio() -> None:
    """test-likelihood.R: "sibling SNP example" (nuclearPed(2), both children 2/2, p = 0.2: 1/4 q^2 (1+q)^2) and
    "trio SNP examples" (all 1/2: 2 p^2 q^2; father and child 1/2, mother untyped: p q)."""
    p, q = 0.2, 0.8
    freqs = np.array([p, q])
    sib = _likelihood([Member("s", "full_sibling")], {"s": (1, 1), CHILD: (1, 1)}, freqs)
    assert sib == pytest.approx(0.25 * q**2 * (1 + q) ** 2)
    trio = [Member("f", "father"), Member("m", "mother")]
    assert _likelihood(trio, {"f": (0, 1), "m": (0, 1), CHILD: (0, 1)}, freqs) == pytest.approx(
        2 * p**2 * q**2
    )
    assert _likelihood(trio, {"f": (0, 1), CHILD: (0, 1)}, freqs) == pytest.approx(p * q)


def test_pedprobr_trio_with_mutation() -> None:
    """test-mutations.R "trio - someTyped - mutation": p = 0.9, father 1/1, mother 1/1, child 2/2, equal model
    rate 0.1: p^4 r^2 (r = M[1,2]); father 1/1 and child 2/2 alone, proportional model rate 0.1: p^2 q r."""
    p, q = 0.9, 0.1
    freqs = np.array([p, q])
    equal = MutationModel("equal", 0.1)._matrix(_locus(freqs))
    trio = [Member("f", "father"), Member("m", "mother")]
    got = _likelihood(trio, {"f": (0, 0), "m": (0, 0), CHILD: (1, 1)}, freqs, equal)
    assert got == pytest.approx(p**4 * equal[0, 1] ** 2)
    proportional = MutationModel("proportional", 0.1)._matrix(_locus(freqs))
    got = _likelihood([Member("f", "father")], {"f": (0, 0), CHILD: (1, 1)}, freqs, proportional)
    assert got == pytest.approx(p**2 * q * proportional[0, 1])
    assert proportional[0, 1] == pytest.approx(0.1 / (2 * p * q) * q)  # pedmut's proportional model


def test_forrel_paternity_kinship_lr() -> None:
    """test-kinshipLR.R "kinshipLR() computes correctly in paternity case": father and child A/A at two markers,
    A at 0.05 and 0.1: LR 20 * 10 = 200."""
    table = FrequencyTable.from_loci(
        [Locus("M1", ("10", "11"), np.array([0.05, 0.95])), Locus("M2", ("10", "11"), np.array([0.1, 0.9]))]
    )
    father = Profile({"M1": ("10", "10"), "M2": ("10", "10")})
    _, result = joint_lr(father, {Member("f", "father"): father}, None, 0.0, table)
    assert result.lr == pytest.approx(200.0)
    assert result.per_marker == pytest.approx({"M1": 20.0, "M2": 10.0})


def _locus(freqs: np.ndarray) -> Locus:
    return Locus("M", ("1", "2"), freqs)


# ---- the index ---------------------------------------------------------------------------------------------------

_ids = itertools.count(5_000_000)


def _entry(profile: Profile, side: Side, role: str, case: int) -> Entry:
    n = next(_ids)
    return Entry(f"p{n}", n, case, side, role, "unknown", profile)


def _world(rng: np.random.Generator, n: int) -> tuple[list[Entry], Profile, dict[str, Profile]]:
    """n unrelated families (mother and both paternal grandparents, or mother and one full sibling), and the
    true family of one child: its mother and paternal grandparents (case 1)."""
    entries = []
    for case in range(100, 100 + n):
        roles = (
            ("mother", "paternal_grandfather", "paternal_grandmother")
            if case % 2
            else ("mother", "full_sibling")
        )
        entries += [_entry(random_profile(TABLE, rng), Side.FAMILY, r, case) for r in roles]
    gf, gm, mother, other = (random_profile(TABLE, rng) for _ in range(4))
    father = child_of(gf, gm, rng)
    child = child_of(father, mother, rng)
    true = {"mother": mother, "paternal_grandfather": gf, "paternal_grandmother": gm}
    return entries, child, true


@pytest.mark.parametrize("order", ["family_first", "child_first"])
def test_index_finds_the_child_by_the_joint_pedigree(order: str) -> None:
    """Mother + paternal grandparents: neither the duo nor a grandparent alone is a candidate, the pedigree is;
    found from the child's side and from the family's (a new grandparent arrives)."""
    rng = np.random.default_rng(11)
    entries, child, true = _world(rng, 200)
    index = PedigreeIndex(TABLE)
    index.add_many(entries)
    family = [_entry(p, Side.FAMILY, r, 1) for r, p in true.items()]
    kid = _entry(child, Side.CHILD, "child", 2)
    if order == "family_first":
        index.add_many(family)
        index.add(kid)
        result = index.search(kid.profile_id)
    else:
        index.add(kid)
        index.add_many(family[:2])
        index.add(family[2])  # the paternal grandmother arrives: her search rebuilds the case's pedigree
        result = index.search(family[2].profile_id)
    joint = [c for c in result.comparisons if c.relationship == PEDIGREE]
    assert [c.family_case_id for c in joint] == [1]
    found = joint[0]
    assert found.pedigree == ("mother", "paternal_grandfather", "paternal_grandmother")  # type: ignore[attr-defined]
    assert found.family_profile_ids == tuple(sorted(e.profile_id for e in family))
    expected = joint_lr(child, {Member(r, r): p for r, p in true.items()}, DEFAULT_MUTATION, 0.0, TABLE)[1]
    assert found.log10_lr == pytest.approx(expected.log10_lr, rel=1e-12)
    assert found.band in (Band.CANDIDATE, Band.INCONCLUSIVE)
    assert {r for e in found.evidence for r in e.genotypes} == {"child", *true}
    duo = [c for c in result.comparisons if c.relationship == "duo" and c.family_case_id == 1]
    assert all(c.log10_lr < found.log10_lr for c in duo)


def test_index_forgets_a_pedigree_whose_relatives_leave() -> None:
    rng = np.random.default_rng(5)
    entries, child, true = _world(rng, 10)
    index = PedigreeIndex(TABLE)
    family = [_entry(p, Side.FAMILY, r, 1) for r, p in true.items()]
    index.add_many([*entries, *family])
    assert index.pedigree_of(1) is not None
    index.remove(family[1].profile_id)
    assert index.pedigree_of(1).typed_roles == ("mother", "paternal_grandmother")  # type: ignore[union-attr]
    index.remove(family[2].profile_id)
    assert index.pedigree_of(1) is None  # the mother alone is today's duo
    kid = _entry(child, Side.CHILD, "child", 2)
    index.add(kid)
    assert not [c for c in index.search(kid.profile_id).comparisons if c.relationship == PEDIGREE]


def test_the_index_keeps_no_pedigree_object_and_makes_the_same_one_again() -> None:
    """Per case the index keeps its family members' slots and roles, not a `FamilyPedigree` (about 2 KB a case);
    the pedigree it makes again is the one `family_pedigree` makes from the case's family members, unsided ones
    left out, after adds in a block and one by one, and removals."""
    rng = np.random.default_rng(29)
    entries, _, true = _world(rng, 20)
    index = PedigreeIndex(TABLE)
    unsided = [
        _entry(random_profile(TABLE, rng), Side.FAMILY, role, case)
        for role, case in (("grandparent", 101), ("other_relative", 102))
    ]
    index.add_many([*entries, *unsided])
    for entry in [_entry(p, Side.FAMILY, r, 1) for r, p in true.items()]:
        index.add(entry)
    index.remove(entries[0].profile_id)
    index.remove(entries[3].profile_id)
    assert len(index._families) > 10
    for case, kept in index._families.items():
        assert isinstance(kept, bytes)  # no object per case: its row, members' slots and role codes as bytes
        family = index._family(case)
        assert family is not None and family.slots == tuple(
            s for s in index.members(case) if index.side_of(s) is Side.FAMILY
        )
        members = [
            Member(str(s), index.role_of(s)) for s in index.members(case) if index.side_of(s) is Side.FAMILY
        ]
        assert index.pedigree_of(case) == family_pedigree(members)
    assert index.pedigree_of(101).left_out  # type: ignore[union-attr]


def test_a_bulk_build_leaves_no_room_in_the_pedigree_slots() -> None:
    rng = np.random.default_rng(31)
    entries, child, true = _world(rng, 40)
    index = PedigreeIndex(TABLE)
    index.add_many(entries)
    assert index._used == 20 and len(index._slots) == len(index._slot_case) == 20  # mother + grandparents
    index.add_many([_entry(p, Side.FAMILY, r, 1) for r, p in true.items()])
    kid = _entry(child, Side.CHILD, "child", 2)
    index.add(kid)
    assert index._used == 21 and [
        c.family_case_id for c in index.search(kid.profile_id).comparisons if c.relationship == PEDIGREE
    ] == [1]


def test_the_pruned_child_scan_keeps_exactly_the_families_that_reach_the_threshold() -> None:
    """Many unrelated pedigrees and a few true ones: the pruned numba scan returns the same families and sums as
    filtering the full numpy sum, at thresholds around the true families' LRs."""
    rng = np.random.default_rng(17)
    roles = ["mother", "paternal_grandfather", "paternal_grandmother"]
    people = {r: [random_profile(TABLE, rng) for _ in range(400)] for r in roles}
    child = random_profile(TABLE, rng)
    gf, gm = people["paternal_grandfather"][7], people["paternal_grandmother"][7]
    child = child_of(child_of(gf, gm, rng), people["mother"][7], rng)
    block, exact = shapes.slots(ENCODING, roles, [ENCODING.encode(people[r]) for r in roles])
    assert exact.all()
    vectors = shapes.ChildVectors(ENCODING, child, DEFAULT_MUTATION)
    full = shapes.log10_lr_numpy(vectors, block)
    for threshold in (-np.inf, -20.0, 0.0, float(full[7]), float(full[7]) + 1.0):
        found, sums = shapes.above(vectors, block, threshold)
        expected = np.flatnonzero(full >= threshold - 1e-6)
        assert found.tolist() == expected.tolist()
        np.testing.assert_allclose(sums, full[expected], rtol=1e-12)
    assert 7 in shapes.above(vectors, block, 4.0)[0]


def test_a_shape_the_slots_cannot_hold_is_screened_by_its_units() -> None:
    """A mother and a full sibling (father untyped): not exact in the slots, so the child's search recomputes the
    pedigree for the family its duo unit found; the pedigree's LR is above the duo's."""
    rng = np.random.default_rng(23)
    entries, _, _ = _world(rng, 30)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    sibling, child = child_of(father, mother, rng), child_of(father, mother, rng)
    index = PedigreeIndex(TABLE)
    index.add_many(
        [*entries, _entry(mother, Side.FAMILY, "mother", 1), _entry(sibling, Side.FAMILY, "full_sibling", 1)]
    )
    assert index._family(1).row == -1  # type: ignore[union-attr]  # screened by its units
    kid = _entry(child, Side.CHILD, "child", 2)
    index.add(kid)
    result = index.search(kid.profile_id)
    [joint] = [c for c in result.comparisons if c.relationship == PEDIGREE]
    [duo] = [c for c in result.comparisons if c.relationship == "duo" and c.family_case_id == 1]
    assert joint.family_case_id == 1 and joint.pedigree == ("mother", "full_sibling")  # type: ignore[attr-defined]
    assert joint.log10_lr > duo.log10_lr
