"""The pedigree likelihood reuses numpy's greedy contraction order per contraction shape: the exact per-pair LRs
are bit for bit those of finding the order every time, and the order is found once."""

from __future__ import annotations

import numpy as np
import pytest

from matching import likelihood
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profile

TABLE = FrequencyTable.default()


def _lrs() -> list[float]:
    rng = np.random.default_rng(8)
    f, m = random_profile(TABLE, rng), random_profile(TABLE, rng)
    kid = child_of(f, m, rng)
    out = []
    for relationship, persons in (
        ("trio_couple", {"father": f, "mother": m, "child": kid}),
        ("duo", {"parent": f, "child": kid}),
        ("full_siblings", {"person1": child_of(f, m, rng), "person2": kid}),
        ("avuncular", {"person1": f, "person2": kid}),
    ):
        result = kinship_lr(KinshipCase(relationship, persons, DEFAULT_MUTATION, 0.01), TABLE)
        out += list(result.per_marker.values())
    return out


def test_cached_contraction_orders_give_the_same_lrs_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    likelihood._PATHS.clear()
    cached = _lrs()
    found = len(likelihood._PATHS)
    assert found and _lrs() == cached and len(likelihood._PATHS) == found  # found once, then reused
    monkeypatch.setattr(likelihood, "_path", lambda operands, outputs: "greedy")
    assert _lrs() == cached
