"""Compact storage of typed profiles for the matching service: genotype codes in growable column pools.

A `Pool` holds columns of genotype codes (`matching.batch` codes, marker-major, uint16), one or two code arrays
wide (a couple is two), with an owner per column and a validity mask. A removed column is reset to `untyped`
(it then scores log10 LR 0 and shares no marker), masked out, and its slot goes on a free list that the next add
reuses, so add and remove are O(1) amortised and the arrays never need compaction. The scans read
`pool.codes(k)` (the columns up to the high-water mark) and drop invalid columns afterwards.

`Encoder` turns a Profile into one code column with a dictionary per marker (fast enough to load millions of
profiles) and back; a genotype whose allele the table lacks is left untyped in the codes (the profile is then
kept whole so that the exact per-pair recomputation, which imputes the allele, still sees it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from matching.batch import CODE_DTYPE, GenotypeEncoding
from matching.fast import Codes
from matching.frequencies import FrequencyTable
from matching.profiles import Genotype, Profile

try:
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


class Encoder:
    """Profiles to code columns over every marker of a frequency table, and back."""

    def __init__(self, table: FrequencyTable) -> None:
        self.table = table
        self.encoding = GenotypeEncoding(table)
        self.markers = self.encoding.markers
        self.untyped: Codes = np.array(
            [self.encoding.loci[m].untyped for m in self.markers], dtype=CODE_DTYPE
        )
        self._lut: list[dict[Genotype, int]] = []
        self._genotypes: list[list[Genotype]] = []
        for marker in self.markers:
            codes = self.encoding.loci[marker]
            alleles = codes.locus.alleles
            genotypes = [
                (alleles[a], alleles[b])
                for a, b in zip(codes.first.tolist(), codes.second.tolist(), strict=True)
            ]
            lut = {g: i for i, g in enumerate(genotypes)}
            lut.update({(b, a): i for (a, b), i in list(lut.items())})
            self._lut.append(lut)
            self._genotypes.append(genotypes)

    def encode(self, profile: Profile) -> tuple[Codes, bool]:
        """Return the profile's code column and whether it is `odd` (a marker or allele the table lacks)."""
        genotypes = profile.genotypes
        column = self.untyped.copy()
        seen = 0
        odd = False
        for row, marker in enumerate(self.markers):
            genotype = genotypes.get(marker)
            if genotype is None:
                continue
            seen += 1
            code = self._lut[row].get(genotype)
            if code is None:
                odd = True  # an allele the table lacks: untyped in the codes, the profile kept whole
            else:
                column[row] = code
        return column, odd or seen != len(genotypes)

    def encode_many(self, profiles: list[Profile]) -> tuple[Codes, npt.NDArray[np.bool_]]:
        """Return the code columns of many profiles (markers, n) and which of them are odd (as `encode`)."""
        spec = list(zip(self.markers, self._lut, self.untyped.tolist(), strict=True))
        rows = [[lut.get(g.get(m), u) for m, lut, u in spec] for g in (p.genotypes for p in profiles)]  # type: ignore[arg-type]
        codes: Codes = np.array(rows, dtype=CODE_DTYPE).reshape(len(profiles), len(self.markers)).T
        typed = (codes != self.untyped[:, None]).sum(axis=0)
        lengths = np.fromiter((len(p.genotypes) for p in profiles), dtype=np.int64, count=len(profiles))
        return np.ascontiguousarray(codes), typed != lengths

    def decode(self, column: Codes) -> Profile:
        """Return the profile of a code column (table markers only)."""
        untyped = self.untyped
        return Profile(
            {
                marker: self._genotypes[row][int(column[row])]
                for row, marker in enumerate(self.markers)
                if column[row] != untyped[row]
            }
        )


