"""A child's compiled trio and duo tables (`matching.child_tables`, theta 0) equal the numpy closed form of
`matching.batch.trio_likelihoods` entry by entry (which tests/matching/test_batch_theta.py checks against the
pedigree likelihood), for every marker of the shipped table and every mutation model; the scans find the same."""

from __future__ import annotations

import numpy as np
import pytest

from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer
from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profiles

TABLE = FrequencyTable.default()
ENCODING = GenotypeEncoding(TABLE)
MODELS = [None, DEFAULT_MUTATION, MutationModel("equal", 0.003), MutationModel("proportional", 0.005)]


def _numpy_tables(scorer: TrioScorer | DuoScorer) -> np.ndarray:
    tables, offsets = scorer._tables(True, 0.0, False)  # the per-marker numpy path
    assert np.array_equal(offsets, scorer.offsets)
    return tables


@pytest.mark.parametrize("mutation", MODELS, ids=str)
def test_the_compiled_tables_equal_the_numpy_closed_form(mutation: MutationModel | None) -> None:
    rng = np.random.default_rng(5)
    children = random_profiles(TABLE, rng, 4)
    children[0] = type(children[0])({m: (g[0], g[0]) for m, g in children[0].genotypes.items()})  # homozygous
    children[1] = type(children[1])(dict(list(children[1].genotypes.items())[::2]))  # half the markers typed
    for child in children:
        for kind in (TrioScorer, DuoScorer):
            scorer = kind(ENCODING, child, mutation)
            expected = _numpy_tables(scorer)
            got = scorer.tables
            assert np.array_equal(np.isneginf(got), np.isneginf(expected))
            finite = np.isfinite(expected)
            np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-13)
            assert sorted(scorer.order.tolist()) == list(range(len(scorer.rows)))


def test_the_scan_order_follows_the_markers_losses() -> None:
    rng = np.random.default_rng(6)
    child = random_profiles(TABLE, rng, 1)[0]
    for kind in (TrioScorer, DuoScorer):
        compiled = kind(ENCODING, child, DEFAULT_MUTATION)
        reference = kind(ENCODING, child, DEFAULT_MUTATION, theta=0.0)
        reference._order = None
        reference.tables, reference.offsets = _numpy_tables(reference), reference.offsets
        np.testing.assert_array_equal(compiled.order, reference.order)


def test_the_scans_find_the_same_couples_and_parents() -> None:
    rng = np.random.default_rng(8)
    fathers, mothers = random_profiles(TABLE, rng, 300), random_profiles(TABLE, rng, 300)
    f, m = ENCODING.encode(fathers), ENCODING.encode(mothers)
    for child in [child_of(fathers[7], mothers[7], rng, 0.3, table=TABLE), *random_profiles(TABLE, rng, 3)]:
        for scorer, codes in ((TrioScorer(ENCODING, child, DEFAULT_MUTATION), (f, m)),
                              (DuoScorer(ENCODING, child, DEFAULT_MUTATION), (f,))):  # fmt: skip
            compiled = scorer.log10_lr(*codes, use_numba=False)
            scorer.tables = _numpy_tables(scorer)
            np.testing.assert_allclose(compiled, scorer.log10_lr(*codes, use_numba=False), rtol=1e-12)
            for threshold in (-8.0, 0.0, 3.3):
                found, _ = scorer.above(*codes, threshold)
                np.testing.assert_array_equal(found, np.flatnonzero(compiled >= threshold))
