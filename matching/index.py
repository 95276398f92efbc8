"""Compact storage of typed profiles for the matching service: genotype codes in growable column pools.

A `Pool` holds columns of genotype codes (`matching.batch` codes, marker-major, one byte a marker where the locus
allows it: `matching.fast.Planes`), one or two code arrays wide (a couple is two), with an owner per column and a validity mask. A removed column is reset to `untyped`
(it then scores log10 LR 0 and shares no marker), masked out, and its slot goes on a free list that the next add
reuses, so add and remove are O(1) amortised and the arrays never need compaction. The scans read
`pool.codes(k)` (the columns up to the high-water mark) and drop invalid columns afterwards.

`Encoder` turns a Profile into one code column with a dictionary per marker (fast enough to load millions of
profiles) and back; a genotype whose allele the table lacks is left untyped in the codes (the profile is then
kept whole so that the exact per-pair recomputation, which imputes the allele, still sees it).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.batch import CODE_DTYPE, GenotypeEncoding
from matching.fast import Codes, Planes, compiled, pack, packing, pick
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
        """Return the code columns of many profiles (markers, n) and which of them are odd (as `encode`).

        One list of codes per profile from per-marker dictionaries (measured faster than marker-by-marker
        iterators over the profiles: the cost is the genotype hashing either way), then one array.
        """
        spec = list(zip(self.markers, self._lut, self.untyped.tolist(), strict=True))
        genotypes = [p.genotypes for p in profiles]
        rows = [[lut.get(g.get(m), u) for m, lut, u in spec] for g in genotypes]  # type: ignore[arg-type]
        codes: Codes = np.array(rows, dtype=CODE_DTYPE).reshape(len(profiles), len(self.markers)).T
        typed = (codes != self.untyped[:, None]).sum(axis=0)
        lengths = np.fromiter((len(g) for g in genotypes), dtype=np.int64, count=len(profiles))
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
    """Columns of genotype codes (`width` code arrays) with owners, a validity mask and a free list.

    Codes are kept as planes (`matching.fast.Planes`): one byte per marker whose codes, untyped included, fit in a
    byte (a locus of at most 22 alleles), two for a larger locus (27 bytes a profile for the shipped table instead
    of 46); `narrow=False` keeps every marker in two bytes (the layout of before, for comparisons). Owners are
    int32 person slots unless `owner_dtype` says otherwise. `add`, `add_block` and `column` take and give plain
    codes (`Encoder` columns); `codes` gives the planes the scans read.
    """

    def __init__(
        self,
        untyped: Codes,
        width: int = 1,
        owner_dtype: type[np.signedinteger[Any]] = np.int32,
        *,
        narrow: bool = True,
    ) -> None:
        self.untyped = untyped
        self.width = width
        if narrow:
            self.where, n_narrow, n_wide = packing(untyped)
        else:
            self.where, n_narrow, n_wide = np.arange(len(untyped), dtype=np.int64), len(untyped), 0
        self.dtype: type[np.unsignedinteger[Any]] = np.uint8 if narrow else CODE_DTYPE
        self._blank = self._store(untyped[:, None])  # an untyped column, as stored
        self._narrow: list[Any] = [np.empty((n_narrow, 0), dtype=self.dtype) for _ in range(width)]
        self._wide: list[Any] = [np.empty((n_wide, 0), dtype=CODE_DTYPE) for _ in range(width)]
        self.owner: npt.NDArray[Any] = np.empty((width, 0), dtype=owner_dtype)
        self.valid: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.size = 0
        self.free: list[int] = []

    def _store(self, codes: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """Return plain codes (markers, n) in the stored layout: the narrow and the wide rows."""
        return pack(codes, self.where, self.dtype)

    def __len__(self) -> int:
        return self.size - len(self.free)

    @property
    def capacity(self) -> int:
        return int(self.valid.shape[0])

    @property
    def bytes_per_column(self) -> int:
        """The bytes of one column of one code array."""
        return int(self._blank[0].nbytes + self._blank[1].nbytes)

    @property
    def nbytes(self) -> int:
        codes = sum(a.nbytes for a in (*self._narrow, *self._wide))
        return int(codes + self.owner.nbytes + self.valid.nbytes)

    def codes(self, k: int = 0) -> Planes:
        """Return the k-th code array up to the high-water mark, (markers, size) as planes: what the scans read."""
        return Planes(self._narrow[k][:, : self.size], self._wide[k][:, : self.size], self.where)

    def column(self, slot: int, k: int = 0) -> Codes:
        """Return one column of the k-th code array (a copy, plain CODE_DTYPE codes)."""
        return self.codes(k)[:, slot : slot + 1].full()[:, 0]

    def _resize(self, new: int) -> None:
        for arrays, blank in ((self._narrow, self._blank[0]), (self._wide, self._blank[1])):
            for k, codes in enumerate(arrays):
                bigger = np.empty((codes.shape[0], new), dtype=codes.dtype)
                keep = min(self.size, new)
                bigger[:, :keep] = codes[:, :keep]
                bigger[:, keep:] = blank
                arrays[k] = bigger
        owner = np.full((self.width, new), -1, dtype=self.owner.dtype)
        owner[:, : self.size] = self.owner[:, : self.size]
        self.owner = owner
        valid = np.zeros(new, dtype=bool)
        valid[: self.size] = self.valid[: self.size]
        self.valid = valid

    def _reserve(self, n: int) -> None:
        if self.size + n > self.capacity:
            self._resize(max(1024, 2 * self.capacity, self.size + n))

    def trim(self) -> None:
        """Give back the capacity beyond the high-water mark (after a bulk build)."""
        if self.capacity > self.size:
            self._resize(self.size)

    def _put(self, k: int, at: slice | int, codes: npt.NDArray[Any]) -> None:
        narrow, wide = self._store(codes)
        if isinstance(at, int):
            narrow, wide = narrow[:, 0], wide[:, 0]
        self._narrow[k][:, at] = narrow
        self._wide[k][:, at] = wide

    def add(self, columns: tuple[Codes, ...], owners: tuple[int, ...]) -> int:
        """Store one column per code array (plain codes), owned by `owners` (e.g. the person slots); return its
        slot."""
        if self.free:
            slot = self.free.pop()
        else:
            self._reserve(1)
            slot = self.size
            self.size += 1
        for k in range(self.width):
            self._put(k, slot, np.asarray(columns[k])[:, None])
            self.owner[k, slot] = owners[k]
        self.valid[slot] = True
        return slot

    def add_block(self, columns: tuple[Codes, ...], owners: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Append many columns at once (columns[k] plain codes of shape (markers, n), owners (width, n)); return
        their slots."""
        n = owners.shape[1]
        self._reserve(n)
        start = self.size
        for k in range(self.width):
            self._put(k, slice(start, start + n), columns[k])
        self.owner[:, start : start + n] = owners
        self.valid[start : start + n] = True
        self.size += n
        return np.arange(start, start + n, dtype=np.int64)

    def remove(self, slot: int) -> None:
        """Invalidate a slot: its codes become untyped and the slot is reused by a later add."""
        if not self.valid[slot]:
            return
        for k in range(self.width):
            self._put(k, slot, self.untyped[:, None])
        self.owner[:, slot] = -1
        self.valid[slot] = False
        self.free.append(slot)


