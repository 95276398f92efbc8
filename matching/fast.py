"""The inner loop of the batch API: sum per-marker log10 LR tables over many candidates, with numba if present.

A candidate's combined log10 LR is the sum over markers of one table entry picked by its genotype codes. The
numpy functions are the reference; the numba kernels do the same sums, in the same order (marker by marker), over
blocks of candidates in parallel, reading each code array once and keeping the running sums in cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Codes = npt.NDArray[np.uint16]
IndexArray = npt.NDArray[np.int64]

BLOCK = 2048

# numba is a service dependency; without it (a broken install) start-up and /healthz say so.
try:
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


def sum_duo_numpy(tables: FloatArray, offsets: IndexArray, rows: IndexArray, codes: Codes) -> FloatArray:
    """Return sum over k of tables[offsets[k] + codes[rows[k], c]] for every candidate c."""
    out = np.zeros(codes.shape[1])
    for k in range(len(rows)):
        out += tables[offsets[k] + codes[rows[k]].astype(np.int64)]
    return out


def sum_trio_numpy(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: Codes,
    second: Codes,
) -> FloatArray:
    """Return sum over k of tables[offsets[k] + first[rows[k], c] * strides[k] + second[rows[k], c]]."""
    out = np.zeros(first.shape[1])
    for k in range(len(rows)):
        index = offsets[k] + first[rows[k]].astype(np.int64) * strides[k] + second[rows[k]]
        out += tables[index]
    return out


def _duo_kernel(
    tables: Any, offsets: Any, rows: Any, codes: Any, out: Any
) -> None:  # pragma: no cover - jitted
    n = codes.shape[1]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        start = b * BLOCK
        stop = min(n, start + BLOCK)
        acc = np.zeros(stop - start)
        for k in range(rows.shape[0]):
            row = codes[rows[k], start:stop]
            base = offsets[k]
            for c in range(row.shape[0]):
                acc[c] += tables[base + row[c]]
        out[start:stop] = acc


def _trio_kernel(
    tables: Any, offsets: Any, strides: Any, rows: Any, first: Any, second: Any, out: Any
) -> None:  # pragma: no cover - jitted
    n = first.shape[1]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        start = b * BLOCK
        stop = min(n, start + BLOCK)
        acc = np.zeros(stop - start)
        for k in range(rows.shape[0]):
            f = first[rows[k], start:stop]
            m = second[rows[k], start:stop]
            base = offsets[k]
            stride = strides[k]
            for c in range(f.shape[0]):
                acc[c] += tables[base + np.int64(f[c]) * stride + m[c]]
        out[start:stop] = acc


if HAVE_NUMBA:
    _duo_jit = numba.njit(parallel=True, cache=True, nogil=True)(_duo_kernel)
    _trio_jit = numba.njit(parallel=True, cache=True, nogil=True)(_trio_kernel)


def sum_duo(
    tables: FloatArray, offsets: IndexArray, rows: IndexArray, codes: Codes, *, use_numba: bool = True
) -> FloatArray:
    """Return the per-candidate sums of `sum_duo_numpy`, with the numba kernel when available."""
    if not (use_numba and HAVE_NUMBA):
        return sum_duo_numpy(tables, offsets, rows, codes)
    out = np.empty(codes.shape[1])
    _duo_jit(tables, offsets, rows, codes, out)
    return out


def sum_trio(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: Codes,
    second: Codes,
    *,
    use_numba: bool = True,
) -> FloatArray:
    """Return the per-candidate sums of `sum_trio_numpy`, with the numba kernel when available."""
    if not (use_numba and HAVE_NUMBA):
        return sum_trio_numpy(tables, offsets, strides, rows, first, second)
    out = np.empty(first.shape[1])
    _trio_jit(tables, offsets, strides, rows, first, second, out)
    return out
