"""The inner loop of the batch API: sum per-marker log10 LR tables over many candidates, with numba if present.

A candidate's combined log10 LR is the sum over markers of one table entry picked by its genotype codes. The
numpy functions are the reference; the numba kernels do the same sums, in the same order (marker by marker), over
blocks of candidates in parallel, reading each code array once and keeping the running sums in cache.

Codes come as a plain (markers, candidates) array (uint8 or uint16) or as `Planes`: one byte per marker where the
locus's codes fit in a byte (at most 22 alleles: 253 genotypes and the untyped code), and a second byte plane for
each larger locus. The index keeps its pools as planes (27 bytes a profile instead of 46 for the shipped table);
every kernel reads both layouts and gives the same sums.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
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


@dataclass(frozen=True, eq=False)
class Planes:
    """Many candidates' genotype codes, one byte a marker where the locus allows it.

    `narrow` (rows, candidates) holds the codes of the markers whose codes, untyped included, fit in a byte (uint8
    in the index), `wide` (rows, candidates, uint16) those of the larger loci; `where[r]` is marker r's row in
    `narrow`, or ~row (a negative number) in `wide`. A plain (markers, candidates) array of any unsigned type is all
    `narrow` (`of`). The kernels pick the array once per marker, so every inner loop reads one array directly.
    """

    narrow: npt.NDArray[Any]
    wide: npt.NDArray[np.uint16]
    where: IndexArray

    @classmethod
    def of(cls, codes: npt.NDArray[np.unsignedinteger[Any]] | Planes) -> Planes:
        """Return `codes` as planes (a plain array: every marker a row of `narrow`, as it is)."""
        if isinstance(codes, Planes):
            return codes
        wide = np.zeros((0, codes.shape[1]), dtype=np.uint16)
        return cls(codes, wide, np.arange(codes.shape[0], dtype=np.int64))

    @property
    def shape(self) -> tuple[int, int]:
        """(markers, candidates), as the plain array would have."""
        return len(self.where), int(self.narrow.shape[1])

    def row(self, r: int) -> IndexArray:
        """Return marker r's codes (int64)."""
        w = int(self.where[r])
        out: IndexArray = (self.narrow[w] if w >= 0 else self.wide[~w]).astype(np.int64)
        return out

    def full(self) -> Codes:
        """Return the codes as a plain (markers, candidates) uint16 array."""
        out: Codes = np.empty(self.shape, dtype=np.uint16)
        narrow = self.where >= 0
        out[narrow] = self.narrow[self.where[narrow]]
        out[~narrow] = self.wide[~self.where[~narrow]]
        return out

    def __getitem__(self, key: tuple[slice, Any]) -> Planes:
        """Return some candidates' codes: `planes[:, columns]` (a slice, indices or a mask)."""
        rows, columns = key
        if rows != slice(None):
            raise IndexError("planes select candidates only: planes[:, columns]")
        return Planes(self.narrow[:, columns], self.wide[:, columns], self.where)


# What the sums and scans take: a plain (markers, candidates) array of uint8 or uint16 codes, or planes.
ScanCodes = npt.NDArray[np.unsignedinteger[Any]] | Planes


def packing(untyped: Codes) -> tuple[IndexArray, int, int]:
    """Return the layout of planes for markers with these untyped codes: `where` (see `Planes`) and the numbers
    of narrow and wide rows. A marker is narrow when its codes, untyped included, are at most 255."""
    wide = untyped > 255
    where = np.empty(len(untyped), dtype=np.int64)
    where[~wide] = np.arange(int((~wide).sum()))
    where[wide] = ~np.arange(int(wide.sum()))
    return where, int((~wide).sum()), int(wide.sum())


def pack(
    codes: npt.NDArray[Any], where: IndexArray, dtype: type[np.unsignedinteger[Any]] = np.uint8
) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint16]]:
    """Return plain codes (markers, ...) as the narrow (`dtype`, uint8 by default) and wide (uint16) rows of the
    layout `where`."""
    narrow = where >= 0
    return codes[narrow].astype(dtype), codes[~narrow].astype(np.uint16)


