"""A child's trio and duo tables with theta 0, compiled: the per-child cost of a child's search and of a re-match.

With theta 0 a trio table is the closed form of `matching.batch.trio_likelihoods` (the reference, any theta):
at a marker where the child is (c1, c2), entry [f, m] is log10(h1 / H) with h1 = x_f y_m + y_f x_m (a homozygous
child: x_f x_m), x_f and y_f the probability that a parent of genotype f passes an allele arriving as c1 and c2
(mutation included), an untyped parent's row and column using (p M)[c], and H = 2 p_c1 p_c2 (p_c1^2). A duo
table is the trio table's untyped-father row. What depends on the encoding and the mutation model only (every
genotype's transmission probabilities, `Transmission`) is computed once; per child one compiled pass writes
h1 / H into the concatenated tables, numpy's vectorised log10 runs over all of them at once, and a second
compiled pass gives each marker's expected loss (`matching.fast.marker_loss`, for the scan's marker order).
Before, the same tables took a dozen numpy passes per marker over up to 631 x 631 entries (tested equal:
tests/matching/test_child_tables.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matching.fast import HAVE_NUMBA, FloatArray, IndexArray

_CLIP = 10.0  # as `matching.fast.marker_loss`: an entry more than 10 below the best counts as a loss of 10


@dataclass(frozen=True, eq=False)
class Transmission:
    """Per marker of an encoding, flattened: each genotype's probability of passing each allele (mutation
    included), an untyped parent's ((p M)[c]), the allele and genotype frequencies."""

    passes: FloatArray  # marker k: rows [p_start[k], + genotypes[k] * alleles[k]), genotype-major
    p_start: IndexArray
    untyped: FloatArray  # marker k: [a_start[k], + alleles[k])
    p: FloatArray  # allele frequencies, laid out as `untyped`
    a_start: IndexArray
    alleles: IndexArray
    genotypes: IndexArray
    freq: FloatArray  # genotype frequencies: marker k at [g_start[k], + genotypes[k])
    g_start: IndexArray
    # (marker, c1, c2) -> a trio table's (loss, log10 of its largest entry), which depend on the child's genotype
    # there only: what the separable scan needs of the 2-D table, computed once per genotype (`trio_stats`).
    _stats: dict[tuple[int, int, int], tuple[float, float]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, loci: Sequence[tuple[FloatArray, IndexArray, IndexArray, FloatArray | None, FloatArray]]
    ) -> Transmission:
        """Build from each marker's (allele frequencies, first and second allele of each genotype, mutation matrix
        or None, genotype frequencies)."""
        passes: list[FloatArray] = []
        untyped: list[FloatArray] = []
        ps: list[FloatArray] = []
        freqs: list[FloatArray] = []
        for p, first, second, matrix, freq in loci:
            m = matrix if matrix is not None else np.eye(len(p))
            passes.append((0.5 * (m[first] + m[second])).ravel())
            untyped.append(p @ m)
            ps.append(p)
            freqs.append(freq)

        def starts(parts: list[FloatArray]) -> IndexArray:
            return np.concatenate([[0], np.cumsum([len(x) for x in parts])[:-1]]).astype(np.int64)[
                : len(parts)
            ]

        return cls(
            np.concatenate(passes) if passes else np.zeros(0),
            starts(passes),
            np.concatenate(untyped) if untyped else np.zeros(0),
            np.concatenate(ps) if ps else np.zeros(0),
            starts(ps),
            np.array([len(p) for p in ps], dtype=np.int64),
            np.array([len(f) for f in freqs], dtype=np.int64),
            np.concatenate(freqs) if freqs else np.zeros(0),
            starts(freqs),
        )

    def tables(
        self, markers: IndexArray, c1: IndexArray, c2: IndexArray, *, duo: bool
    ) -> tuple[FloatArray, IndexArray, FloatArray]:
        """Return a child's tables (log10 LR, concatenated), their offsets and each marker's loss: the child typed
        (allele positions `c1`, `c2`) at `markers` (positions in the encoding). Trio tables are (G + 1) x (G + 1),
        row-major, the last row and column an untyped parent; duo tables G + 1 long, the last an untyped parent."""
        side = self.genotypes[markers] + 1
        offsets = _starts(side if duo else side * side)
        out = np.empty(int(side.sum() if duo else (side * side).sum()))
        best = np.empty(len(markers))  # each marker's largest ratio between typed genotypes
        _ratios_jit(
            self.passes, self.p_start[markers], self.alleles[markers], side - 1, self.untyped, self.p,
            self.a_start[markers], c1, c2, duo, out, offsets, best,
        )  # fmt: skip
        with np.errstate(divide="ignore"):
            np.log10(out, out=out)
            np.log10(best, out=best)
        losses = np.empty(len(markers))
        _losses_jit(out, offsets, side - 1, self.freq, self.g_start[markers], best, duo, losses)
        return out, offsets, losses

    def vectors(self, markers: IndexArray, c1: IndexArray, c2: IndexArray) -> tuple[FloatArray, IndexArray]:
        """Return a child's separable trio vectors (theta 0) and their offsets: marker j's X and Y interleaved
        from offsets[j] (X[g] at 2 g, Y[g] at 2 g + 1, g = 0 .. G, G the untyped parent), such that the trio table's
        entry [f, m] is log10(X[f] Y[m] + Y[f] X[m]) (both untyped: 0). A heterozygous child: X = x / H, Y = y,
        H = 2 p_c1 p_c2; a homozygous one: X = x / p_c1^2, Y = x / 2. O(G) per marker, where the table is O(G^2):
        the scan `matching.fast.separable_trio_above` reads these."""
        side = self.genotypes[markers] + 1
        offsets = _starts(2 * side)
        out = np.empty(int(2 * side.sum()))
        transmission = (self.passes, self.p_start[markers], self.alleles[markers], self.untyped, self.p)
        _vectors_jit(transmission, self.a_start[markers], side - 1, c1, c2, out, offsets)
        return out, offsets

    def trio_stats(
        self, markers: IndexArray, c1: IndexArray, c2: IndexArray
    ) -> tuple[FloatArray, FloatArray]:
        """Return each marker's trio-table loss (`matching.fast.marker_loss`, for the scan's order) and the log10
        of its largest entry (untyped rows and columns included; the scan's bound), for a child typed (c1, c2)
        there. Each (marker, genotype) is computed once from its 2-D table (`tables`) and kept: in a re-match the
        children's genotypes repeat, and their O(G^2) tables are no longer built per child."""
        keys = [(int(k), int(a), int(b)) for k, a, b in zip(markers, c1, c2, strict=True)]
        missing = [j for j, key in enumerate(keys) if key not in self._stats]
        if missing:
            tables, offsets, losses = self.tables(markers[missing], c1[missing], c2[missing], duo=False)
            maxima = np.maximum.reduceat(tables, offsets)
            for j, loss, best in zip(missing, losses.tolist(), maxima.tolist(), strict=True):
                self._stats[keys[j]] = (loss, best)
        stats = np.array([self._stats[key] for key in keys]).reshape(len(keys), 2)
        return stats[:, 0].copy(), stats[:, 1].copy()


