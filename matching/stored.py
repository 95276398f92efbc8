"""Stored genotypes decoded to code columns in bulk: many profiles' JSON text at once, with numpy, no object each.

The intake stores a profile's genotypes as compact JSON (`{"D3S1358":["15","16"],...,"Amelogenin":["X","Y"]}`,
canonical marker names and alleles, two alleles per STR). `StoredDecoder.decode` reads the text of many profiles
laid end to end in one byte buffer and returns their code columns (`matching.index.Encoder` codes, its dtype) and
their Amelogenin. A profile is decoded only when its text is exactly `{` + `"marker":["allele",...]` pieces
joined by `,` + `}`, every marker a table marker written canonically (or Amelogenin), every allele one the
table's locus has in canonical form, two per STR (one or two X/Y for Amelogenin), no marker twice, at least one
STR: then it means what `matching.service.entries.stored_profile` reads, exactly. Anything else (spaces, an
allele the table lacks, a Y marker, escapes...) is left `ok=False` for the caller to read one by one.

Tokens are the strings between pairs of quotes; each is identified by its bytes packed into 64-bit words (a key
checked against the word and the length, so no two strings can be taken for each other).

`decode` runs a compiled one-pass parser (numba, one thread, cached like `matching.fast`'s kernels): each
profile's bytes are walked once, its tokens looked up in a small hash table of the vocabularies' keys (`_Vocabulary.slots`), its
codes written only when the whole text is accepted. `_decode_numpy` is the array reference it is tested against
(and the fallback without numba): about 40 array operations over every token, several times slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.alleles import allele_sort_key, canonical_allele
from matching.errors import ProfileError
from matching.fast import HAVE_NUMBA, Codes
from matching.index import Encoder
from matching.markers import MarkerKind, normalise_marker
from matching.profiles import Profile

AMELOGENIN = "Amelogenin"
# Amelogenin as `stored_profile` keeps it (sorted alleles); `Decoded.amelogenin` indexes this tuple.
AMELOGENIN_VALUES: tuple[tuple[str, ...], ...] = (("X",), ("Y",), ("X", "X"), ("X", "Y"), ("Y", "Y"))
_MIX = np.uint64(0x9E3779B97F4A7C15)
# A key's slot in the compiled parser's hash table: bits 32.. of key * this (`_slot`, and `_find` in the kernel).
_SPREAD = np.uint64(0xFF51AFD7ED558CCD)
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_QUOTE, _COLON, _OPEN, _CLOSE, _COMMA, _LBRACE, _RBRACE = b'":[],{}'

if HAVE_NUMBA:
    import numba


@dataclass
class Decoded:
    """Code columns (markers, n), which rows were decoded, and each row's Amelogenin (-1: none)."""

    codes: Codes
    ok: npt.NDArray[np.bool_]
    amelogenin: npt.NDArray[np.int8]


def _words(text: bytes) -> tuple[int, int]:
    return int.from_bytes(text[:8].ljust(8, b"\0"), "little"), int.from_bytes(
        text[8:16].ljust(8, b"\0"), "little"
    )