def sum_duo_numpy(tables: FloatArray, offsets: IndexArray, rows: IndexArray, codes: ScanCodes) -> FloatArray:
    """Return sum over k of tables[offsets[k] + codes[rows[k], c]] for every candidate c."""
    planes = Planes.of(codes)
    out = np.zeros(planes.shape[1])
    for k in range(len(rows)):
        out += tables[offsets[k] + planes.row(rows[k])]
    return out


def sum_trio_numpy(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: ScanCodes,
    second: ScanCodes,
) -> FloatArray:
    """Return sum over k of tables[offsets[k] + first[rows[k], c] * strides[k] + second[rows[k], c]]."""
    f, m = Planes.of(first), Planes.of(second)
    out = np.zeros(f.shape[1])
    for k in range(len(rows)):
        out += tables[offsets[k] + f.row(rows[k]) * strides[k] + m.row(rows[k])]
    return out


def _sum_step(
    tables: Any, base: int, stride: int, f: Any, m: Any, pair: bool, start: int, acc: Any
) -> None:  # pragma: no cover - jitted
    """Add one marker's entries (the candidates' codes f and m at that marker) to the sums of candidates start,
    start + 1, ..."""
    for i in range(acc.shape[0]):
        c = start + i
        at = base + np.int64(m[c])
        if pair:
            at += np.int64(f[c]) * stride
        acc[i] += tables[at]


def _add_marker(
    tables: Any, base: int, stride: int, codes: Any, w: int, pair: bool, start: int, acc: Any
) -> None:  # pragma: no cover - jitted
    """`_sum_step` on the narrow (w >= 0) or the wide (~w) rows of `codes` = (first, first wide, second, second
    wide): the array is picked once per marker, so the loop reads one array."""
    if w >= 0:
        _sum_step_jit(tables, base, stride, codes[0][w], codes[2][w], pair, start, acc)
    else:
        _sum_step_jit(tables, base, stride, codes[1][~w], codes[3][~w], pair, start, acc)


def _sum_kernel(
    tables: Any, offsets: Any, strides: Any, where: Any, codes: Any, pair: bool, out: Any
) -> None:  # pragma: no cover - jitted
    n = codes[2].shape[1]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        start = b * BLOCK
        stop = min(n, start + BLOCK)
        acc = np.zeros(stop - start)
        for k in range(where.shape[0]):
            _add_marker_jit(tables, offsets[k], strides[k], codes, where[k], pair, start, acc)
        out[start:stop] = acc


def compiled(kernel: Any) -> tuple[Any, Any]:
    """Return the parallel and the one-thread numba builds of a kernel written with `numba.prange`.

    Each build compiles a copy of the function of its own name (`<name>_parallel`, `<name>_one_thread`): numba's
    cache files a compiled function under its name and line, keyed by signature, CPU and bytecode, not by whether
    it was built parallel, so two builds of one function shared their cache entries and whichever was compiled
    first was loaded for both (a process whose first scan was of a small pool left every later process scanning a
    million profiles on one thread). New names also leave the entries cached before unread.
    """
    return (
        numba.njit(parallel=True, cache=True, nogil=True)(_renamed(kernel, "parallel")),
        numba.njit(parallel=False, cache=True, nogil=True)(_renamed(kernel, "one_thread")),
    )


def _renamed(function: Any, suffix: str) -> Any:
    """Return a copy of a function named `<name>_<suffix>` (the same code, globals, defaults and closure)."""
    copy = types.FunctionType(
        function.__code__, function.__globals__, f"{function.__name__}_{suffix}", function.__defaults__,
        function.__closure__,
    )  # fmt: skip
    copy.__qualname__ = f"{function.__qualname__}_{suffix}"
    return copy


def pick(kernels: tuple[Any, Any], n: int) -> Any:
    """Return the one-thread build for a scan of fewer than `SERIAL_BELOW` candidates, else the parallel one."""
    return kernels[1] if n < SERIAL_BELOW else kernels[0]


if HAVE_NUMBA:
    _sum_step_jit = numba.njit(cache=True, nogil=True, inline="always")(_sum_step)
    _add_marker_jit = numba.njit(cache=True, nogil=True)(_add_marker)
    _sum_jit = compiled(_sum_kernel)


