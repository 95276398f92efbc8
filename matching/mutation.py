"""Mutation models on parent-to-child transmission, as matrices M[from, to] over a locus's allele set.

The definitions are those of pedmut/Familias, for n alleles with frequencies p:

- `equal`: M[i,i] = 1 - rate, M[i,j] = rate / (n - 1).
- `proportional`: a = rate / sum_i p_i (1 - p_i); M = (1 - a) I + a 1 p^T (every row is p, shrunk towards I).
- `stepwise` (Familias "stepwise, unstationary"): alleles fall into groups by their decimal (integers, .1, .2,
  .3 ...). Within i's group the weight to allele j is range^|x_i - x_j|, scaled so that the row's within-group
  mutations total `rate`; to each allele of another group, rate2 / (n - size of i's group). The diagonal is
  1 - rate when all alleles share one group, 1 - rate2 when i is alone in its group, and 1 - rate - rate2 otherwise.

A locus with one allele gets the identity whatever the model (pedmut's "trivial" case).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from matching.alleles import tenths
from matching.errors import CaseError
from matching.frequencies import Locus

Model = Literal["equal", "proportional", "stepwise"]
MODELS: tuple[Model, ...] = ("equal", "proportional", "stepwise")


@dataclass(frozen=True)
class MutationModel:
    """A mutation model and its parameters; the same for both sexes and every transmission."""

    model: Model
    rate: float
    rate2: float = 1e-6
    range: float = 0.1

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise CaseError(f"unknown mutation model {self.model!r}: use one of {', '.join(MODELS)}")
        for name in ("rate", "rate2", "range"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise CaseError(f"mutation {name} must be a number, not {value!r}")
        if not 0.0 <= self.rate <= 1.0 or not 0.0 <= self.rate2 <= 1.0:
            raise CaseError("mutation rates must lie between 0 and 1")
        if self.model == "stepwise" and (self.rate + self.rate2 > 1.0 or self.range <= 0.0):
            raise CaseError("stepwise mutation needs rate + rate2 <= 1 and a positive range")

    @classmethod
    def from_json(cls, spec: Mapping[str, object] | None) -> MutationModel | None:
        """Return the model of a JSON spec {"model", "rate", "rate2", "range"}, or None for null or "none"."""
        if spec is None:
            return None
        if not isinstance(spec, Mapping):
            raise CaseError('"mutation" must be null or an object such as {"model": "equal", "rate": 0.005}')
        model = spec.get("model")
        if model in (None, "none"):
            return None
        if "rate" not in spec:
            raise CaseError('a mutation model needs a "rate"')
        extra = {k: spec[k] for k in ("rate2", "range") if spec.get(k) is not None}
        return cls(model=model, rate=spec["rate"], **extra)  # type: ignore[arg-type]

    def matrix(self, locus: Locus) -> npt.NDArray[np.float64]:
        """Return the mutation matrix M[from, to] over the locus's alleles (read-only, computed once per model and
        allele list: every exact per-pair recomputation asks for the same few dozen)."""
        key = (self, locus.alleles, locus.frequencies.tobytes() if self.model == "proportional" else b"")
        cached = _MATRICES.get(key)
        if cached is None:
            if len(_MATRICES) >= 4096:
                _MATRICES.clear()
            cached = self._matrix(locus)
            cached.setflags(write=False)
            _MATRICES[key] = cached
        return cached

    def _matrix(self, locus: Locus) -> npt.NDArray[np.float64]:
        n = len(locus.alleles)
        if n == 1:
            return np.ones((1, 1))
        if self.model == "equal":
            return equal_matrix(n, self.rate)
        if self.model == "proportional":
            return proportional_matrix(locus.frequencies, self.rate)
        return stepwise_matrix(locus.alleles, self.rate, self.rate2, self.range)


_MATRICES: dict[tuple[MutationModel, tuple[str, ...], bytes], npt.NDArray[np.float64]] = {}


def equal_matrix(n: int, rate: float) -> npt.NDArray[np.float64]:
    """Return the `equal` model: 1 - rate on the diagonal, rate/(n-1) elsewhere."""
    m = np.full((n, n), rate / (n - 1))
    np.fill_diagonal(m, 1.0 - rate)
    return m


def proportional_matrix(p: npt.NDArray[np.float64], rate: float) -> npt.NDArray[np.float64]:
    """Return the `proportional` model: (1 - a) I + a 1 p^T with a = rate / sum p(1 - p)."""
    a = rate / float(np.sum(p * (1.0 - p)))
    m = (1.0 - a) * np.eye(len(p)) + a * np.broadcast_to(p, (len(p), len(p)))
    if np.any(m > 1.0) or np.any(m < 0.0):
        raise CaseError(
            f"the proportional model with rate {rate} is impossible for this locus; reduce the rate"
        )
    return m


def stepwise_matrix(
    alleles: tuple[str, ...], rate: float, rate2: float, range_: float
) -> npt.NDArray[np.float64]:
    """Return Familias' unstationary `stepwise` model over repeat-number alleles (see the module docstring)."""
    n = len(alleles)
    steps = np.array([tenths(a) for a in alleles])
    group = steps % 10
    m = np.zeros((n, n))
    one_group = bool(np.all(group == group[0]))
    for i in range(n):
        same = group == group[i]
        size = int(same.sum())
        others = same.copy()
        others[i] = False
        if others.any():
            # Same group: the distance in whole repeats is an exact integer
            weights = range_ ** (np.abs(steps[others] - steps[i]) // 10).astype(np.float64)
            m[i, others] = weights / weights.sum() * rate
        if size < n:
            m[i, ~same] = rate2 / (n - size)
        m[i, i] = 1.0 - rate if one_group else (1.0 - rate2 if size == 1 else 1.0 - rate - rate2)
    return m