class _Vocabulary:
    """Strings of at most 16 bytes, found by key and checked by words and length."""

    def __init__(self, strings: list[bytes], values: list[int]) -> None:
        words = [_words(s) for s in strings]
        w0 = np.array([w for w, _ in words], dtype=np.uint64)
        w1 = np.array([w for _, w in words], dtype=np.uint64)
        keys = _key(w0, w1)
        order = np.argsort(keys, kind="stable")
        self.keys, self.w0, self.w1 = keys[order], w0[order], w1[order]
        self.length = np.array([len(s) for s in strings], dtype=np.int64)[order]
        self.values = np.array(values, dtype=np.int64)[order]
        # For the compiled parser's lookup (`_find`): each string's (key, words, length, value) as one row, and an
        # open-addressing table of rows by key. Only the first string of each key is in the table: `find` (the
        # leftmost key) finds no other. (One array each: numba counts references to every array it unpacks.)
        self.entries = np.stack(
            [self.keys, self.w0, self.w1, self.length.astype(np.uint64), self.values.astype(np.uint64)],
            axis=1,
        )
        self.slots = np.full(max(16, 1 << int(4 * len(keys)).bit_length()), -1, dtype=np.int64)
        for at in range(len(self.keys)):
            if at == 0 or self.keys[at] != self.keys[at - 1]:
                h = _slot(self.keys[at], len(self.slots))
                while self.slots[h] >= 0:
                    h = (h + 1) % len(self.slots)
                self.slots[h] = at

    def find(
        self, w0: npt.NDArray[np.uint64], w1: npt.NDArray[np.uint64], length: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Return the value of each string (by words and length), -1 if it is not in the vocabulary."""
        at = np.minimum(np.searchsorted(self.keys, _key(w0, w1)), len(self.keys) - 1)
        found = (self.w0[at] == w0) & (self.w1[at] == w1) & (self.length[at] == length)
        return np.where(found, self.values[at], -1)


def _slot(key: np.uint64, size: int) -> int:
    with np.errstate(over="ignore"):
        return int((key * _SPREAD) >> np.uint64(32)) & (size - 1)


def _key(w0: npt.NDArray[np.uint64], w1: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        key: npt.NDArray[np.uint64] = w0 ^ (w1 * _MIX)
    return key


class StoredDecoder:
    """Decodes stored genotype text to the code columns of one `Encoder` (see the module docstring)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.untyped = encoder.untyped
        markers = list(encoder.markers)
        loci = [encoder.encoding.loci[m].locus for m in markers]
        usable = [_canonical_marker(m, MarkerKind.AUTOSOMAL) for m in markers]
        names = [m.encode() for m, u in zip(markers, usable, strict=True) if u and len(m.encode()) <= 16]
        ids = [i for i, (m, u) in enumerate(zip(markers, usable, strict=True)) if u and len(m.encode()) <= 16]
        self.amelogenin_id = len(markers)
        if _canonical_marker(AMELOGENIN, MarkerKind.SEX):
            names.append(AMELOGENIN.encode())
            ids.append(self.amelogenin_id)
        self.names = _Vocabulary(names, ids)
        # Alleles: one vocabulary over every locus (and X, Y); per marker, the locus's index of each (or -1).
        alleles: dict[str, int] = {}
        for locus in loci:
            for a in locus.alleles:
                if len(a.encode()) <= 8 and _is_canonical(a):
                    alleles.setdefault(a, len(alleles))
        for a in ("X", "Y"):
            alleles.setdefault(a, len(alleles))
        self.alleles = _Vocabulary([a.encode() for a in alleles], list(alleles.values()))
        self.local = np.full((len(markers) + 1, len(alleles)), -1, dtype=np.int64)
        for row, locus in enumerate(loci):
            for i, a in enumerate(locus.alleles):
                if a in alleles and _is_canonical(a):
                    self.local[row, alleles[a]] = i
        self.local[self.amelogenin_id, alleles["X"]] = 0
        self.local[self.amelogenin_id, alleles["Y"]] = 1
        # Each marker's code of every allele pair, from the encoder itself (whatever its numbering or dtype).
        self.width = np.array([len(locus.alleles) for locus in loci], dtype=np.int64)
        self.base = np.concatenate([[0], np.cumsum(self.width**2)[:-1]]).astype(np.int64)
        self.pair_codes = np.empty(int((self.width**2).sum()), dtype=self.untyped.dtype)
        pairs = [
            [(i, j) for i in range(len(locus.alleles)) for j in range(len(locus.alleles))] for locus in loci
        ]
        profiles = [
            Profile({
                m: _sorted(locus.alleles[p[k][0]], locus.alleles[p[k][1]])
                for m, locus, p in zip(markers, loci, pairs, strict=True) if k < len(p)
            })
            for k in range(max((len(p) for p in pairs), default=0))
        ]  # fmt: skip
        columns, _ = encoder.encode_many(profiles)
        for row, p in enumerate(pairs):
            self.pair_codes[self.base[row] : self.base[row] + len(p)] = columns[row, : len(p)]

    def decode(self, text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> Decoded:
        """Decode the profiles laid end to end in `text`, profile i at text[offsets[i]:offsets[i + 1]] (offsets[0]
        is 0), with the compiled parser when numba is available: the same `Decoded` as `_decode_numpy`."""
        if not HAVE_NUMBA:  # pragma: no cover
            return self._decode_numpy(text, offsets)
        n = len(offsets) - 1
        codes: Codes = np.repeat(self.untyped[:, None], n, axis=1)
        ok = np.zeros(n, dtype=bool)
        amelogenin = np.full(n, -1, dtype=np.int8)
        if n == 0:
            return Decoded(codes, ok, amelogenin)
        _decode_jit(
            np.ascontiguousarray(text, dtype=np.uint8), np.ascontiguousarray(offsets, dtype=np.int64),
            self.names.entries, self.names.slots, self.alleles.entries, self.alleles.slots, self.local, self.base, self.width, self.pair_codes,
            self.amelogenin_id, codes, ok, amelogenin,
        )  # fmt: skip
        return Decoded(codes, ok, amelogenin)

    def _decode_numpy(self, text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> Decoded:
        """`decode` with numpy arrays over every token: the reference of the compiled parser."""
        n = len(offsets) - 1
        codes: Codes = np.repeat(self.untyped[:, None], n, axis=1)
        ok = np.zeros(n, dtype=bool)
        amelogenin = np.full(n, -1, dtype=np.int8)
        size = int(offsets[-1]) if n else 0
        if n == 0 or size == 0:
            return Decoded(codes, ok, amelogenin)
        starts, ends = offsets[:-1], offsets[1:]
        padded = np.zeros(size + 32, dtype=np.uint8)
        padded[:size] = text[:size]
        positions = np.flatnonzero(padded[:size] == _QUOTE)
        counts = np.searchsorted(positions, ends) - np.searchsorted(positions, starts)
        even = counts % 2 == 0
        if not even.all():
            positions = positions[np.repeat(even, counts)]
            counts[~even] = 0
        ok = counts > 0
        tokens = counts // 2
        opens, closes = positions[0::2], positions[1::2]
        if not len(opens):
            return Decoded(codes, ok, amelogenin)
        row = np.repeat(np.arange(n), tokens)
        first = (np.cumsum(tokens) - tokens)[ok]
        is_first = np.zeros(len(opens), dtype=bool)
        is_last = np.zeros(len(opens), dtype=bool)
        is_first[first] = True
        is_last[first + tokens[ok] - 1] = True
        length = closes - opens - 1
        after1, after2 = padded[closes + 1], padded[closes + 2]
        gap = np.append(opens[1:], 0) - closes
        colon = ~is_last & (after1 == _COLON) & (after2 == _OPEN) & (gap == 3)
        comma = ~is_last & (after1 == _COMMA) & (gap == 2)
        nxt = ~is_last & (after1 == _CLOSE) & (after2 == _COMMA) & (gap == 3)
        end = is_last & (after1 == _CLOSE) & (after2 == _RBRACE) & (closes + 3 == ends[row])
        begins = ~is_first | ((opens == starts[row] + 1) & (padded[starts[row]] == _LBRACE))
        is_name = is_first | np.concatenate([[False], nxt[:-1]])
        good = begins & np.where(is_name, colon & (length <= 16), (comma | nxt | end) & (length <= 8))
        # Token bytes as two little-endian words (an unaligned 8-byte window at every position of the text).
        window = np.ndarray(shape=(size + 16,), dtype="<u8", buffer=padded, strides=(1,))
        w0 = window[opens + 1] & _MASKS[np.clip(length, 0, 8)]
        names = np.flatnonzero(is_name)
        values = np.flatnonzero(~is_name)
        nl = length[names]
        w1 = np.where(nl > 8, window[opens[names] + 9] & _MASKS[np.clip(nl - 8, 0, 8)], np.uint64(0))
        marker = np.full(len(opens), -1, dtype=np.int64)
        allele = np.full(len(opens), -1, dtype=np.int64)
        marker[names] = self.names.find(w0[names], w1, nl)
        allele[values] = self.alleles.find(w0[values], np.zeros(len(values), np.uint64), length[values])
        good &= np.where(is_name, marker >= 0, allele >= 0)
        ok[row[~good]] = False
        # Pieces: a name and the alleles after it.
        piece = np.cumsum(is_name) - 1
        n_alleles = np.bincount(piece[values], minlength=len(names))
        m = marker[names]
        prow = row[names]
        amel = m == self.amelogenin_id
        two = n_alleles == 2
        last = len(opens) - 1
        a_tok = np.minimum(names + 1, last)
        b_tok = np.where(two, np.minimum(names + 2, last), a_tok)
        known = m >= 0
        mm = np.maximum(m, 0)
        local_a = self.local[mm, np.maximum(allele[a_tok], 0)]
        local_b = self.local[mm, np.maximum(allele[b_tok], 0)]
        fits = (
            known & np.where(amel, (n_alleles >= 1) & (n_alleles <= 2), two) & (local_a >= 0) & (local_b >= 0)
        )
        ok[prow[~fits]] = False
        # No marker twice, and at least one STR.
        kinds = self.amelogenin_id + 1
        per_row = np.bincount(prow[known] * kinds + m[known], minlength=n * kinds).reshape(n, kinds)
        ok &= (per_row <= 1).all(axis=1) & (per_row[:, : self.amelogenin_id].sum(axis=1) > 0)
        take = ok[prow] & ~amel
        sm, sa, sb = m[take], local_a[take], local_b[take]
        codes[sm, prow[take]] = self.pair_codes[self.base[sm] + sa * self.width[sm] + sb]
        am = ok[prow] & amel
        ids = np.where(n_alleles[am] == 1, local_a[am], 2 + local_a[am] + local_b[am])
        amelogenin[prow[am]] = ids
        return Decoded(codes, ok, amelogenin)


# --- The compiled parser ------------------------------------------------------------------------------------------


def _find(entries: Any, slots: Any, w0: Any, w1: Any, length: Any) -> Any:  # pragma: no cover - jitted
    """`_Vocabulary.find` of one string, by its key's slot in the hash table (`_Vocabulary.slots`)."""
    key = w0 ^ (w1 * _MIX)
    mask = np.uint64(slots.shape[0] - 1)
    h = ((key * _SPREAD) >> np.uint64(32)) & mask
    while True:
        at = slots[h]
        if at < 0:
            return -1
        if entries[at, 0] == key:
            if entries[at, 1] == w0 and entries[at, 2] == w1 and entries[at, 3] == length:
                return np.int64(entries[at, 4])
            return -1
        h = (h + np.uint64(1)) & mask


def _token(text: Any, at: int, end: int) -> tuple[int, Any, Any]:  # pragma: no cover - jitted
    """Return the closing quote of the string opened at `at` (`end` if none before it) and its first 16 bytes as
    two little-endian words."""
    w0 = np.uint64(0)
    w1 = np.uint64(0)
    q = at + 1
    while q < end and text[q] != _QUOTE:
        k = q - at - 1
        if k < 8:
            w0 |= np.uint64(text[q]) << np.uint64(8 * k)
        elif k < 16:
            w1 |= np.uint64(text[q]) << np.uint64(8 * (k - 8))
        q += 1
    return q, w0, w1


def _decode_one(
    text: Any,
    start: int,
    end: int,
    names: Any,
    name_slots: Any,
    alleles: Any,
    allele_slots: Any,
    local: Any,
    amelogenin_id: int,
    seen: Any,
    row: int,
    pieces: Any,
    pairs: Any,
) -> tuple[int, int]:  # pragma: no cover - jitted
    """Parse one profile's text; return (number of STR pieces, Amelogenin index or -1), or (-1, -1) if declined.

    Accepts exactly `{` + `"marker":["allele",...]` pieces joined by `,` + `}` with the rules of the module
    docstring; the STR pieces' markers go to `pieces`, their local allele indices to `pairs`."""
    if end - start < 2 or text[start] != _LBRACE:
        return -1, -1
    p = start + 1
    n_pieces = 0
    amel = -1
    while True:  # one piece: "marker":["allele",...]
        if p >= end or text[p] != _QUOTE:
            return -1, -1
        q, w0, w1 = _token_jit(text, p, end)
        length = q - p - 1
        if q + 3 >= end or length > 16:
            return -1, -1
        m = _find_jit(names, name_slots, w0, w1, np.uint64(length))
        if m < 0 or seen[m] == row or text[q + 1] != _COLON or text[q + 2] != _OPEN or text[q + 3] != _QUOTE:
            return -1, -1
        seen[m] = row
        p = q + 3
        count = 0
        first = -1
        second = -1
        while True:  # its alleles
            q, w0, w1 = _token_jit(text, p, end)
            length = q - p - 1
            if q + 2 >= end or length > 8 or count == 2:
                return -1, -1
            a = _find_jit(alleles, allele_slots, w0, w1, np.uint64(length))
            if a < 0:
                return -1, -1
            here = local[m, a]
            if here < 0:
                return -1, -1
            if count == 0:
                first = here
            else:
                second = here
            count += 1
            if text[q + 1] == _COMMA and text[q + 2] == _QUOTE:
                p = q + 2
                continue
            if text[q + 1] != _CLOSE:
                return -1, -1
            break
        if m == amelogenin_id:
            amel = first if count == 1 else 2 + first + second
        elif count == 2:
            pieces[n_pieces] = m
            pairs[n_pieces, 0] = first
            pairs[n_pieces, 1] = second
            n_pieces += 1
        else:
            return -1, -1
        if text[q + 2] == _RBRACE and q + 3 == end:
            break
        if text[q + 2] != _COMMA or q + 3 >= end:
            return -1, -1
        p = q + 3
    if n_pieces == 0:
        return -1, -1
    return n_pieces, amel


def _decode_kernel(
    text: Any,
    offsets: Any,
    names: Any,
    name_slots: Any,
    alleles: Any,
    allele_slots: Any,
    local: Any,
    base: Any,
    width: Any,
    pair_codes: Any,
    amelogenin_id: int,
    codes: Any,
    ok: Any,
    amelogenin: Any,
) -> None:  # pragma: no cover - jitted
    """Decode every profile (one pass over its bytes), writing the codes, ok and Amelogenin of the accepted ones."""
    seen = np.full(amelogenin_id + 1, -1, dtype=np.int64)
    pieces = np.empty(amelogenin_id + 1, dtype=np.int64)
    pairs = np.empty((amelogenin_id + 1, 2), dtype=np.int64)
    for row in range(offsets.shape[0] - 1):
        n_pieces, amel = _decode_one_jit(
            text,
            offsets[row],
            offsets[row + 1],
            names,
            name_slots,
            alleles,
            allele_slots,
            local,
            amelogenin_id,
            seen,
            row,
            pieces,
            pairs,
        )
        if n_pieces <= 0:
            continue
        for k in range(n_pieces):
            m = pieces[k]
            codes[m, row] = pair_codes[base[m] + pairs[k, 0] * width[m] + pairs[k, 1]]
        ok[row] = True
        amelogenin[row] = amel


if HAVE_NUMBA:
    _find_jit = numba.njit(cache=True, nogil=True, inline="always")(_find)
    _token_jit = numba.njit(cache=True, nogil=True, inline="always")(_token)
    _decode_one_jit = numba.njit(cache=True, nogil=True, inline="always")(_decode_one)
    _decode_jit = numba.njit(cache=True, nogil=True)(_decode_kernel)


def _canonical_marker(name: str, kind: MarkerKind) -> bool:
    try:
        marker = normalise_marker(name)
    except ProfileError:
        return False
    return marker.name == name and marker.kind is kind


def _is_canonical(allele: str) -> bool:
    try:
        return canonical_allele(allele) == allele and '"' not in allele and "\\" not in allele
    except ValueError:
        return False


def _sorted(first: str, second: str) -> tuple[str, str]:
    low, high = sorted((first, second), key=allele_sort_key)
    return (low, high)