# One kernel family: the full and the pruned kernels are written once for a pair of code arrays (a couple: entry
# offsets[k] + first * strides[k] + second) and run on one (a parent, or a family's children: entry offsets[k] +
# second) with `pair` False, which never reads `first` nor multiplies (the branch is loop-invariant, hoisted by the
# compiler): the same additions in the same order as the numpy references, bit for bit.


def _no_stride(rows: IndexArray) -> IndexArray:
    return np.zeros(len(rows), dtype=np.int64)


def sum_duo(
    tables: FloatArray, offsets: IndexArray, rows: IndexArray, codes: ScanCodes, *, use_numba: bool = True
) -> FloatArray:
    """Return the per-candidate sums of `sum_duo_numpy`, with the numba kernel when available."""
    planes = Planes.of(codes)
    return _sum(tables, offsets, rows, (planes, planes, None), use_numba)


def sum_trio(
    tables: FloatArray,
    offsets: IndexArray,
    strides: IndexArray,
    rows: IndexArray,
    first: ScanCodes,
    second: ScanCodes,
    *,
    use_numba: bool = True,
) -> FloatArray:
    """Return the per-candidate sums of `sum_trio_numpy`, with the numba kernel when available."""
    return _sum(tables, offsets, rows, (*_same_layout(first, second), strides), use_numba)


def _sum(
    tables: FloatArray,
    offsets: IndexArray,
    rows: IndexArray,
    codes: tuple[Planes, Planes, IndexArray | None],
    use_numba: bool,
) -> FloatArray:
    """Return the sums of one code array (strides None: `sum_duo`) or of a couple's two (`sum_trio`)."""
    f, m, strides = codes
    if not (use_numba and HAVE_NUMBA):
        if strides is not None:
            return sum_trio_numpy(tables, offsets, strides, rows, f, m)
        return sum_duo_numpy(tables, offsets, rows, m)
    out = np.empty(m.shape[1])
    kernel = pick(_sum_jit, m.shape[1])
    pair = strides is not None
    arrays = (f.narrow, f.wide, m.narrow, m.wide)
    kernel(tables, offsets, strides if pair else _no_stride(rows), m.where[rows], arrays, pair, out)
    return out


# --- Pruned scans: only the candidates whose combined log10 LR reaches a threshold, exactly. ---------------------
#
# Markers are visited in an informative order (the child's most excluding markers first). After each marker the
# running sum plus the best that the remaining markers could still add (suffix sums of each marker's largest table
# entry, the untyped entry included) is compared with the threshold; a candidate that cannot reach it is dropped.
# A survivor's sum is then recomputed over all markers in the original order, exactly as `sum_duo_numpy` and
# `sum_trio_numpy` add them, and kept if it reaches the threshold: the same candidates and bit-identical LRs as the
# full sum. The drop test keeps a margin (PRUNE_MARGIN in log10) so that rounding in the reordered partial sums
# can never drop a candidate whose full sum reaches the threshold. Each marker's loop reads one code array (the
# narrow or the wide rows of `Planes`), chosen once per marker.

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


def _ends(tables: FloatArray, offsets: IndexArray) -> IndexArray:
    ends: IndexArray = np.append(offsets[1:], len(tables)).astype(np.int64)[: len(offsets)]
    return ends


def informative_order(
    tables: FloatArray, offsets: IndexArray, weights: FloatArray | None = None
) -> IndexArray:
    """Return the markers ordered by `marker_loss`, largest first: the order in which the scan prunes soonest.

    `weights` (same layout as `tables`) are the candidates' genotype frequencies (uniform when None). Any order
    gives the same results.
    """
    w = np.ones_like(tables) if weights is None else weights
    spans = zip(offsets, _ends(tables, offsets), strict=True)
    losses = [marker_loss(tables[a:z], w[a:z]) for a, z in spans]
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


def _sparse_step(
    tables: Any,
    base: int,
    stride: int,
    f: Any,
    m: Any,
    pair: bool,
    bound: float,
    cut: float,
    alive: Any,
    acc: Any,
    n_alive: int,
) -> int:  # pragma: no cover - jitted
    """Add one marker's entries to the listed candidates' sums, keep those that can still reach `cut` with
    `bound` more; return how many."""
    w = 0
    for i in range(n_alive):
        c = alive[i]
        at = base + np.int64(m[c])
        if pair:
            at += np.int64(f[c]) * stride
        s = acc[i] + tables[at]
        alive[w] = c
        acc[w] = s
        w += s + bound >= cut
    return w


