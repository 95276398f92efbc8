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
# Fewer candidates than this are scanned by a one-thread build of the same kernel: waking the parallel pool's
# threads costs more than a few thousand table lookups (the identity check and the family side scan tiny pools).
SERIAL_BELOW = 16_384

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


def _sum_kernel(
    tables: Any, offsets: Any, strides: Any, rows: Any, first: Any, second: Any, pair: bool, out: Any
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
                acc[c] += tables[base + (np.int64(f[c]) * stride if pair else 0) + m[c]]
        out[start:stop] = acc


def compiled(kernel: Any) -> tuple[Any, Any]:
    """Return the parallel and the one-thread numba builds of a kernel written with `numba.prange`."""
    return (
        numba.njit(parallel=True, cache=True, nogil=True)(kernel),
        numba.njit(parallel=False, cache=True, nogil=True)(kernel),
    )


def pick(kernels: tuple[Any, Any], n: int) -> Any:
    """Return the one-thread build for a scan of fewer than `SERIAL_BELOW` candidates, else the parallel one."""
    return kernels[1] if n < SERIAL_BELOW else kernels[0]


if HAVE_NUMBA:
    _sum_jit = compiled(_sum_kernel)


# One kernel family: the full and the pruned kernels are written once for a pair of code arrays (a couple: entry
# offsets[k] + first * strides[k] + second) and run on one (a parent, or a family's children: entry offsets[k] +
# second) with `pair` False, which never reads `first` nor multiplies (the branch is loop-invariant, hoisted by the
# compiler): the same additions in the same order as the numpy references, bit for bit.


def _no_stride(rows: IndexArray) -> IndexArray:
    return np.zeros(len(rows), dtype=np.int64)


def sum_duo(
    tables: FloatArray, offsets: IndexArray, rows: IndexArray, codes: Codes, *, use_numba: bool = True
) -> FloatArray:
    """Return the per-candidate sums of `sum_duo_numpy`, with the numba kernel when available."""
    if not (use_numba and HAVE_NUMBA):
        return sum_duo_numpy(tables, offsets, rows, codes)
    out = np.empty(codes.shape[1])
    pick(_sum_jit, codes.shape[1])(tables, offsets, _no_stride(rows), rows, codes, codes, False, out)
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
    pick(_sum_jit, first.shape[1])(tables, offsets, strides, rows, first, second, True, out)
    return out


# --- Pruned scans: only the candidates whose combined log10 LR reaches a threshold, exactly. ---------------------
#
# Markers are visited in an informative order (the child's most excluding markers first). After each marker the
# running sum plus the best that the remaining markers could still add (suffix sums of each marker's largest table
# entry, the untyped entry included) is compared with the threshold; a candidate that cannot reach it is dropped.
# A survivor's sum is then recomputed over all markers in the original order, exactly as `sum_duo_numpy` and
# `sum_trio_numpy` add them, and kept if it reaches the threshold: the same candidates and bit-identical LRs as the
# full sum. The drop test keeps a margin (PRUNE_MARGIN in log10) so that rounding in the reordered partial sums
# can never drop a candidate whose full sum reaches the threshold.

PRUNE_MARGIN = 1e-6
PRUNE_BLOCK = 1024  # survivors' list and sums (12 bytes each) stay in the first-level cache
_CLIP = 10.0  # an entry more than 10 log10 units below the table's best (or -inf) counts as a loss of 10


def table_maxima(tables: FloatArray, offsets: IndexArray) -> FloatArray:
    """Return each marker's largest table entry (tables concatenated, marker k starting at offsets[k])."""
    if len(offsets) == 0:
        return np.zeros(0)
    maxima: FloatArray = np.maximum.reduceat(tables, offsets)
    return maxima


def marker_loss(table: FloatArray, left: FloatArray, right: FloatArray | None = None) -> float:
    """Return how much a typical candidate loses on one marker: its table's largest entry minus the mean entry,
    each entry clipped at 10 below the largest (an exclusion, -inf, counts 10).

    `table` is 1-D, weighted by `left` (the candidates' genotype frequencies), or 2-D (a trio), weighted by
    `left` on its rows and `right` on its columns. The scan tries markers by decreasing loss (`informative_order`).
    """
    best = float(table.max())
    clipped = np.maximum(table, best - _CLIP)
    weighted = left @ clipped if right is None else left @ clipped @ right
    total = float(left.sum()) * (1.0 if right is None else float(right.sum()))
    return best - float(weighted) / max(total, 1e-300)


def informative_order(
    tables: FloatArray, offsets: IndexArray, weights: FloatArray | None = None
) -> IndexArray:
    """Return the markers ordered by `marker_loss`, largest first: the order in which the scan prunes soonest.

    `weights` (same layout as `tables`) are the candidates' genotype frequencies (uniform when None). Any order
    gives the same results.
    """
    ends = np.append(offsets[1:], len(tables)).astype(np.int64)[: len(offsets)]
    w = np.ones_like(tables) if weights is None else weights
    losses = [marker_loss(tables[a:z], w[a:z]) for a, z in zip(offsets, ends, strict=True)]
    order: IndexArray = np.argsort(-np.array(losses), kind="stable").astype(np.int64)
    return order


def _suffix_bounds(tables: FloatArray, offsets: IndexArray, order: IndexArray) -> FloatArray:
    """Return bound[j] = sum of the largest entries of the markers order[j:], bound[len(order)] = 0."""
    maxima = table_maxima(tables, offsets)[order]
    bounds: FloatArray = np.append(np.cumsum(maxima[::-1])[::-1], 0.0)
    return bounds


def _dense_prefix(
    tables: FloatArray, offsets: IndexArray, order: IndexArray, bounds: FloatArray, threshold: float
) -> int:
    """Return how many leading markers (in `order`) no candidate can be dropped at: even the lowest sum of
    their entries plus the bound of the rest reaches the threshold. The kernels sum those densely, unchecked."""
    if len(order) == 0:
        return 0
    minima = np.minimum.reduceat(tables, offsets)[order]
    lowest = np.cumsum(minima) + bounds[1:]
    below = np.flatnonzero(~(lowest >= threshold - PRUNE_MARGIN))
    return int(below[0]) if len(below) else len(order)


def _check_threshold(log10_threshold: float) -> float:
    threshold = float(log10_threshold)
    if np.isnan(threshold):
        raise ValueError("the log10 threshold must be a number, not NaN")
    return threshold


def _filter(sums: FloatArray, threshold: float) -> tuple[IndexArray, FloatArray]:
    keep: IndexArray = np.flatnonzero(sums >= threshold).astype(np.int64)
    return keep, sums[keep]


def _scan_buffers(n: int) -> tuple[IndexArray, FloatArray, IndexArray]:
    """Return the pruned kernels' outputs for n candidates: found indices, sums, survivors per block."""
    if n >= 2**31:
        raise ValueError("a pruned scan takes fewer than 2**31 candidates at a time: split the index")
    counts = np.zeros((n + PRUNE_BLOCK - 1) // PRUNE_BLOCK, dtype=np.int64)
    return np.empty(n, dtype=np.int64), np.empty(n), counts


def _gather(found: IndexArray, sums: FloatArray, counts: IndexArray) -> tuple[IndexArray, FloatArray]:
    """Return the survivors that each block wrote at the start of its own range, in candidate order."""
    parts = [(b * PRUNE_BLOCK, b * PRUNE_BLOCK + int(n)) for b, n in enumerate(counts) if n]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    keep = np.concatenate([found[a:z] for a, z in parts])
    return keep, np.concatenate([sums[a:z] for a, z in parts])


def _above_kernel(
    tables: Any,
    offsets: Any,
    strides: Any,
    rows: Any,
    first: Any,
    second: Any,
    pair: bool,
    order: Any,
    bounds: Any,
    dense: int,
    threshold: float,
    found: Any,
    sums: Any,
    counts: Any,
) -> None:  # pragma: no cover - jitted
    n = first.shape[1]
    n_markers = rows.shape[0]
    n_blocks = (n + PRUNE_BLOCK - 1) // PRUNE_BLOCK
    cut = threshold - PRUNE_MARGIN
    p_offsets = offsets[order]
    p_strides = strides[order]
    p_rows = rows[order]
    for b in numba.prange(n_blocks):
        start = b * PRUNE_BLOCK
        stop = min(n, start + PRUNE_BLOCK)
        size = stop - start
        alive = np.arange(start, stop).astype(np.int32)
        acc = np.zeros(size)
        for j in range(dense):
            f = first[p_rows[j], start:stop]
            m = second[p_rows[j], start:stop]
            base = p_offsets[j]
            stride = p_strides[j]
            for i in range(size):
                acc[i] += tables[base + (np.int64(f[i]) * stride if pair else 0) + m[i]]
        n_alive = size
        for j in range(dense, n_markers):
            if n_alive == 0:
                break
            f = first[p_rows[j]]
            m = second[p_rows[j]]
            base = p_offsets[j]
            stride = p_strides[j]
            bound = bounds[j + 1]
            w = 0
            for i in range(n_alive):
                c = alive[i]
                s = acc[i] + tables[base + (np.int64(f[c]) * stride if pair else 0) + m[c]]
                alive[w] = c
                acc[w] = s
                w += s + bound >= cut
            n_alive = w
        kept = 0
        for i in range(n_alive):
            c = alive[i]
            total = 0.0
            for k in range(n_markers):
                r = rows[k]
                total += tables[
                    offsets[k] + (np.int64(first[r, c]) * strides[k] if pair else 0) + second[r, c]
                ]
            if total >= threshold:
                found[start + kept] = c
                sums[start + kept] = total
                kept += 1
        counts[b] = kept


if HAVE_NUMBA:
    _above_jit = compiled(_above_kernel)


def sum_above(
    tables: FloatArray,
    offsets: IndexArray,
    rows: IndexArray,
    codes: npt.NDArray[np.unsignedinteger[Any]],
    log10_threshold: float,
    *,
    order: IndexArray | None = None,
    use_numba: bool = True,
) -> tuple[IndexArray, FloatArray]:
    """Return (indices, sums) of the candidates whose summed table entries reach `log10_threshold`, exactly.

    The generic 1-D pruned scan, the kernel shape of `sum_duo` (one child against many parents, and one family
    against many children):

    - `tables` (float64, 1-D): per-marker log10 LR tables concatenated; marker k's table starts at `offsets[k]`
      (int64, increasing) and is indexed by a candidate's genotype code at that marker, its untyped code included
      (so the table of a locus of G genotypes has G + 1 entries). Entries may be -inf (an exclusion), never NaN
      or +inf.
    - `rows` (int64): marker k's row in `codes`; `codes` (markers, candidates), uint8 or uint16, marker-major.
    - candidate c's sum is sum over k, in order k = 0, 1, ..., of tables[offsets[k] + codes[rows[k], c]], the
      same additions as `sum_duo_numpy`, so the returned sums equal its values bit for bit.
    - returns the candidate indices (int64, increasing) with sum >= log10_threshold (-inf: every candidate), and
      their sums (float64).
    - `order` (optional, a permutation of range(len(rows))): the order in which markers are tried for pruning;
      default `informative_order(tables, offsets)` (pass one weighted by genotype frequencies to prune sooner).
      It changes the speed, never the result.

    Without numba (or `use_numba=False`) the full numpy sum is filtered: the reference.
    """
    threshold = _check_threshold(log10_threshold)
    if not (use_numba and HAVE_NUMBA):
        return _filter(sum_duo_numpy(tables, offsets, rows, codes), threshold)
    return _above(tables, offsets, _no_stride(rows), rows, codes, codes, False, threshold, order)


def sum_trio_above(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: npt.NDArray[np.unsignedinteger[Any]],
    second: npt.NDArray[np.unsignedinteger[Any]],
    log10_threshold: float,
    *,
    order: IndexArray | None = None,
    use_numba: bool = True,
) -> tuple[IndexArray, FloatArray]:
    """Return (indices, sums) of the couples whose trio sums reach `log10_threshold`, exactly (see `sum_above`).

    Marker k's table is a (G + 1) x (G + 1) matrix flattened row-major, indexed by
    offsets[k] + first[rows[k], c] * strides[k] + second[rows[k], c]; the sums equal `sum_trio_numpy` bit for bit.
    """
    threshold = _check_threshold(log10_threshold)
    if not (use_numba and HAVE_NUMBA):
        full = sum_trio_numpy(tables, offsets, strides, rows, first, second)
        return _filter(full, threshold)
    return _above(tables, offsets, strides, rows, first, second, True, threshold, order)


def _above(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: npt.NDArray[np.unsignedinteger[Any]],
    second: npt.NDArray[np.unsignedinteger[Any]],
    pair: bool,
    threshold: float,
    order: IndexArray | None,
) -> tuple[IndexArray, FloatArray]:
    """Run the pruned kernel (of a pair of code arrays, or of `second` alone) and gather its survivors."""
    if order is None:
        order = informative_order(tables, offsets)
    found, sums, counts = _scan_buffers(second.shape[1])
    bounds = _suffix_bounds(tables, offsets, order)
    dense = _dense_prefix(tables, offsets, order, bounds, threshold)
    pick(_above_jit, second.shape[1])(
        tables,
        offsets,
        strides,
        rows,
        first,
        second,
        pair,
        order,
        bounds,
        dense,
        threshold,
        found,
        sums,
        counts,
    )
    return _gather(found, sums, counts)
