"""One-byte genotype codes (issue 20): the index keeps a byte per marker where the locus's codes fit in one (at
most 22 alleles) and two bytes for each larger locus (`matching.fast.Planes`); every kernel reads both
layouts and gives the same candidates and bit-identical sums as the plain two-byte codes."""

from __future__ import annotations

import numpy as np
import pytest

from matching import fast
from matching.batch import DuoScorer, TrioScorer
from matching.family_scan import FamilyScorer, PairScorer
from matching.fast import Planes, pack, packing
from matching.index import Encoder, Pool, identical_columns
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profile
from tests.matching.test_prune import ENCODING, TABLE, assert_same, population

ENCODER = Encoder(TABLE)


def _planes(codes: np.ndarray) -> Planes:
    where, _, _ = packing(ENCODER.untyped)
    return Planes(*pack(codes, where), where)


def test_planes_round_trip_and_select_candidates() -> None:
    _, fathers, _, _ = population(11, n=500)
    planes = _planes(fathers)
    assert (
        planes.narrow.dtype == np.uint8 and planes.wide.dtype == np.uint16 and planes.shape == fathers.shape
    )
    assert planes.wide.shape[0] == 4 and planes.narrow.shape[0] == len(TABLE.markers) - 4
    np.testing.assert_array_equal(planes.full(), fathers)
    for r in range(len(TABLE.markers)):
        np.testing.assert_array_equal(planes.row(r), fathers[r].astype(np.int64))
    pick = np.array([3, 1, 499])
    np.testing.assert_array_equal(planes[:, pick].full(), fathers[:, pick])
    np.testing.assert_array_equal(planes[:, 10:20].full(), fathers[:, 10:20])
    with pytest.raises(IndexError):
        planes[0, :]  # noqa: B018
    assert (fathers > 255).any()  # the population has codes beyond one byte


def test_pool_stores_what_it_is_given() -> None:
    _, fathers, mothers, _ = population(12, n=300)
    pool = Pool(ENCODER.untyped, 2)
    pool.add_block((fathers[:, :200], mothers[:, :200]), np.arange(400, dtype=np.int64).reshape(2, 200))
    for c in range(200, 300):
        pool.add((fathers[:, c], mothers[:, c]), (c, c + 1000))
    np.testing.assert_array_equal(pool.codes(0).full(), fathers)
    np.testing.assert_array_equal(pool.column(250, 1), mothers[:, 250])
    pool.remove(5)
    assert (pool.column(5) == ENCODER.untyped).all()
    pool.trim()
    assert pool.nbytes < 2 * 300 * (len(TABLE.markers) + 4) + 300 * 9 + 1


@pytest.mark.parametrize("mutation", [DEFAULT_MUTATION, None], ids=str)
def test_every_kernel_gives_the_same_sums_on_planes(mutation) -> None:
    child, fathers, mothers, planted = population(13, n=5000)
    f8, m8 = _planes(fathers), _planes(mothers)
    trio, duo = TrioScorer(ENCODING, child, mutation), DuoScorer(ENCODING, child, mutation)
    full_trio = trio.log10_lr(fathers, mothers, use_numba=False)
    full_duo = duo.log10_lr(fathers, use_numba=False)
    for use_numba in (True, False):
        np.testing.assert_array_equal(trio.log10_lr(f8, m8, use_numba=use_numba), full_trio)
        np.testing.assert_array_equal(duo.log10_lr(f8, use_numba=use_numba), full_duo)
        np.testing.assert_array_equal(
            trio.inconsistent_counts(f8, m8), trio.inconsistent_counts(fathers, mothers)
        )
    for threshold in (np.log10(2000.0) - 1e-6, float(full_trio[planted[0]]), 0.0, -np.inf):
        assert_same(trio.above(f8, m8, threshold), full_trio, threshold)
    for threshold in (1.0, float(full_duo[planted[0]]), -np.inf):
        assert_same(duo.above(f8, threshold), full_duo, threshold)
    fathers[:, 40] = fathers[:, 17]
    fathers[:8, 41] = ENCODER.untyped[:8]
    fathers[8:, 41] = fathers[8:, 17]
    column = fathers[:, 17].copy()
    shared, mismatch = identical_columns(column, ENCODER.untyped, _planes(fathers))
    want_shared, want_mismatch = identical_columns(column, ENCODER.untyped, fathers, use_numba=False)
    np.testing.assert_array_equal(mismatch, want_mismatch)  # the count is only kept where nothing differs
    np.testing.assert_array_equal(shared[~mismatch], want_shared[~mismatch])
    assert {17, 40, 41} <= set(np.flatnonzero(~mismatch).tolist())
    with pytest.raises(ValueError, match="one layout"):
        trio.above(f8, mothers, 0.0)


def test_family_side_scans_read_planes() -> None:
    rng = np.random.default_rng(14)
    father, mother = random_profile(TABLE, rng), random_profile(TABLE, rng)
    children = [random_profile(TABLE, rng) for _ in range(3000)] + [child_of(father, mother, rng)]
    codes = ENCODING.encode(children)
    planes = _planes(codes)
    family = FamilyScorer(ENCODING, "trio_couple", {"father": father, "mother": mother}, DEFAULT_MUTATION)
    pair = PairScorer(ENCODING, "full_siblings", children[-1], DEFAULT_MUTATION)
    for scorer, threshold in ((family, 3.0), (pair, 1.0)):
        full = scorer.log10_lr(codes, use_numba=False)
        np.testing.assert_array_equal(scorer.log10_lr(planes), full)
        assert_same(scorer.above(planes, threshold), full, threshold)
    assert family.above(planes, 3.0)[0].tolist()[-1:] == [3000]


def test_one_thread_and_parallel_builds_agree_on_planes() -> None:
    child, fathers, mothers, _ = population(15, n=fast.SERIAL_BELOW + 700)
    f8, m8 = _planes(fathers), _planes(mothers)
    trio = TrioScorer(ENCODING, child, DEFAULT_MUTATION)
    big = trio.above(f8, m8, -3.0)
    small = trio.above(f8[:, :700], m8[:, :700], -3.0)
    keep = big[0] < 700
    np.testing.assert_array_equal(small[0], big[0][keep])
    np.testing.assert_array_equal(small[1], big[1][keep])