def _starts(sizes: IndexArray) -> IndexArray:
    starts: IndexArray = np.zeros(len(sizes), dtype=np.int64)
    starts[1:] = np.cumsum(sizes)[:-1]
    return starts


def _ratios_kernel(
    passes: Any,
    p_start: Any,
    alleles: Any,
    genotypes: Any,
    untyped: Any,
    p: Any,
    a_start: Any,
    c1s: Any,
    c2s: Any,
    duo: bool,
    out: Any,
    offsets: Any,
    best: Any,
) -> None:  # pragma: no cover - jitted
    """Write h1 / H of each marker's table (a duo's row, or a trio's (G + 1) x (G + 1)) and its largest typed
    entry."""
    for j in range(genotypes.shape[0]):
        g = genotypes[j]
        n = alleles[j]
        c1 = c1s[j]
        c2 = c2s[j]
        x = np.empty(g)
        y = np.empty(g)
        for f in range(g):
            x[f] = passes[p_start[j] + f * n + c1]
            y[f] = passes[p_start[j] + f * n + c2]
        ux = untyped[a_start[j] + c1]
        uy = untyped[a_start[j] + c2]
        het = c1 != c2
        h = 2.0 * p[a_start[j] + c1] * p[a_start[j] + c2] if het else p[a_start[j] + c1] * p[a_start[j] + c1]
        # Entry (f, m) is (x_f x2_m + y_f x_m) / h: for a heterozygous child x2 = y; for a homozygous one x2 = x
        # and y = 0, i.e. x_f x_m / h. The untyped parent's entries use ux, uy the same way.
        if het:
            x2 = y
            ux2 = uy
        else:
            y[:] = 0.0
            uy = 0.0
            x2 = x
            ux2 = ux
        o = offsets[j]
        top = 0.0
        if duo:
            for f in range(g):
                v = (x[f] * ux2 + y[f] * ux) / h
                out[o + f] = v
                top = max(top, v)
            out[o + g] = 1.0
            best[j] = top
            continue
        s = g + 1
        for f in range(g):
            xf = x[f]
            yf = y[f]
            row = o + f * s
            for m in range(g):
                out[row + m] = (xf * x2[m] + yf * x[m]) / h
            for m in range(g):  # apart: the loop above stays vectorised
                top = max(top, out[row + m])
            out[row + g] = (xf * ux2 + yf * ux) / h
        row = o + g * s
        for m in range(g):
            out[row + m] = (x[m] * ux2 + y[m] * ux) / h
        out[row + g] = 1.0  # both parents untyped: the marker says nothing
        best[j] = top