_INT32_MIN, _INT32_MAX = int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max)
_HEX_ID = re.compile(r"[0-9a-f]{32}")  # the labs' profile ids: `secrets.token_hex(16)`
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE = np.full(256, -1, dtype=np.int16)
_NIBBLE[_HEX_DIGITS] = np.arange(16)


def pack_hex(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Return UTF-8 ids (numpy "S") as 16 raw bytes each ("S16") where an id is 32 lowercase hex characters, and
    which ids are (the others' raw bytes are empty)."""
    n, width = len(keys), keys.dtype.itemsize
    if n == 0 or width < 32:
        return np.zeros(n, dtype="S16"), np.zeros(n, dtype=bool)
    chars = np.ascontiguousarray(keys).view(np.uint8).reshape(n, width)
    nibbles = _NIBBLE[chars[:, :32]]
    ok = np.logical_and((nibbles >= 0).all(axis=1), ~chars[:, 32:].any(axis=1))
    raw = (nibbles[:, 0::2] << 4 | nibbles[:, 1::2]).astype(np.uint8)
    raw[~ok] = 0
    return raw.view("S16").reshape(n), ok


def unpack_hex(raw: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return 16-byte raw ids ("S16") as their 32 lowercase hex characters ("S32"), the inverse of `pack_hex`."""
    n = len(raw)
    octets = np.ascontiguousarray(raw.astype("S16")).view(np.uint8).reshape(n, 16)
    chars = np.empty((n, 32), dtype=np.uint8)
    chars[:, 0::2] = _HEX_DIGITS[octets >> 4]
    chars[:, 1::2] = _HEX_DIGITS[octets & 15]
    return chars.view("S32").reshape(n)


class KeyMap:
    """Unique keys (profile ids) -> int32 slots without a Python object per key.

    The keys sit in one numpy array by slot (`bytes` of the UTF-8 ids, fixed width, or int32 while every integer
    key fits, else int64; a slot that holds no key holds b"" or 0), with `order`, the slots of the merged keys in
    key order (int32): a key is found by a binary search through `order`, a slot's key is read directly. A small
    dict holds the keys added one by one since the last merge, merged in when it grows past `MERGE` (one O(n)
    insert, amortised). A removed key's slot stays in `order` until the next merge, listed in `dead` (merged when
    it grows past `MERGE` too). About (width + 4) bytes per key instead of about 150 for a dict of str -> int
    (the layout of before, a sorted key array with its slots and the inverse slot -> position, took width + 8).

    Text keys are packed while every key is 32 lowercase hex characters (the database's profile ids,
    `secrets.token_hex(16)`): the array then holds their 16 raw bytes ("S16": numpy drops trailing NUL bytes of
    an item, so a key is its raw bytes without them, padded back to 16 when read) and the dict the same keys.
    Hex order is raw byte order, so `order` stays valid. The first other key (one by one or in a block) unpacks
    the map to the UTF-8 layout for good. Keys come in and go out as before (str, or UTF-8 bytes from
    `encode_many`): the packing is the map's own.
    """

    MERGE = 4096

    def __init__(self, kind: type[str] | type[int]) -> None:
        self.text = kind is str
        self.packed = self.text  # every text key so far is 32 lowercase hex characters, stored as 16 bytes
        self.keys: npt.NDArray[Any] = np.empty(0, dtype="S1" if self.text else np.int32)  # by slot
        self.order: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)  # merged keys' slots, in key order
        self.dead: set[int] = set()  # slots in `order` whose key was removed since the last merge
        self.recent: dict[Any, int] = {}
        self.recent_key: dict[int, Any] = {}

    def _key(self, key: Any) -> Any:
        """Return a key as the map stores it; None for a text key a packed map cannot hold (so does not hold)."""
        if not self.text:
            return int(key)
        text = str(key)
        if self.packed:
            return bytes.fromhex(text).rstrip(b"\0") if _HEX_ID.fullmatch(text) else None
        return text.encode()

    def _unpack(self) -> None:
        """Go over to the UTF-8 layout (a key that is not 32 lowercase hex characters is coming)."""
        self.keys = unpack_hex(self.keys) if len(self.keys) else np.empty(0, dtype="S1")
        utf8 = {k: bytes(k).ljust(16, b"\0").hex().encode() for k in self.recent}
        self.recent = {utf8[k]: slot for k, slot in self.recent.items()}
        self.recent_key = {slot: utf8[k] for slot, k in self.recent_key.items()}
        self.packed = False

    def _find(self, key: Any) -> int:
        """Return the slot of a merged key still in the map, or -1 (a binary search through `order`)."""
        keys, order = self.keys, self.order
        if not self.text and keys.dtype == np.int32 and not _INT32_MIN <= key <= _INT32_MAX:
            return -1  # beyond every key of a 32-bit map
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[order[mid]] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(order):
            slot = int(order[lo])
            if keys[slot] == key and slot not in self.dead:
                return slot
        return -1

    def __len__(self) -> int:
        return len(self.order) - len(self.dead) + len(self.recent)

    def get(self, key: Any) -> int | None:
        k = self._key(key)
        if k is None:
            return None
        slot = self.recent.get(k)
        if slot is not None:
            return slot
        slot = self._find(k)
        return slot if slot >= 0 else None

    def key_of(self, slot: int) -> Any:
        k = self.recent_key.get(slot)
        if k is None:
            k = self.keys[slot]
        if self.packed:
            return bytes(k).ljust(16, b"\0").hex()
        return k.decode() if self.text else int(k)

    def put(self, key: Any, slot: int) -> None:
        """Map a key that is not in the map to a slot (a new slot, or one whose key was removed)."""
        k = self._key(key)
        if k is None:
            self._unpack()
            k = self._key(key)
        self.recent[k] = slot
        self.recent_key[slot] = k
        if len(self.recent) > self.MERGE:
            self.merge()

    def pop(self, key: Any) -> None:
        k = self._key(key)
        if k is None:
            return
        slot = self.recent.pop(k, None)
        if slot is not None:
            del self.recent_key[slot]
            return
        slot = self._find(k)
        if slot >= 0:
            self.dead.add(slot)
            if len(self.dead) > self.MERGE:
                self.merge()

    def contains_many(self, keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """Return which of many keys (as `encode_many` gives them) are in the map."""
        hex_ok: npt.NDArray[np.bool_] | None = None
        if self.packed:
            keys, hex_ok = pack_hex(keys)
        out = np.zeros(len(keys), dtype=bool)
        if len(self.order):
            order = self.order  # (numpy's `searchsorted(sorter=...)` needs a permutation of every slot)
            slots = order[np.minimum(np.searchsorted(self.keys[order], keys), len(order) - 1)]
            out = self.keys[slots] == keys
            if self.dead:
                out &= ~np.isin(slots, np.fromiter(self.dead, dtype=np.int32, count=len(self.dead)))
        if self.recent:
            out |= np.fromiter((k in self.recent for k in keys.tolist()), dtype=bool, count=len(keys))
        return out if hex_ok is None else out & hex_ok

    def encode_many(self, keys: list[Any]) -> npt.NDArray[Any]:
        """Return many keys as an array of the map's key type (UTF-8 bytes for text: what blocks carry)."""
        if self.text:
            return np.array([k.encode() for k in keys], dtype=bytes) if keys else np.empty(0, "S1")
        return np.array(keys, dtype=np.int64)

    def put_many(self, keys: npt.NDArray[Any], slots: npt.NDArray[Any]) -> None:
        """Map many keys (as `encode_many` gives them; unique, none in the map) to slots (new ones, or slots whose
        keys were removed), merging them into the arrays."""
        if self.packed:
            raw, ok = pack_hex(keys)
            if ok.all():
                keys = raw
            else:
                self._unpack()
        self._insert(keys, slots.astype(np.int32))

    def merge(self) -> None:
        """Merge the recent keys into the arrays and drop removed keys from `order`."""
        if self.recent or self.dead:
            kind = ("S16" if self.packed else bytes) if self.text else np.int64
            keys = np.array(list(self.recent), dtype=kind) if self.recent else self.keys[:0]
            slots = np.fromiter(self.recent.values(), dtype=np.int32, count=len(self.recent))
            self.recent.clear()
            self.recent_key.clear()
            self._insert(keys, slots)

    def _insert(self, keys: npt.NDArray[Any], slots: npt.NDArray[np.int32]) -> None:
        order = self.order
        if self.dead:  # first, so that a removed key's slot can take its new key below
            dead = np.fromiter(self.dead, dtype=np.int32, count=len(self.dead))
            order = order[~np.isin(order, dead)]
            self.dead.clear()
        current = self.keys
        if self.text and keys.dtype.itemsize > current.dtype.itemsize:
            current = current.astype(keys.dtype)
        elif self.text:
            keys = keys.astype(current.dtype)
        else:  # 32-bit while every key fits (the database's ids), 64-bit for good from the first that does not
            beyond = len(keys) and (int(keys.min()) < _INT32_MIN or int(keys.max()) > _INT32_MAX)
            wide = np.int64 if beyond or current.dtype == np.int64 else np.int32
            current, keys = current.astype(wide, copy=False), keys.astype(wide, copy=False)
        size = int(slots.max()) + 1 if len(slots) else 0
        if size > len(current):
            bigger = np.zeros(size, dtype=current.dtype)
            bigger[: len(current)] = current
            current = bigger
        by_key = np.argsort(keys, kind="stable")
        keys, slots = keys[by_key], slots[by_key]
        at = np.searchsorted(current[order], keys)
        current[slots] = keys
        self.keys = current
        self.order = np.insert(order, at, slots)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.order.nbytes)


def _identity_kernel(
    column: Any, untyped: Any, narrow: Any, wide: Any, where: Any, shared: Any, mismatch: Any
) -> None:
    n = narrow.shape[1]
    for c in numba.prange(n):
        count = 0
        bad = False
        for row in range(column.shape[0]):
            a = column[row]
            if a == untyped[row]:
                continue
            w = where[
                row
            ]  # the marker's row in the narrow codes, or ~row in the wide (`matching.fast.Planes`)
            b = np.int64(narrow[w, c]) if w >= 0 else np.int64(wide[~w, c])
            if b == untyped[row]:
                continue
            if a != b:
                bad = True
                break
            count += 1
        shared[c] = count
        mismatch[c] = bad


if HAVE_NUMBA:
    _identity_jit = compiled(_identity_kernel)


def identical_columns(
    column: Codes, untyped: Codes, codes: Codes | Planes, *, use_numba: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return, per column of `codes` (plain or planes), the markers typed in both it and `column`, and whether any
    of them differs."""
    planes = Planes.of(codes)
    if not (use_numba and HAVE_NUMBA):
        rows = np.flatnonzero(column != untyped)
        sub = planes.full()[rows]
        both = sub != untyped[rows, None]
        shared = both.sum(axis=0).astype(np.int64)
        mismatch = np.any(both & (sub != column[rows, None]), axis=0)
        return shared, mismatch
    n = planes.shape[1]
    shared_out = np.empty(n, dtype=np.int64)
    mismatch_out = np.empty(n, dtype=bool)
    kernel = pick(_identity_jit, n)
    kernel(column, untyped, planes.narrow, planes.wide, planes.where, shared_out, mismatch_out)
    return shared_out, mismatch_out
