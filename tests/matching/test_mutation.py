"""Mutation matrices exactly as the issue (and pedmut/Familias) define them."""

from __future__ import annotations

import numpy as np
import pytest

from matching.errors import CaseError
from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel

TINY = FrequencyTable.from_csv_text(
    "marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.2\nTPOX,9.3,0.1\nTPOX,10,0.25\n"
)


def test_equal_and_proportional_by_hand():
    locus = TINY.locus("TPOX")  # alleles 8, 9, 9.3, 10
    equal = MutationModel("equal", 0.006).matrix(locus)
    assert equal[3] == pytest.approx([0.002, 0.002, 0.002, 0.994], rel=1e-12)
    p = locus.frequencies
    prop = MutationModel("proportional", 0.006).matrix(locus)
    a = 0.006 / np.sum(p * (1 - p))
    assert prop[1] == pytest.approx(a * p + (1 - a) * np.eye(4)[1], rel=1e-12)
    assert float(p @ (1 - np.diag(prop))) == pytest.approx(0.006, rel=1e-12)  # expected mutation rate = rate


def test_stepwise_by_hand():
    locus = TINY.locus("TPOX")  # 8, 9, 10 integers; 9.3 alone in its group
    r, r2 = 0.005, 1e-6
    m = MutationModel("stepwise", r, r2, 0.1).matrix(locus)
    assert m[0] == pytest.approx([1 - r - r2, r * 0.1 / 0.11, r2, r * 0.01 / 0.11], rel=1e-12)
    assert m[1] == pytest.approx([r / 2, 1 - r - r2, r2, r / 2], rel=1e-12)
    assert m[2] == pytest.approx([r2 / 3, r2 / 3, 1 - r2, r2 / 3], rel=1e-12)
    one_group = FrequencyTable.from_csv_text("marker,allele,frequency\nX,8,0.2\nX,9,0.3\nX,10,0.5\n").locus(
        "X"
    )
    m1 = MutationModel("stepwise", r, r2, 0.1).matrix(one_group)
    assert m1[0] == pytest.approx([1 - r, r * 0.1 / 0.11, r * 0.01 / 0.11], rel=1e-12)


@pytest.mark.parametrize("model", ["equal", "proportional", "stepwise"])
def test_rows_sum_to_one_and_rate_zero_is_identity(model):
    for marker in FrequencyTable.default().markers:
        locus = FrequencyTable.default().locus(marker)
        m = MutationModel(model, 0.005, 1e-6, 0.1).matrix(locus)
        assert np.all(m >= 0)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=0, atol=1e-14)
        np.testing.assert_array_equal(
            MutationModel(model, 0.0, 0.0, 0.1).matrix(locus), np.eye(len(locus.alleles))
        )


def test_json_spec_and_bad_parameters():
    assert MutationModel.from_json(None) is None
    assert MutationModel.from_json({"model": "equal", "rate": 0.002, "range": 0.5}) == MutationModel(
        "equal", 0.002, 1e-6, 0.5
    )
    with pytest.raises(CaseError, match="unknown mutation model"):
        MutationModel.from_json({"model": "random", "rate": 0.1})
    with pytest.raises(CaseError, match="rate"):
        MutationModel.from_json({"model": "equal"})
    with pytest.raises(CaseError):
        MutationModel("equal", 1.5)


def test_a_models_matrix_is_computed_once_per_allele_list_and_read_only():
    from matching.frequencies import FrequencyTable
    from matching.mutation import MutationModel

    locus = FrequencyTable.default().locus("FGA")
    model = MutationModel("stepwise", 0.002)
    first = model.matrix(locus)
    assert model.matrix(locus) is first and not first.flags.writeable
    assert MutationModel("stepwise", 0.003).matrix(locus) is not first
    proportional = MutationModel("proportional", 0.002)
    assert proportional.matrix(locus) is proportional.matrix(locus)
