"""The pruned scans return exactly what the full sum filtered by the threshold returns (issue 9, scale and speed).

Same candidates, bit-identical LRs, on random populations with planted relatives, mutations, untyped markers and
thresholds placed exactly on candidates' LRs; numba against the numpy reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import fast
from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer
from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel
from matching.profiles import Profile

TABLE = FrequencyTable.default()
ENCODING = GenotypeEncoding(TABLE)
STEPWISE = MutationModel("stepwise", 0.002, 1e-6, 0.1)


def draw(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return n unrelated people's allele indices, shape (markers, 2, n)."""
    out = np.empty((len(ENCODING.markers), 2, n), dtype=np.int64)
    for i, marker in enumerate(ENCODING.markers):
        p = ENCODING.loci[marker].locus.frequencies
        out[i] = rng.choice(len(p), size=(2, n), p=p)
    return out


def codes_of(alleles: np.ndarray, untyped: np.ndarray) -> np.ndarray:
    codes = np.empty(alleles[:, 0].shape, dtype=np.uint16)
    for i, marker in enumerate(ENCODING.markers):
        locus = ENCODING.loci[marker]
        lo, hi = np.minimum(alleles[i, 0], alleles[i, 1]), np.maximum(alleles[i, 0], alleles[i, 1])
        codes[i] = [locus.codes[(int(a), int(b))] for a, b in zip(lo, hi, strict=True)]
        codes[i, untyped[i]] = locus.untyped
    return codes