class Pool:
    """Columns of genotype codes (`width` code arrays) with owners, a validity mask and a free list."""

    def __init__(self, untyped: Codes, width: int = 1) -> None:
        self.untyped = untyped
        self.width = width
        self._codes: list[Codes] = [np.empty((len(untyped), 0), dtype=CODE_DTYPE) for _ in range(width)]
        self.owner: npt.NDArray[np.int64] = np.empty((width, 0), dtype=np.int64)
        self.valid: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.size = 0
        self.free: list[int] = []

    def __len__(self) -> int:
        return self.size - len(self.free)

    def codes(self, k: int = 0) -> Codes:
        """Return the k-th code array up to the high-water mark, shape (markers, size)."""
        return self._codes[k][:, : self.size]

    def column(self, slot: int, k: int = 0) -> Codes:
        """Return one column of the k-th code array (a copy)."""
        return self._codes[k][:, slot].copy()

    def _reserve(self, n: int) -> None:
        capacity = self.valid.shape[0]
        if self.size + n <= capacity:
            return
        new = max(1024, 2 * capacity, self.size + n)
        grown = []
        for codes in self._codes:
            bigger = np.empty((codes.shape[0], new), dtype=CODE_DTYPE)
            bigger[:, : self.size] = codes[:, : self.size]
            bigger[:, self.size :] = self.untyped[:, None]
            grown.append(bigger)
        self._codes = grown
        owner = np.full((self.width, new), -1, dtype=np.int64)
        owner[:, : self.size] = self.owner[:, : self.size]
        self.owner = owner
        valid = np.zeros(new, dtype=bool)
        valid[: self.size] = self.valid[: self.size]
        self.valid = valid

    def add(self, columns: tuple[Codes, ...], owners: tuple[int, ...]) -> int:
        """Store one column per code array, owned by `owners` (e.g. the person slots); return its slot."""
        if self.free:
            slot = self.free.pop()
        else:
            self._reserve(1)
            slot = self.size
            self.size += 1
        for k in range(self.width):
            self._codes[k][:, slot] = columns[k]
            self.owner[k, slot] = owners[k]
        self.valid[slot] = True
        return slot

    def add_block(self, columns: tuple[Codes, ...], owners: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Append many columns at once (columns[k] of shape (markers, n), owners (width, n)); return their slots."""
        n = owners.shape[1]
        self._reserve(n)
        start = self.size
        for k in range(self.width):
            self._codes[k][:, start : start + n] = columns[k]
        self.owner[:, start : start + n] = owners
        self.valid[start : start + n] = True
        self.size += n
        return np.arange(start, start + n, dtype=np.int64)

    def remove(self, slot: int) -> None:
        """Invalidate a slot: its codes become untyped and the slot is reused by a later add."""
        if not self.valid[slot]:
            return
        for codes in self._codes:
            codes[:, slot] = self.untyped
        self.owner[:, slot] = -1
        self.valid[slot] = False
        self.free.append(slot)


def _identity_kernel(column: Any, untyped: Any, codes: Any, shared: Any, mismatch: Any) -> None:
    n = codes.shape[1]
    for c in numba.prange(n):
        count = 0
        bad = False
        for row in range(column.shape[0]):
            a = column[row]
            if a == untyped[row]:
                continue
            b = codes[row, c]
            if b == untyped[row]:
                continue
            if a != b:
                bad = True
                break
            count += 1
        shared[c] = count
        mismatch[c] = bad


if HAVE_NUMBA:
    _identity_jit = numba.njit(parallel=True, cache=True, nogil=True)(_identity_kernel)


def identical_columns(
    column: Codes, untyped: Codes, codes: Codes, *, use_numba: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return, per column of `codes`, the markers typed in both it and `column`, and whether any of them differs."""
    if not (use_numba and HAVE_NUMBA):
        rows = np.flatnonzero(column != untyped)
        sub = codes[rows]
        both = sub != untyped[rows, None]
        shared = both.sum(axis=0).astype(np.int64)
        mismatch = np.any(both & (sub != column[rows, None]), axis=0)
        return shared, mismatch
    shared_out = np.empty(codes.shape[1], dtype=np.int64)
    mismatch_out = np.empty(codes.shape[1], dtype=bool)
    _identity_jit(column, untyped, codes, shared_out, mismatch_out)
    return shared_out, mismatch_out