def _vectors_kernel(
    transmission: Any, a_start: Any, genotypes: Any, c1s: Any, c2s: Any, out: Any, offsets: Any
) -> None:  # pragma: no cover - jitted
    """Write each marker's separable vectors X, Y (interleaved; see `Transmission.vectors`); `transmission` is
    (passes, p_start, alleles, untyped, p) of `Transmission`, the per-marker ones selected."""
    passes, p_start, alleles, untyped, p = transmission
    for j in range(genotypes.shape[0]):
        g = genotypes[j]
        n = alleles[j]
        c1 = c1s[j]
        c2 = c2s[j]
        start = p_start[j]
        o = offsets[j]
        p1 = p[a_start[j] + c1]
        if c1 != c2:
            h = 2.0 * p1 * p[a_start[j] + c2]
            for f in range(g):
                out[o + 2 * f] = passes[start + f * n + c1] / h
                out[o + 2 * f + 1] = passes[start + f * n + c2]
            out[o + 2 * g] = untyped[a_start[j] + c1] / h
            out[o + 2 * g + 1] = untyped[a_start[j] + c2]
        else:  # x_f x_m / p^2 = X[f] Y[m] + Y[f] X[m] with X = x / p^2, Y = x / 2
            h = p1 * p1
            for f in range(g):
                x = passes[start + f * n + c1]
                out[o + 2 * f] = x / h
                out[o + 2 * f + 1] = 0.5 * x
            x = untyped[a_start[j] + c1]
            out[o + 2 * g] = x / h
            out[o + 2 * g + 1] = 0.5 * x


def _losses_kernel(
    tables: Any, offsets: Any, genotypes: Any, freq: Any, g_start: Any, best: Any, duo: bool, losses: Any
) -> None:  # pragma: no cover - jitted
    """Write each marker's `marker_loss`: its best typed entry minus the mean typed entry (genotype frequencies as
    weights, entries clipped at 10 below the best). A trio table is symmetric: its upper triangle is read, each
    off-diagonal entry counted for both of its places."""
    for j in range(genotypes.shape[0]):
        g = genotypes[j]
        w = freq[g_start[j] : g_start[j] + g]
        floor = best[j] - _CLIP
        o = offsets[j]
        weighted = 0.0
        if duo:
            for m in range(g):
                weighted += w[m] * max(tables[o + m], floor)
            losses[j] = best[j] - weighted / max(w.sum(), 1e-300)
            continue
        s = g + 1
        for f in range(g):
            row = 0.0
            start = o + f * s
            for m in range(f + 1, g):
                row += w[m] * max(tables[start + m], floor)
            weighted += w[f] * (w[f] * max(tables[start + f], floor) + 2.0 * row)
        losses[j] = best[j] - weighted / max(w.sum() * w.sum(), 1e-300)


if HAVE_NUMBA:
    import numba

    # No NaN arises (every ratio is finite and >= 0, a log10 of one is -inf at most): the maxima and sums may be
    # vectorised; the entries themselves are computed exactly as written.
    _ratios_jit = numba.njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})(_ratios_kernel)
    _losses_jit = numba.njit(cache=True, nogil=True, fastmath={"nnan", "nsz", "reassoc"})(_losses_kernel)
    _vectors_jit = numba.njit(cache=True, nogil=True)(_vectors_kernel)