def population(seed: int, n: int = 3000, untyped: float = 0.1, planted: int = 6):
    """Return (child profile, father codes, mother codes, planted indices): some couples are the child's parents,
    some the parents with one allele swapped (a mutation or a typing error)."""
    rng = np.random.default_rng(seed)
    fathers, mothers = draw(rng, n), draw(rng, n)
    where = rng.choice(n, size=planted, replace=False)
    child_alleles = np.stack(
        [fathers[:, rng.integers(2), where[0]], mothers[:, rng.integers(2), where[0]]], axis=1
    )
    for k, i in enumerate(where):
        fathers[:, 0, i], mothers[:, 0, i] = child_alleles[:, 0], child_alleles[:, 1]
        if k % 2:  # a mutated transmission at one or two markers
            for marker in rng.choice(len(ENCODING.markers), size=1 + k % 3, replace=False):
                fathers[marker, 0, i] = (fathers[marker, 0, i] + 1) % len(
                    ENCODING.loci[ENCODING.markers[marker]].locus.alleles
                )
    missing = rng.random(fathers[:, 0].shape) < untyped
    missing_m = rng.random(fathers[:, 0].shape) < untyped
    missing_m[:, : n // 50] = True  # a few couples with only the father typed
    genotypes = {}
    for i, marker in enumerate(ENCODING.markers):
        if rng.random() < 0.08:
            continue  # the child untyped here
        alleles = ENCODING.loci[marker].locus.alleles
        genotypes[marker] = (alleles[child_alleles[i, 0]], alleles[child_alleles[i, 1]])
    child = Profile(genotypes)  # type: ignore[arg-type]
    return child, codes_of(fathers, missing), codes_of(mothers, missing_m), where


def assert_same(pruned, full, threshold):
    keep = np.flatnonzero(full >= threshold)
    np.testing.assert_array_equal(pruned[0], keep)
    np.testing.assert_array_equal(pruned[1], full[keep])  # bit-identical, not merely close
    assert pruned[0].dtype == np.int64 and pruned[1].dtype == np.float64


def thresholds(full: np.ndarray) -> list[float]:
    """Thresholds on the edges: exactly some candidates' LRs, just above and below, -inf, +inf, the bands."""
    finite = np.sort(full[np.isfinite(full)])
    picks = [finite[-1], finite[-2], finite[len(finite) // 2], finite[0]] if len(finite) > 1 else []
    edges = [np.nextafter(x, np.inf) for x in picks] + [np.nextafter(x, -np.inf) for x in picks]
    return [*picks, *edges, -np.inf, np.inf, 4.0, np.log10(2000.0), 0.0, -50.0]


@pytest.mark.parametrize("mutation", [STEPWISE, MutationModel("equal", 0.005), None], ids=str)
@pytest.mark.parametrize("seed", [1, 2])
def test_pruned_trio_and_duo_equal_the_full_filter(seed, mutation):
    child, fathers, mothers, planted = population(seed)
    trio, duo = TrioScorer(ENCODING, child, mutation), DuoScorer(ENCODING, child, mutation)
    full_trio = trio.log10_lr(fathers, mothers, use_numba=False)
    full_duo = duo.log10_lr(fathers, use_numba=False)
    assert full_trio[planted[0]] > 4.0  # the true parents are found
    for threshold in thresholds(full_trio):
        assert_same(trio.above(fathers, mothers, threshold), full_trio, threshold)
        assert_same(trio.above(fathers, mothers, threshold, use_numba=False), full_trio, threshold)
    for threshold in thresholds(full_duo):
        assert_same(duo.above(fathers, threshold), full_duo, threshold)
        assert_same(duo.above(fathers, threshold, use_numba=False), full_duo, threshold)


def test_uint8_codes_give_the_same_answers():
    small = GenotypeEncoding(TABLE, [m for m in TABLE.markers if len(TABLE.locus(m).alleles) <= 21])
    assert small.smallest_dtype is np.uint8 and ENCODING.smallest_dtype is np.uint16
    rows = [ENCODING.markers.index(m) for m in small.markers]
    child, fathers, mothers, _ = population(3)
    f8, m8 = fathers[rows].astype(np.uint8), mothers[rows].astype(np.uint8)
    trio, duo = TrioScorer(small, child, STEPWISE), DuoScorer(small, child, STEPWISE)
    full = trio.log10_lr(fathers[rows], mothers[rows], use_numba=False)
    assert_same(trio.above(f8, m8, 2.0), full, 2.0)
    assert_same(duo.above(f8, -1.0), duo.log10_lr(fathers[rows], use_numba=False), -1.0)
    with pytest.raises(ValueError, match="do not fit"):
        ENCODING.encode([child], dtype=np.uint8)
    assert small.encode([child], dtype=np.uint8).dtype == np.uint8


def test_a_nan_threshold_is_refused():
    child, fathers, mothers, _ = population(4, n=50)
    with pytest.raises(ValueError, match="NaN"):
        TrioScorer(ENCODING, child).above(fathers, mothers, float("nan"))


def test_the_order_prunes_and_never_changes_the_result():
    child, fathers, mothers, _ = population(5)
    trio = TrioScorer(ENCODING, child, STEPWISE)
    assert sorted(trio.order.tolist()) == list(range(len(trio.rows)))
    full = trio.log10_lr(fathers, mothers, use_numba=False)
    for order in (trio.order, np.arange(len(trio.rows)), trio.order[::-1].copy()):
        got = fast.sum_above(
            trio.tables, trio.offsets, trio.rows, fathers, 3.3, pairs=(trio.strides, mothers), order=order
        )
        assert_same(got, full, 3.3)


def test_the_bound_is_what_prunes():
    """A hand-made 1-D case: the second marker's best entry decides whether the first marker's loss is final."""
    tables = np.array([0.0, -3.0, 0.0, 2.0, -1.0, 0.0])  # marker 0: 3 entries, marker 1: 3 entries
    offsets = np.array([0, 3], dtype=np.int64)
    rows = np.array([0, 1], dtype=np.int64)
    codes = np.array([[0, 1, 1, 2], [0, 0, 1, 2]], dtype=np.uint8)
    expected = np.array([2.0, -1.0, -4.0, 0.0])
    np.testing.assert_array_equal(fast.sum_duo_numpy(tables, offsets, rows, codes), expected)
    for threshold in (2.0, -1.0, -1.0000001, -4.0, 0.0, 2.5):
        for use_numba in (True, False):
            got = fast.sum_above(tables, offsets, rows, codes, threshold, use_numba=use_numba)
            assert_same(got, expected, threshold)
    assert fast._suffix_bounds(tables, offsets, np.array([1, 0])).tolist() == [2.0, 0.0, 0.0]


def test_no_markers_and_no_candidates():
    empty_tables, empty = np.zeros(0), np.zeros(0, dtype=np.int64)
    got = fast.sum_above(empty_tables, empty, empty, np.zeros((0, 5), np.uint16), 0.0)
    assert got[0].tolist() == [0, 1, 2, 3, 4] and got[1].tolist() == [0.0] * 5
    got = fast.sum_above(np.zeros(3), np.array([0]), np.array([0]), np.zeros((1, 0), np.uint16), -1.0)
    assert got[0].size == 0 and got[1].size == 0


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 6),
    st.lists(st.integers(1, 9), min_size=1, max_size=6),
    st.integers(0, 2**32 - 1),
    st.floats(-30, 30),
    st.floats(0, 0.5),
)
def test_generic_scan_equals_the_full_filter(n_cand_blocks, sizes, seed, threshold, p_exclusion):
    """Random 1-D tables (with -inf exclusions), random codes, over more than one block of candidates."""
    rng = np.random.default_rng(seed)
    tables = rng.normal(0.0, 3.0, size=sum(sizes))
    tables[rng.random(tables.size) < p_exclusion] = -np.inf
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    rows = rng.permutation(len(sizes)).astype(np.int64)
    n = n_cand_blocks * 700
    codes = np.stack([rng.integers(0, sizes[k], n) for k in np.argsort(rows)]).astype(np.uint16)
    full = fast.sum_duo_numpy(tables, offsets, rows, codes)
    for t in (threshold, float(full[rng.integers(n)])):
        assert_same(fast.sum_above(tables, offsets, rows, codes, t), full, t)


def test_a_child_typed_on_no_marker_of_the_table_matches_everyone_at_lr_1():
    child = Profile({})
    _, fathers, mothers, _ = population(6, n=40)
    trio = TrioScorer(ENCODING, child, STEPWISE)
    assert trio.order.size == 0
    got = trio.above(fathers, mothers, 0.0)
    assert got[0].tolist() == list(range(40)) and not got[1].any()
    assert trio.above(fathers, mothers, 1e-9)[0].size == 0


def couple_mutated_where_the_scan_prunes_first() -> tuple[Profile, TrioScorer, np.ndarray, np.ndarray]:
    """Return a child, its trio scorer and 5,000 couples' codes (fathers, mothers), couple 0 its parents, the father
    homozygous for a neighbouring allele of the one he passed at each of the first three markers the scan tries."""
    rng = np.random.default_rng(21)
    n = 5000
    fathers, mothers = draw(rng, n), draw(rng, n)
    child_alleles = np.stack([fathers[:, 0, 0], mothers[:, 0, 0]], axis=1)
    genotypes = {}
    for i, marker in enumerate(ENCODING.markers):
        alleles = ENCODING.loci[marker].locus.alleles
        genotypes[marker] = (alleles[child_alleles[i, 0]], alleles[child_alleles[i, 1]])
    child = Profile(genotypes)  # type: ignore[arg-type]
    trio = TrioScorer(ENCODING, child, STEPWISE)
    for k in trio.order[:3].tolist():
        row = int(trio.rows[k])
        size = len(ENCODING.loci[ENCODING.markers[row]].locus.alleles)
        step = child_alleles[row, 0] + 1 if child_alleles[row, 0] + 1 < size else child_alleles[row, 0] - 1
        fathers[row, :, 0] = step  # homozygous for the neighbouring allele: the paternal allele mutated
    none = np.zeros(fathers[:, 0].shape, dtype=bool)
    return child, trio, codes_of(fathers, none), codes_of(mothers, none)


def test_a_true_couple_mutated_where_the_scan_prunes_first_is_found_at_its_exact_lr():
    """Would fail if pruning could drop a true hit: the child's true father carries a one-step mutation at each of
    the first markers the scan tries (where it prunes), and the threshold is the couple's exact LR, or the next
    float below it: the couple sits on the bound's edge and must still be found, on plain codes and on planes."""
    _, trio, f, m = couple_mutated_where_the_scan_prunes_first()
    assert trio.inconsistent_counts(f[:, :1], m[:, :1])[0] >= 2
    full = trio.log10_lr(f, m, use_numba=False)
    assert np.sort(full)[-2] < full[0] > 3.3  # found above the band, every unrelated couple far below
    where, _, _ = fast.packing(
        np.array([ENCODING.loci[x].untyped for x in ENCODING.markers], dtype=np.uint16)
    )
    planes = (fast.Planes(*fast.pack(f, where), where), fast.Planes(*fast.pack(m, where), where))
    for threshold in (float(full[0]), float(np.nextafter(full[0], -np.inf))):
        for codes in ((f, m), planes):
            got = trio.above(*codes, threshold)
            assert got[0][:1].tolist() == [0]
            assert_same(got, full, threshold)