def _entry(
    tables: Any, base: int, stride: int, codes: Any, w: int, pair: bool, c: int
) -> float:  # pragma: no cover - jitted
    """Return candidate c's entry at one marker (row w of the narrow codes, or ~w of the wide)."""
    if w >= 0:
        at = base + np.int64(codes[2][w, c])
        if pair:
            at += np.int64(codes[0][w, c]) * stride
    else:
        at = base + np.int64(codes[3][~w, c])
        if pair:
            at += np.int64(codes[1][~w, c]) * stride
    return tables[at]  # type: ignore[no-any-return]


def _above_kernel(
    tables: Any,
    offsets: Any,
    strides: Any,
    where: Any,
    codes: Any,
    pair: bool,
    order: Any,
    bounds: Any,
    dense: int,
    threshold: float,
    found: Any,
    sums: Any,
    counts: Any,
) -> None:  # pragma: no cover - jitted
    n = codes[2].shape[1]
    n_markers = where.shape[0]
    n_blocks = (n + PRUNE_BLOCK - 1) // PRUNE_BLOCK
    cut = threshold - PRUNE_MARGIN
    for b in numba.prange(n_blocks):
        start = b * PRUNE_BLOCK
        stop = min(n, start + PRUNE_BLOCK)
        size = stop - start
        alive = np.arange(start, stop).astype(np.int32)
        acc = np.zeros(size)
        for j in range(dense):
            k = order[j]
            _add_marker_jit(tables, offsets[k], strides[k], codes, where[k], pair, start, acc)
        n_alive = size
        for j in range(dense, n_markers):
            if n_alive == 0:
                break
            k = order[j]
            w = where[k]
            at, by, bound = offsets[k], strides[k], bounds[j + 1]
            if w >= 0:  # the narrow or the wide rows, picked once per marker (as `_add_marker`)
                n_alive = _sparse_step_jit(
                    tables, at, by, codes[0][w], codes[2][w], pair, bound, cut, alive, acc, n_alive
                )
            else:
                n_alive = _sparse_step_jit(
                    tables, at, by, codes[1][~w], codes[3][~w], pair, bound, cut, alive, acc, n_alive
                )
        kept = 0
        for i in range(n_alive):
            c = alive[i]
            total = 0.0
            for k in range(n_markers):
                total += _entry_jit(tables, offsets[k], strides[k], codes, where[k], pair, c)
            if total >= threshold:
                found[start + kept] = c
                sums[start + kept] = total
                kept += 1
        counts[b] = kept


if HAVE_NUMBA:
    _sparse_step_jit = numba.njit(cache=True, nogil=True, inline="always")(_sparse_step)
    _entry_jit = numba.njit(cache=True, nogil=True)(_entry)
    _above_jit = compiled(_above_kernel)


