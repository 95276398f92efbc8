"""The closed-form trio and duo tables equal the general pedigree likelihood, theta > 0 included (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from matching.batch import LocusCodes, _ratio, pedigree_trio_table, trio_likelihoods
from matching.frequencies import FrequencyTable
from matching.likelihood import GenotypeBatch, pedigree_likelihood
from matching.mutation import MutationModel
from matching.relationships import RELATIONSHIPS

TABLE = FrequencyTable.default()
MODELS = [None, MutationModel("stepwise", 0.005, 1e-6, 0.1), MutationModel("equal", 0.003)]


def _closed_form(codes, child, mutation, theta):
    table = _ratio(*trio_likelihoods(codes, child, mutation, theta), False)
    table[-1, -1] = 0.0
    return table


@pytest.mark.parametrize("theta", [0.0, 0.01, 0.03])
@pytest.mark.parametrize("mutation", MODELS, ids=str)
@pytest.mark.parametrize(("marker", "child"), [("TPOX", (0, 0)), ("TH01", (1, 4)), ("D5S818", (2, 3))])
def test_the_trio_table_equals_the_pedigree_likelihood(marker, child, mutation, theta):
    codes = LocusCodes.of(TABLE.locus(marker))
    matrix = mutation.matrix(codes.locus) if mutation else None
    expected = pedigree_trio_table(codes, child, matrix, theta)
    got = _closed_form(codes, child, matrix, theta)
    assert np.array_equal(np.isneginf(got), np.isneginf(expected))  # the same exclusions
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    if mutation is None:
        assert np.isneginf(got).any()  # the case checks something: some pairs are inconsistent


@pytest.mark.parametrize("theta", [0.0, 0.02])
@pytest.mark.parametrize("mutation", MODELS[:2], ids=str)
def test_the_duo_table_equals_the_pedigree_likelihood(mutation, theta):
    rel = RELATIONSHIPS["duo"]
    for marker, child in (("CSF1PO", (0, 2)), ("vWA", (3, 3))):
        codes = LocusCodes.of(TABLE.locus(marker))
        matrix = mutation.matrix(codes.locus) if mutation else None
        typing = {"parent": GenotypeBatch(codes.first, codes.second), "child": child}
        p = codes.locus.frequencies
        expected = _ratio(
            pedigree_likelihood(rel.h1, typing, p, matrix, theta),
            pedigree_likelihood(rel.h2, typing, p, matrix, theta),
            False,
        )
        got = _ratio(*trio_likelihoods(codes, child, matrix, theta, one_parent=True), False)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_theta_shrinks_a_rare_shared_allele():
    """With theta the child's rare alleles are less surprising: the LR of the true parents drops, never rises."""
    codes = LocusCodes.of(TABLE.locus("TH01"))
    rare = int(np.argmin(codes.locus.frequencies))
    common = int(np.argmax(codes.locus.frequencies))
    child = (min(rare, common), max(rare, common))
    pair = codes.codes[child]
    plain, shrunk = _closed_form(codes, child, None, 0.0), _closed_form(codes, child, None, 0.03)
    assert shrunk[pair, pair] < plain[pair, pair]
