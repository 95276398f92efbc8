"""The scans behind matching.search are exact: each pair's scan LR equals matching.kinship's, and the index's
storage (codes, pools, identity kernel) round-trips."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from matching.batch import DuoScorer, TrioScorer
from matching.family_scan import RELATIVE_RELATIONSHIP, FamilyScorer, PairScorer
from matching.frequencies import FrequencyTable
from matching.index import Encoder, Pool, identical_columns
from matching.kinship import KinshipCase, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION, Entry, MatchIndex, Side
from matching.simulate import child_of, random_profile, restrict

TABLE = FrequencyTable.default()
ENCODER = Encoder(TABLE)
FEW = TABLE.markers[:4]


def _children(rng: np.random.Generator, father: Profile, mother: Profile) -> list[Profile]:
    """Random children, true children (one mutated), and some with markers missing."""
    kids = [random_profile(TABLE, rng) for _ in range(6)]
    kids += [child_of(father, mother, rng), child_of(father, mother, rng, 0.3, table=TABLE)]
    kids.append(restrict(kids[-1], TABLE.markers[::2]))
    return kids


def _kinship(
    relationship: str, persons: dict[str, Profile], mutation: MutationModel | None, theta: float
) -> float:
    return kinship_lr(KinshipCase(relationship, persons, mutation, theta), TABLE).log10_lr


@pytest.mark.parametrize(
    ("mutation", "theta"), [(None, 0.0), (DEFAULT_MUTATION, 0.0), (DEFAULT_MUTATION, 0.02)]
)
@pytest.mark.parametrize("relationship", ["trio_couple", "duo", *RELATIVE_RELATIONSHIP.values()])
def test_family_scorer_equals_kinship_lr_per_child(
    relationship: str, mutation: MutationModel | None, theta: float
) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{relationship}{theta}".encode()))
    markers = FEW if theta else TABLE.markers  # theta's pedigree likelihood is slow on the full kit
    father, mother = random_profile(TABLE, rng, markers), random_profile(TABLE, rng, markers)
    mother = restrict(mother, markers[1:])  # one marker typed in the father only
    family = {
        "trio_couple": {"father": father, "mother": mother},
        "duo": {"parent": father},
    }.get(relationship, {"person1": father})
    child_role = "child" if relationship in ("trio_couple", "duo") else "person2"
    kids = [restrict(k, markers) for k in _children(rng, father, mother)]
    scorer = FamilyScorer(ENCODER.encoding, relationship, family, mutation, theta)
    codes = np.stack([ENCODER.encode(k)[0] for k in kids], axis=1)
    got = scorer.log10_lr(codes)
    numpy_path = scorer.log10_lr(codes, use_numba=False)
    for k, kid in enumerate(kids):
        want = _kinship(relationship, {**family, child_role: kid}, mutation, theta)
        if np.isneginf(want):
            assert np.isneginf(got[k])
        else:
            assert got[k] == pytest.approx(want, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(got, numpy_path, rtol=1e-12)
    for threshold in (-np.inf, -2.0, 0.0, 3.0):  # the pruned scan finds exactly the columns of the full sum
        found, values = scorer.above(codes, threshold)
        assert found.tolist() == np.flatnonzero(got >= threshold).tolist()
        np.testing.assert_array_equal(values, got[found])


@pytest.mark.parametrize("relationship", RELATIVE_RELATIONSHIP.values())
def test_pair_scorer_equals_kinship_lr_per_relative(relationship: str) -> None:
    rng = np.random.default_rng(7)
    child = random_profile(TABLE, rng)
    relatives = _children(rng, child, random_profile(TABLE, rng))
    scorer = PairScorer(ENCODER.encoding, relationship, child, DEFAULT_MUTATION)
    got = scorer.log10_lr(np.stack([ENCODER.encode(r)[0] for r in relatives], axis=1))
    for k, relative in enumerate(relatives):
        want = _kinship(relationship, {"person1": relative, "person2": child}, DEFAULT_MUTATION, 0.0)
        assert got[k] == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_child_side_and_family_side_scans_agree() -> None:
    """The trio and duo scans of batch.py (child fixed) and FamilyScorer (family fixed) give the same LRs."""
    rng = np.random.default_rng(21)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    for kid in _children(rng, father, mother):
        trio = TrioScorer(ENCODER.encoding, kid, DEFAULT_MUTATION)
        fam = FamilyScorer(
            ENCODER.encoding, "trio_couple", {"father": father, "mother": mother}, DEFAULT_MUTATION
        )
        f, m, c = (ENCODER.encode(p)[0][:, None] for p in (father, mother, kid))
        assert trio.log10_lr(f, m)[0] == pytest.approx(fam.log10_lr(c)[0], rel=1e-9)
        duo = DuoScorer(ENCODER.encoding, kid, DEFAULT_MUTATION)
        fam_duo = FamilyScorer(ENCODER.encoding, "duo", {"parent": mother}, DEFAULT_MUTATION)
        assert duo.log10_lr(m)[0] == pytest.approx(fam_duo.log10_lr(c)[0], rel=1e-9)


def test_encoder_round_trips_and_marks_odd_profiles() -> None:
    rng = np.random.default_rng(22)
    profile = random_profile(TABLE, rng)
    column, odd = ENCODER.encode(profile)
    assert not odd and ENCODER.decode(column).genotypes == profile.genotypes
    rare = Profile({**profile.genotypes, "TH01": ("9", "14.3")})  # 14.3 is not in the table
    column, odd = ENCODER.encode(rare)
    assert odd and "TH01" not in ENCODER.decode(column).genotypes
    assert ENCODER.encode(Profile({**profile.genotypes, "SE33": ("20", "21")}))[1]


def test_an_allele_the_table_lacks_is_imputed_in_the_exact_evidence() -> None:
    rng = np.random.default_rng(23)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    child = child_of(father, mother, rng)
    allele = father.genotypes["TH01"][0]
    father = Profile({**father.genotypes, "TH01": (allele, "14.3")})
    index = MatchIndex(TABLE)
    index.add(Entry("dad", 1, 1, Side.FAMILY, "father", "male", father))
    index.add(Entry("mum", 2, 1, Side.FAMILY, "mother", "female", mother))
    index.add(Entry("kid", 3, 2, Side.CHILD, "child", "unknown", child))
    (found,) = index.search("kid").comparisons
    th01 = next(e for e in found.evidence if e.marker == "TH01")
    assert th01.genotypes["father"] == (allele, "14.3")
    want = _kinship(
        "trio_couple", {"father": father, "mother": mother, "child": child}, DEFAULT_MUTATION, 0.0
    )
    assert found.log10_lr == pytest.approx(want)


def test_identity_kernel_matches_numpy() -> None:
    rng = np.random.default_rng(24)
    profiles = [random_profile(TABLE, rng) for _ in range(50)]
    profiles[7] = profiles[3]
    profiles[9] = restrict(profiles[3], TABLE.markers[:10])
    codes = np.stack([ENCODER.encode(p)[0] for p in profiles], axis=1)
    column = codes[:, 3].copy()
    shared, mismatch = identical_columns(column, ENCODER.untyped, codes)
    ref_shared, ref_mismatch = identical_columns(column, ENCODER.untyped, codes, use_numba=False)
    np.testing.assert_array_equal(mismatch, ref_mismatch)
    np.testing.assert_array_equal(shared[~mismatch], ref_shared[~mismatch])
    assert sorted(np.flatnonzero(~mismatch).tolist()) == [3, 7, 9]
    assert shared[9] == 10 and shared[7] == len(TABLE.markers)


def test_pool_block_add_and_removal_reset_codes() -> None:
    pool = Pool(ENCODER.untyped, 2)
    rng = np.random.default_rng(25)
    columns = np.stack([ENCODER.encode(random_profile(TABLE, rng))[0] for _ in range(5)], axis=1)
    slots = pool.add_block((columns, columns[:, ::-1]), np.arange(10, dtype=np.int64).reshape(2, 5))
    assert slots.tolist() == [0, 1, 2, 3, 4] and len(pool) == 5
    pool.remove(2)
    pool.remove(2)
    assert len(pool) == 4 and not pool.valid[2]
    assert (pool.column(2, 0) == ENCODER.untyped).all() and pool.owner[:, 2].tolist() == [-1, -1]
    assert pool.add((columns[:, 0], columns[:, 1]), (1, 2)) == 2
    np.testing.assert_array_equal(pool.column(2, 1), columns[:, 1])
    np.testing.assert_array_equal(pool.codes(1).full()[:, 2], columns[:, 1])