def sum_above(
    tables: FloatArray,
    offsets: IndexArray,
    rows: IndexArray,
    codes: ScanCodes,
    log10_threshold: float,
    *,
    pairs: tuple[IndexArray, ScanCodes] | None = None,
    order: IndexArray | None = None,
    use_numba: bool = True,
) -> tuple[IndexArray, FloatArray]:
    """Return (indices, sums) of the candidates whose summed table entries reach `log10_threshold`, exactly.

    The pruned scan, one child against many parents (or couples), and one family against many children:

    - `tables` (float64, 1-D): per-marker log10 LR tables concatenated; marker k's table starts at `offsets[k]`
      (int64, increasing) and is indexed by a candidate's genotype code at that marker, its untyped code included
      (so the table of a locus of G genotypes has G + 1 entries). Entries may be -inf (an exclusion), never NaN
      or +inf.
    - `rows` (int64): marker k's row in `codes`; `codes` (markers, candidates), uint8 or uint16, marker-major,
      or `Planes`.
    - candidate c's sum is sum over k, in order k = 0, 1, ..., of tables[offsets[k] + codes[rows[k], c]], the
      same additions as `sum_duo_numpy`, so the returned sums equal its values bit for bit.
    - `pairs` = (strides, second codes) makes the candidates couples (a trio): marker k's table is a
      (G + 1) x (G + 1) matrix flattened row-major, indexed by offsets[k] + codes[rows[k], c] * strides[k] +
      second[rows[k], c]; the sums equal `sum_trio_numpy` bit for bit. Both code arrays have one layout.
    - returns the candidate indices (int64, increasing) with sum >= log10_threshold (-inf: every candidate), and
      their sums (float64).
    - `order` (optional, a permutation of range(len(rows))): the order in which markers are tried for pruning;
      default `informative_order(tables, offsets)` (pass one weighted by genotype frequencies to prune sooner).
      It changes the speed, never the result.

    Without numba (or `use_numba=False`) the full numpy sum is filtered: the reference.
    """
    threshold = _check_threshold(log10_threshold)
    pair = pairs is not None
    strides, second = pairs if pairs is not None else (_no_stride(rows), codes)
    first, second = _same_layout(codes, second)
    if not (use_numba and HAVE_NUMBA):
        full = _sum(tables, offsets, rows, (first, second, strides if pair else None), False)
        return _filter(full, threshold)
    if order is None:
        order = informative_order(tables, offsets)
    n = second.shape[1]
    found, sums, counts = _scan_buffers(n)
    bounds = _suffix_bounds(tables, offsets, order)
    dense = _dense_prefix(tables, offsets, order, bounds, threshold)
    pick(_above_jit, n)(
        tables,
        offsets,
        strides,
        second.where[rows],
        (first.narrow, first.wide, second.narrow, second.wide),
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


def _same_layout(first: ScanCodes, second: ScanCodes) -> tuple[Planes, Planes]:
    f, m = Planes.of(first), Planes.of(second)
    if f.shape != m.shape or not np.array_equal(f.where, m.where):
        raise ValueError("a couple's two code arrays must have one shape and one layout")
    return f, m


# --- The separable trio scan (theta 0): two small vectors per marker instead of a (G + 1) x (G + 1) table. -------
#
# With theta 0 a child's trio LR at a marker is X[f] Y[m] + Y[f] X[m] over the parents' codes f, m (untyped
# included), X and Y the G + 1 entries of `matching.child_tables.Transmission.vectors`, except that both parents
# untyped count 1. The vectors of a marker are 2 (G + 1) floats, interleaved (X[g] at 2 g, Y[g] at 2 g + 1): a few
# KB, in the first-level cache, where the 2-D table of a large locus is 3 MB. The scan multiplies the per-marker LRs
# in the linear domain (over 23 markers the product stays far inside float64's range; an exclusion is 0) and drops
# a couple whose running product times the product of the remaining markers' maxima is below the threshold. Its
# products are not the 2-D tables' sums bit for bit, so the drop test and the final test keep PRUNE_MARGIN: every
# couple whose exact LR reaches the threshold is returned, and perhaps a few within the margin below it.

SEPARABLE_LOG_RANGE = 300.0  # thresholds and bounds (log10) the linear products hold without overflow


def _separable_step(
    vectors: Any,
    base: Any,  # np.uint64, as `untyped` and the codes: unsigned throughout
    untyped: Any,
    f: Any,
    m: Any,
    bound: float,
    cut: float,
    alive: Any,
    acc: Any,
    n_alive: int,
) -> int:  # pragma: no cover - jitted
    """Multiply one marker's LRs into the listed couples' products, keep those that can still reach `cut` with
    `bound` (the remaining markers' maxima, multiplied) more; return how many."""
    w = 0
    one, two = np.uint64(1), np.uint64(2)  # unsigned indices: numba adds no negative-index test to each load
    for i in range(n_alive):
        c = alive[i]
        a = np.uint64(f[c])
        b = np.uint64(m[c])
        at, bt = base + two * a, base + two * b
        v = vectors[at] * vectors[bt + one] + vectors[at + one] * vectors[bt]
        v = 1.0 if (a == untyped) & (b == untyped) else v
        s = acc[i] * v
        alive[w] = c
        acc[w] = s
        w += s * bound >= cut
    return w


def _separable_kernel(
    vectors: Any,
    offsets: Any,
    untyped: Any,
    where: Any,
    codes: Any,
    order: Any,
    bounds: Any,
    cut: float,
    found: Any,
    products: Any,
    counts: Any,
) -> None:  # pragma: no cover - jitted
    n = codes[2].shape[1]
    n_markers = where.shape[0]
    n_blocks = (n + PRUNE_BLOCK - 1) // PRUNE_BLOCK
    for b in numba.prange(n_blocks):
        start = b * PRUNE_BLOCK
        stop = min(n, start + PRUNE_BLOCK)
        alive = np.arange(start, stop).astype(np.int32)
        acc = np.ones(stop - start)
        n_alive = stop - start
        for j in range(n_markers):
            if n_alive == 0:
                break
            k = order[j]
            w = where[k]
            base, u = np.uint64(offsets[k]), np.uint64(untyped[k])
            if w >= 0:  # the narrow or the wide rows, picked once per marker (as `_above_kernel`)
                n_alive = _separable_step_jit(
                    vectors, base, u, codes[0][w], codes[2][w], bounds[j + 1], cut, alive, acc, n_alive
                )
            else:
                n_alive = _separable_step_jit(
                    vectors, base, u, codes[1][~w], codes[3][~w], bounds[j + 1], cut, alive, acc, n_alive
                )
        kept = 0
        for i in range(n_alive):  # every marker multiplied in: tested again for a child typed at none
            if acc[i] * bounds[n_markers] >= cut:
                found[start + kept] = alive[i]
                products[start + kept] = acc[i]
                kept += 1
        counts[b] = kept


if HAVE_NUMBA:
    _separable_step_jit = numba.njit(cache=True, nogil=True, inline="always")(_separable_step)
    _separable_jit = compiled(_separable_kernel)


def separable_trio_above(
    vectors: FloatArray,
    offsets: IndexArray,
    untyped: IndexArray,
    rows: IndexArray,
    first: ScanCodes,
    second: ScanCodes,
    log10_threshold: float,
    log10_maxima: FloatArray,
    order: IndexArray,
) -> tuple[IndexArray, FloatArray] | None:
    """Return (indices, log10 LRs) of the couples whose trio LR may reach `log10_threshold`, by the separable scan.

    - marker k (a row `rows[k]` of the codes `first`, the fathers', and `second`, the mothers': plain arrays or
      `Planes`, one layout) has vectors X, Y interleaved at `vectors[offsets[k]:]` (X[g] at 2 g, Y[g] at 2 g + 1,
      g = 0 .. untyped[k], the untyped code included); a couple (f, m) scores X[f] Y[m] + Y[f] X[m] there, and 1
      when both are untyped (`untyped[k]`).
    - `log10_maxima[k]` is at least the log10 of marker k's largest score (the pruning bound); `order` the markers
      in the order they are tried (speed only).
    - returns every couple whose log10 LR (the sum of the log10 scores) is >= `log10_threshold`, and perhaps some
      up to `PRUNE_MARGIN` below it (rounding: the caller recomputes each hit exactly), indices increasing, with the
      log10 of each couple's product (close to, not bit-identical with, `sum_trio` over the 2-D tables).
    - returns None where the linear products could overflow (a threshold or a bound beyond 10^+-300, or not
      finite, e.g. -inf: every couple): the caller runs the 2-D scan (`sum_above`) instead.
    """
    threshold = _check_threshold(log10_threshold)
    bounds_log = np.append(np.cumsum(log10_maxima[order][::-1])[::-1], 0.0)
    if not (abs(threshold) < SEPARABLE_LOG_RANGE and float(np.abs(bounds_log).max()) < SEPARABLE_LOG_RANGE):
        return None
    f, m = _same_layout(first, second)
    n = m.shape[1]
    found, products, counts = _scan_buffers(n)
    bounds = 10.0 ** (bounds_log + PRUNE_MARGIN)  # a true bound, rounding included
    cut = 10.0 ** (threshold - PRUNE_MARGIN)
    pick(_separable_jit, n)(
        vectors, offsets, untyped, m.where[rows], (f.narrow, f.wide, m.narrow, m.wide), order, bounds, cut,
        found, products, counts,
    )  # fmt: skip
    keep, kept = _gather(found, products, counts)
    with np.errstate(divide="ignore"):
        return keep, np.log10(kept)
