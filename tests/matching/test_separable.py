"""The separable trio scan (theta 0: two vectors per marker, `matching.batch.SeparableTrioScorer`) returns every
couple that the reference full sum over the 2-D tables (`fast.sum_trio_numpy`) puts at or above the threshold, and
nothing more than the rounding margin below it: random populations with planted parents (some mutated), untyped
markers of the child, untyped parents (one or both at a marker), homozygous children, thresholds exactly on LRs
and one float either side, with and without mutation, on plain codes, one-byte codes and the index's planes; and
the searches and the re-match find the same with it as with the 2-D scan."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from matching import fast
from matching.batch import GenotypeEncoding, SeparableTrioScorer, TrioScorer, trio_scorer
from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel
from matching.profiles import Profile
from matching.search import MatchIndex, SearchSettings
from matching.simulate import random_profiles
from tests.matching.planted import planted_population
from tests.matching.test_prune import (
    ENCODING,
    STEPWISE,
    codes_of,
    couple_mutated_where_the_scan_prunes_first,
    draw,
    population,
    thresholds,
)

TABLE = FrequencyTable.default()
MODELS = [STEPWISE, MutationModel("equal", 0.005), MutationModel("proportional", 0.005), None]
MARGIN = 2 * fast.PRUNE_MARGIN


def _planes(codes: np.ndarray) -> fast.Planes:
    untyped = np.array([ENCODING.loci[m].untyped for m in ENCODING.markers], dtype=np.uint16)
    where, _, _ = fast.packing(untyped)
    return fast.Planes(*fast.pack(codes, where), where)


def assert_covers(got: tuple[Any, Any], full: np.ndarray, threshold: float) -> None:
    """Every couple at or above the threshold by the 2-D reference sum, nothing below it by more than the margin,
    indices increasing, each LR close to the reference."""
    found, lrs = got
    assert found.dtype == np.int64 and lrs.dtype == np.float64
    assert np.all(np.diff(found) > 0)
    assert np.isin(np.flatnonzero(full >= threshold), found).all(), "a couple at the threshold was lost"
    assert (full[found] >= threshold - MARGIN).all()
    np.testing.assert_allclose(lrs, full[found], rtol=0, atol=1e-9)


def _homozygous_population(seed: int, n: int = 3000) -> tuple[Profile, np.ndarray, np.ndarray, int]:
    """A child homozygous at every marker, its parents planted at couple 0 (each passing the child's allele), 10%
    of the parents' markers untyped."""
    rng = np.random.default_rng(seed)
    fathers, mothers = draw(rng, n), draw(rng, n)
    fathers[:, 0, 0] = mothers[:, 0, 0] = fathers[:, 0, 0]
    genotypes = {}
    for i, marker in enumerate(ENCODING.markers):
        allele = ENCODING.loci[marker].locus.alleles[fathers[i, 0, 0]]
        genotypes[marker] = (allele, allele)
    missing = rng.random(fathers[:, 0].shape) < 0.1
    missing[:, 0] = False
    return Profile(genotypes), codes_of(fathers, missing), codes_of(mothers, missing), 0  # type: ignore[arg-type]


@pytest.mark.parametrize("mutation", MODELS, ids=str)
def test_the_vectors_give_the_trio_tables(mutation: MutationModel | None) -> None:
    rng = np.random.default_rng(3)
    children = [population(1)[0], _homozygous_population(2)[0], *random_profiles(TABLE, rng, 2)]
    for child in children:
        trio, separable = (
            TrioScorer(ENCODING, child, mutation),
            SeparableTrioScorer(ENCODING, child, mutation),
        )
        np.testing.assert_array_equal(separable.rows, trio.rows)
        np.testing.assert_array_equal(separable.order, trio.order)
        np.testing.assert_array_equal(separable.log10_maxima, fast.table_maxima(trio.tables, trio.offsets))
        for k in range(len(trio.rows)):
            g = int(separable.untyped[k])
            pairs = separable.vectors[separable.offsets[k] : separable.offsets[k] + 2 * (g + 1)]
            x, y = pairs[0::2], pairs[1::2]
            lr = np.outer(x, y) + np.outer(y, x)
            lr[g, g] = 1.0  # both parents untyped
            table = trio.tables[trio.offsets[k] : trio.offsets[k] + (g + 1) ** 2].reshape(g + 1, g + 1)
            assert np.array_equal(lr == 0, np.isneginf(table))
            with np.errstate(divide="ignore"):
                np.testing.assert_allclose(np.log10(lr), table, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mutation", MODELS, ids=str)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_separable_scan_finds_every_couple_of_the_full_sum(
    seed: int, mutation: MutationModel | None
) -> None:
    child, fathers, mothers, planted = population(seed)
    both = (fathers == np.array([[ENCODING.loci[m].untyped] for m in ENCODING.markers])) & (
        mothers == fathers
    )
    assert both.any()  # couples with both parents untyped at a marker
    assert len(TrioScorer(ENCODING, child).rows) < len(ENCODING.markers)  # the child untyped at some
    trio, separable = TrioScorer(ENCODING, child, mutation), SeparableTrioScorer(ENCODING, child, mutation)
    full = fast.sum_trio_numpy(trio.tables, trio.offsets, trio.strides, trio.rows, fathers, mothers)
    assert full[planted[0]] > 4.0
    f8, m8 = _planes(fathers), _planes(mothers)
    for threshold in thresholds(full):
        got = separable.above(fathers, mothers, threshold)
        assert_covers(got, full, threshold)
        on_planes = separable.above(f8, m8, threshold)
        np.testing.assert_array_equal(on_planes[0], got[0])
        np.testing.assert_array_equal(on_planes[1], got[1])
    for threshold in (-np.inf, np.inf, 400.0, -400.0):  # the 2-D scan: linear products would overflow
        np.testing.assert_array_equal(
            separable.above(fathers, mothers, threshold)[0], np.flatnonzero(full >= threshold)
        )


@pytest.mark.parametrize("mutation", [STEPWISE, None], ids=str)
def test_a_homozygous_child_finds_its_parents(mutation: MutationModel | None) -> None:
    child, fathers, mothers, planted = _homozygous_population(4)
    trio, separable = TrioScorer(ENCODING, child, mutation), SeparableTrioScorer(ENCODING, child, mutation)
    full = fast.sum_trio_numpy(trio.tables, trio.offsets, trio.strides, trio.rows, fathers, mothers)
    assert full[planted] > 4.0
    for threshold in thresholds(full):
        assert_covers(separable.above(fathers, mothers, threshold), full, threshold)


def test_a_true_couple_on_the_threshold_after_mutations_where_the_scan_prunes_first() -> None:
    """The father carries a one-step mutation at each of the first three markers the scan tries; the threshold
    is the couple's reference LR, the float above it and the float below it."""
    child, trio, f, m = couple_mutated_where_the_scan_prunes_first()
    separable = SeparableTrioScorer(ENCODING, child, STEPWISE)
    np.testing.assert_array_equal(separable.order, trio.order)  # the same first three markers
    full = fast.sum_trio_numpy(trio.tables, trio.offsets, trio.strides, trio.rows, f, m)
    assert np.sort(full)[-2] < full[0] > 3.3
    for threshold in (
        float(full[0]),
        float(np.nextafter(full[0], np.inf)),
        float(np.nextafter(full[0], -np.inf)),
    ):
        got = separable.above(_planes(f), _planes(m), threshold)
        assert got[0][:1].tolist() == [0]
        assert_covers(got, full, threshold)


def test_one_byte_codes_of_a_small_encoding() -> None:
    small = GenotypeEncoding(TABLE, [m for m in TABLE.markers if len(TABLE.locus(m).alleles) <= 21])
    rows = [ENCODING.markers.index(m) for m in small.markers]
    child, fathers, mothers, _ = population(3)
    trio = TrioScorer(small, child, STEPWISE)
    full = trio.log10_lr(fathers[rows], mothers[rows], use_numba=False)
    separable = SeparableTrioScorer(small, child, STEPWISE)
    for threshold in (2.0, -1.0, float(np.sort(full)[-3])):
        assert_covers(separable.above(fathers[rows].astype(np.uint8), mothers[rows].astype(np.uint8), threshold),
                      full, threshold)  # fmt: skip


def test_a_child_typed_on_no_marker_matches_every_couple_at_lr_1() -> None:
    _, fathers, mothers, _ = population(6, n=40)
    separable = SeparableTrioScorer(ENCODING, Profile({}), STEPWISE)
    got = separable.above(fathers, mothers, 0.0)
    assert got[0].tolist() == list(range(40)) and not got[1].any()
    assert separable.above(fathers, mothers, 1e-3)[0].size == 0


def test_the_warm_cache_gives_what_a_cold_one_gives() -> None:
    child = population(7, n=10)[0]
    warm = SeparableTrioScorer(ENCODING, child, STEPWISE)
    cold = SeparableTrioScorer(GenotypeEncoding(TABLE), child, STEPWISE)
    for name in ("vectors", "offsets", "order", "log10_maxima", "untyped"):
        np.testing.assert_array_equal(getattr(warm, name), getattr(cold, name))


def test_the_search_scans_couples_separably_with_theta_0_only() -> None:
    child = population(8, n=10)[0]
    assert isinstance(trio_scorer(ENCODING, child, STEPWISE, 0.0), SeparableTrioScorer)
    assert isinstance(trio_scorer(ENCODING, child, STEPWISE, 0.01), TrioScorer)


def test_the_searches_find_the_same_with_the_2d_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = planted_population(TABLE)
    index = MatchIndex(TABLE, SearchSettings(inconclusive_lr=50.0))
    assert not index.add_many(entries)
    separable = list(index.rematch())
    assert any(c.relationship == "trio_couple" for r in separable for c in r.comparisons)
    monkeypatch.setattr("matching.search.scans.trio_scorer", lambda e, c, m, t: TrioScorer(e, c, m, t))
    assert list(index.rematch()) == separable
