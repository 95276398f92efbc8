"""The index's storage: every current typed profile as compact code arrays, by person slot, in unit pools.

All profiles sit in one person pool (for identity); children, couples (`trio_couple`), single parents (`duo`)
and relatives (one pool per pairwise relationship) also sit in pools of their own, rebuilt per case when a
member arrives, is replaced or leaves (`matching.search.units`), so that each scan reads one contiguous array.

No Python object is kept per profile: a person slot's profile id is found through a `KeyMap` (numpy arrays by
slot and in key order), its person id, case id, side and role are numpy arrays (int32, int8 codes), a unit's
members are the int32 owner slots of its pool, and a case's members and units, or a person's slot, are found by
a vectorised scan of those arrays (a few milliseconds at a million cases, only when a case changes). Only a profile with something the
codes cannot hold (a marker or allele the table lacks) is kept whole, for the exact per-pair recomputation.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.fast import Codes
from matching.frequencies import FrequencyTable
from matching.index import Encoder, KeyMap, Pool
from matching.profiles import Profile
from matching.search.block import Block
from matching.search.entry import Entry, Side
from matching.search.results import Flag
from matching.search.settings import SearchSettings
from matching.search.sex import sex_conflict
from matching.search.units import (
    KINDS,
    LOOSE,
    SIDE_CODE,
    SIDES,
    block_units,
    home,
    home_kind,
    units_of,
)


class IndexStore:
    """Typed profiles by person slot: add, replace, remove, and read back (see the module docstring)."""

    def __init__(self, table: FrequencyTable, settings: SearchSettings | None = None) -> None:
        self.table = table
        self.settings = settings or SearchSettings()
        self.encoder = Encoder(table)
        untyped = self.encoder.untyped
        # The person pool holds no codes (zero markers): each profile's codes live once, in its unit's pool (the
        # first unit, if several) or in the loose pool; `home` says where.
        self.persons = Pool(untyped[:0], width=0)  # slots and validity only (no codes, no owner)
        self.loose = Pool(untyped)
        # Per person slot, 32-bit: case ids are the database's (32-bit) ids (`_check_case_ids`); a home code is
        # column * 16 + ..., so pools of up to 134 million columns.
        self._home: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self.pools: dict[str, Pool] = {
            kind: Pool(untyped, 2 if kind == "trio_couple" else 1) for kind in KINDS
        }
        self._case_ids: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self.sides: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self._roles: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self._role_names: list[str] = []
        self._role_code: dict[str, int] = {}
        self._pids = KeyMap(str)
        # Person ids by slot: int32 while every one fits (the database's ids), int64 for good from the first that
        # does not. A person's slot is found by a scan (`_person_slot`), as a case's members are.
        self._person_ids: npt.NDArray[np.signedinteger[Any]] = np.empty(0, dtype=np.int32)
        # During a bulk add only: the person ids and case ids indexed, sorted (`_bulk`).
        self._people_sorted: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._cases_sorted: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._odd: dict[int, Profile] = {}

    # ---- per-slot bookkeeping ------------------------------------------------------------------------------

    def pid_of(self, slot: int) -> str:
        pid: str = self._pids.key_of(slot)
        return pid

    def person_of(self, slot: int) -> int:
        return int(self._person_ids[slot])

    def _person_slot(self, person_id: int) -> int | None:
        """Return the slot of a person's indexed profile, or None (a vectorised scan of the person ids)."""
        ids = self._person_ids
        if ids.dtype == np.int32 and not _INT32.min <= person_id <= _INT32.max:
            return None
        found = np.flatnonzero(ids[: self.persons.size] == person_id)
        live = found[self.persons.valid[found]]
        return int(live[0]) if len(live) else None

    def _set_person_ids(self, slots: npt.NDArray[np.int64], person_ids: npt.NDArray[np.int64]) -> None:
        """Set the person ids of slots, going over to 64 bits for good at the first id beyond 32."""
        wide = len(person_ids) and (int(person_ids.min()) < _INT32.min or int(person_ids.max()) > _INT32.max)
        if wide and self._person_ids.dtype == np.int32:
            self._person_ids = self._person_ids.astype(np.int64)
        self._person_ids[slots] = person_ids

    def case_of(self, slot: int) -> int:
        return int(self._case_ids[slot])

    def side_of(self, slot: int) -> Side:
        return SIDES[int(self.sides[slot])]

    def role_of(self, slot: int) -> str:
        return self._role_names[int(self._roles[slot])]

    def _role_codes(self, roles: list[str]) -> npt.NDArray[np.int8]:
        for role in set(roles).difference(self._role_code):
            self._role_code[role] = len(self._role_names)
            self._role_names.append(role)
        return np.fromiter(map(self._role_code.__getitem__, roles), dtype=np.int8, count=len(roles))

    def _grow(self) -> None:
        """Keep the per-slot arrays as long as the person pool's capacity."""
        capacity = self.persons.capacity
        if len(self._case_ids) < capacity:
            for name in _PER_SLOT:
                old = getattr(self, name)
                new = np.full(capacity, -1, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)

    def _set(self, slots: npt.NDArray[np.int64], entries: list[Entry]) -> None:
        self._grow()
        self._case_ids[slots] = [e.case_id for e in entries]
        self.sides[slots] = [SIDE_CODE[e.side] for e in entries]  # a StrEnum: the str value finds it too
        self._roles[slots] = self._role_codes([e.role for e in entries])
        self._set_person_ids(slots, np.array([e.person_id for e in entries], dtype=np.int64))

    def _home_pool(self, kind: int) -> Pool:
        return self.loose if kind == LOOSE else self.pools[KINDS[kind]]

    def column(self, slot: int) -> Codes:
        """Return a person's code column (a copy) from its home pool."""
        code = int(self._home[slot])
        return self._home_pool(home_kind(code)).column(code // 16, code % 2)

    def members(self, case_id: int) -> list[int]:
        """Return the person slots of a case (a vectorised scan of the case ids)."""
        found = np.flatnonzero(self._case_ids[: self.persons.size] == case_id)
        members: list[int] = found[self.persons.valid[found]].tolist()
        return members

    def units(self, case_id: int) -> list[tuple[str, int]]:
        """Return the (pool, column) units of a case."""
        units: list[tuple[str, int]] = []
        for kind, pool in self.pools.items():
            if not len(pool):
                continue
            n = pool.size
            cols = np.flatnonzero(pool.valid[:n] & (self._case_ids[pool.owner[0, :n]] == case_id))
            units += [(kind, c) for c in cols.tolist()]
        return units

    def child_slots(self) -> list[int]:
        """Return the person slots of every indexed child, in slot order."""
        size = self.persons.size
        kids = self.persons.valid[:size] & (self.sides[:size] == SIDE_CODE[Side.CHILD])
        slots: list[int] = np.flatnonzero(kids).tolist()
        return slots

    def cases_with(self, side: Side) -> set[int]:
        """Return the ids of the cases with an indexed profile on `side` (one vectorised pass)."""
        size = self.persons.size
        mask = self.persons.valid[:size] & (self.sides[:size] == SIDE_CODE[side])
        cases: set[int] = set(self._case_ids[:size][mask].tolist())
        return cases

    def shard_slots(self, i: int, n: int) -> list[int]:
        """Return the slots of every profile but the families whose case id is not i modulo n (see `shard`)."""
        size = self.persons.size
        keep = self.persons.valid[:size] & (
            (self.sides[:size] != SIDE_CODE[Side.FAMILY]) | (self._case_ids[:size] % n == i)
        )
        slots: list[int] = np.flatnonzero(keep).tolist()
        return slots

    # ---- storage -------------------------------------------------------------------------------------------

    def add(self, entry: Entry) -> list[Flag]:
        """Add or replace an entry (same profile_id or person_id); a sex conflict is flagged and not added."""
        _check_case_ids(np.array([entry.case_id], dtype=np.int64))
        flag = sex_conflict(entry)
        if flag is not None:
            self.remove(entry.profile_id)
            return [flag]
        self.remove(entry.profile_id)
        same_person = self._person_slot(entry.person_id)
        if same_person is not None:
            self._remove_slot(same_person)
        column, odd = self.encoder.encode(entry.profile)
        slot = self.persons.add((), ())
        self._set(np.array([slot]), [entry])
        if odd:
            self._odd[slot] = entry.profile
        self._pids.put(entry.profile_id, slot)
        self._rebuild(entry.case_id, new=(slot, column))
        return []

    def add_many(self, entries: Iterable[Entry], chunk: int = 100_000) -> list[Flag]:
        """Add many entries (the start-up build), streaming: profiles of cases not yet indexed go in blocks of
        about `chunk` (cut where the case changes), encoded marker by marker; replacements, and members of a case
        already indexed, go one by one through `add` at the end (in their order). The arrays are trimmed to their
        size at the end.
        """
        return self._bulk(lambda later: self._add_entries(entries, chunk, later))

    def add_blocks(self, blocks: Iterable[Block]) -> None:
        """Add many entries given as columns (`Block`s, already checked against their recorded sex), as
        `add_many` adds the same entries cut into the same blocks: each block's rows of cases not yet indexed go
        in at once, the others one by one at the end (in their order)."""
        self._bulk(lambda later: self._add_blocks(blocks, later))

    def _bulk(self, add: Callable[[list[tuple[int, Entry]]], list[Flag]]) -> list[Flag]:
        """Run a bulk add, then the entries it left for `add`, then trim the arrays and merge the id maps.

        The cyclic garbage collector is paused meanwhile: the build creates many short-lived objects and no
        cycles, and the collector's repeated passes over them would take much of the build time.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            # The person and case ids indexed, sorted, kept while blocks go in: a block's rows are looked up at
            # once; a row of a case indexed already goes to `add` (the case member by member).
            size = self.persons.size
            live = self.persons.valid[:size]
            self._people_sorted = np.sort(self._person_ids[:size][live].astype(np.int64))
            self._cases_sorted = np.unique(self._case_ids[:size][live].astype(np.int64))
            later: list[tuple[int, Entry]] = []
            flags = add(later)
            self._forget_known()
            later.sort(key=lambda x: x[0])
            for _, entry in later:
                flags += self.add(entry)
            for pool in (self.persons, self.loose, *self.pools.values()):
                pool.trim()
            for name in _PER_SLOT:  # as long as the person pool, no longer
                setattr(self, name, getattr(self, name)[: self.persons.capacity].copy())
            self._pids.merge()
            return flags
        finally:
            self._forget_known()
            if enabled:
                gc.enable()

    def _forget_known(self) -> None:
        self._people_sorted = self._cases_sorted = np.empty(0, dtype=np.int64)

    def _add_entries(
        self, entries: Iterable[Entry], chunk: int, later: list[tuple[int, Entry]]
    ) -> list[Flag]:
        flags: list[Flag] = []
        fresh: list[tuple[int, Entry]] = []
        pids: set[str] = set()
        persons: set[int] = set()
        later_keys: set[object] = set()
        pending, last_case = 0, None
        for seq, entry in enumerate(entries):
            if pending >= chunk and entry.case_id != last_case:
                self._flush_entries(fresh, later)
                pids.clear()
                persons.clear()
                pending = 0
            if (
                entry.profile_id in pids
                or entry.person_id in persons
                or entry.profile_id in later_keys
                or ("person", entry.person_id) in later_keys
            ):
                later.append((seq, entry))
                later_keys.update((entry.profile_id, ("person", entry.person_id)))
            elif entry.sex != "unknown" and (flag := sex_conflict(entry)) is not None:
                flags.append(flag)
                continue
            else:
                pids.add(entry.profile_id)
                persons.add(entry.person_id)
                fresh.append((seq, entry))
            pending += 1
            last_case = entry.case_id
        self._flush_entries(fresh, later)
        return flags

    def _flush_entries(self, fresh: list[tuple[int, Entry]], later: list[tuple[int, Entry]]) -> None:
        if fresh:
            block = Block.of_entries([e for _, e in fresh], self.encoder)
            self._flush(block, np.array([s for s, _ in fresh], dtype=np.int64), lambda i: fresh[i][1], later)
        fresh.clear()

    def _add_blocks(self, blocks: Iterable[Block], later: list[tuple[int, Entry]]) -> list[Flag]:
        later_pids: set[bytes] = set()
        later_persons: set[int] = set()
        seq = 0
        for block in blocks:
            n = len(block)
            seqs = np.arange(seq, seq + n, dtype=np.int64)
            seq += n
            # A profile or person seen earlier in the block, or left for `add` before, goes to `add` too.
            again = _repeated(block.profile_ids) | _repeated(block.person_ids)
            if later_pids or later_persons:
                again |= np.isin(block.profile_ids, list(later_pids)) | np.isin(
                    block.person_ids, list(later_persons)
                )
            rows = np.flatnonzero(again)
            for i in rows.tolist():
                later.append((int(seqs[i]), block.entry(i, self.encoder)))
            later_pids.update(bytes(k) for k in block.profile_ids[rows])
            later_persons.update(block.person_ids[rows].tolist())
            if len(rows):
                keep = np.flatnonzero(~again)
                block, seqs = block.take(keep), seqs[keep]
            if len(block):
                self._flush(block, seqs, functools.partial(block.entry, encoder=self.encoder), later)
        return []

    def _flush(
        self, block: Block, seqs: npt.NDArray[np.int64], entry: Callable[[int], Entry],
        later: list[tuple[int, Entry]],
    ) -> None:  # fmt: skip
        """Add the rows of a block that touch nothing indexed as one block; the others go to `later`."""
        pid_keys, person_keys = block.profile_ids, block.person_ids
        case_ids = _check_case_ids(block.case_ids)
        clash = self._pids.contains_many(pid_keys) | _among(self._people_sorted, person_keys)
        clash |= _among(self._cases_sorted, case_ids)
        if clash.any():
            clash |= np.isin(case_ids, case_ids[clash])  # a case goes whole, or member by member
            later += [(int(seqs[i]), entry(i)) for i in np.flatnonzero(clash).tolist()]
            block = block.take(np.flatnonzero(~clash))
        if len(block):
            self._add_block(block)

    def _add_block(self, block: Block) -> npt.NDArray[np.int64]:
        """Append rows of cases not yet indexed, and their units, with a few numpy operations per pool; return
        their person slots."""
        codes, case_ids = block.codes, block.case_ids
        n = len(block)
        slots = self.persons.add_block((), np.zeros((0, n), dtype=np.int64))
        self._grow()
        self._case_ids[slots] = case_ids
        self.sides[slots] = block.sides
        self._roles[slots] = self._role_codes(list(block.role_names))[block.roles]
        self._pids.put_many(block.profile_ids, slots)
        self._set_person_ids(slots, block.person_ids)
        self._people_sorted = _inserted(self._people_sorted, block.person_ids)
        self._cases_sorted = _inserted(self._cases_sorted, np.unique(case_ids))
        for i, profile in block.odd.items():
            self._odd[int(slots[i])] = profile
        units = block_units(slots, self.sides[slots], self._roles[slots], self._role_code, case_ids)
        base = int(slots[0])
        in_unit = np.zeros(len(slots), dtype=bool)
        for kind, owners in units.items():
            if owners.shape[1]:
                pool = self.pools[kind]
                local = owners - base
                cols = pool.add_block(tuple(codes[:, local[k]] for k in range(pool.width)), owners)
                for k in range(pool.width):
                    self._home[owners[k]] = home(KINDS.index(kind), cols, k)
                    in_unit[local[k]] = True
        if not in_unit.all():
            loose = slots[~in_unit]
            cols = self.loose.add_block((codes[:, ~in_unit],), loose[None, :])
            self._home[loose] = home(LOOSE, cols, 0)
        return slots

    def remove(self, profile_id: str) -> None:
        """Remove a profile (no error if absent): it is in no later result."""
        slot = self._pids.get(profile_id)
        if slot is not None:
            self._remove_slot(slot)

    def remove_case(self, case_id: int) -> None:
        """Remove every profile of a case."""
        for slot in self.members(case_id):
            self._remove_slot(slot)

    def _remove_slot(self, slot: int) -> None:
        case_id = self.case_of(slot)
        self._pids.pop(self.pid_of(slot))
        self._odd.pop(slot, None)
        self._rebuild(case_id, leaving=slot)

    def _rebuild(
        self, case_id: int, leaving: int | None = None, new: tuple[int, Codes] | None = None
    ) -> None:
        """Replace a case's units by those its members form now: after `leaving` leaves, or with the `new`
        member (slot, codes) placed in its unit or else in the loose pool. A member's codes move with its unit."""
        saved = {
            m: self.column(m)
            for m in self.members(case_id)
            if m != leaving and m != (new and new[0]) and home_kind(int(self._home[m])) != LOOSE
        }
        if new is not None:
            saved[new[0]] = new[1]
        for kind, col in self.units(case_id):
            self.pools[kind].remove(col)
        if leaving is not None:
            code = int(self._home[leaving])
            if home_kind(code) == LOOSE:
                self.loose.remove(code // 16)
            self.persons.remove(leaving)
            self._case_ids[leaving] = -1
            self._home[leaving] = -1
        placed: set[int] = set()
        members = [(m, self.side_of(m), self.role_of(m)) for m in self.members(case_id)]
        for kind, owners in units_of(members):
            col = self.pools[kind].add(tuple(saved[o] for o in owners), owners)
            for k, o in enumerate(owners):
                if o not in placed:
                    placed.add(o)
                    self._home[o] = home(KINDS.index(kind), col, k)
        if new is not None and new[0] not in placed:
            self._home[new[0]] = home(LOOSE, self.loose.add((new[1],), (new[0],)), 0)

    # ---- reading back --------------------------------------------------------------------------------------

    def __contains__(self, profile_id: object) -> bool:
        return isinstance(profile_id, str) and self._pids.get(profile_id) is not None

    def __len__(self) -> int:
        return len(self.persons)

    def profile_ids(self) -> list[str]:
        """Return the ids of every indexed profile."""
        return [self.pid_of(s) for s in np.flatnonzero(self.persons.valid[: self.persons.size]).tolist()]

    def slot(self, profile_id: str) -> int:
        """Return the person slot of an indexed profile (KeyError if it is not indexed)."""
        slot = self._pids.get(profile_id)
        if slot is None:
            raise KeyError(f"profile {profile_id} is not in the index")
        return slot

    def entry(self, profile_id: str) -> Entry:
        """Return an indexed profile as an Entry (sex "unknown": the index keeps no recorded sex)."""
        return self.entry_of(self.slot(profile_id))

    def entry_of(self, s: int) -> Entry:
        return Entry(
            self.pid_of(s),
            self.person_of(s),
            self.case_of(s),
            self.side_of(s),
            self.role_of(s),
            "unknown",
            self.profile_of(s),
        )

    def profile(self, profile_id: str) -> Profile:
        """Return an indexed profile (table markers from the codes; kept whole if it has anything else)."""
        return self.profile_of(self.slot(profile_id))

    def profile_of(self, slot: int) -> Profile:
        odd = self._odd.get(slot)
        return odd if odd is not None else self.encoder.decode(self.column(slot))

    def memory(self) -> int:
        """Return the bytes held by the index's arrays (codes, owners, per-slot bookkeeping, id maps)."""
        arrays: list[npt.NDArray[Any]] = [getattr(self, name) for name in _PER_SLOT]
        pools = sum(p.nbytes for p in (self.persons, self.loose, *self.pools.values()))
        return int(pools + sum(a.nbytes for a in arrays) + self._pids.nbytes)


_INT32 = np.iinfo(np.int32)
_PER_SLOT = ("_case_ids", "sides", "_roles", "_home", "_person_ids")  # arrays by person slot, -1 where unused


def _among(known: npt.NDArray[np.int64], keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Return which keys are in `known` (sorted)."""
    if not len(known):
        return np.zeros(len(keys), dtype=bool)
    found: npt.NDArray[np.bool_] = known[np.minimum(np.searchsorted(known, keys), len(known) - 1)] == keys
    return found


def _inserted(known: npt.NDArray[np.int64], keys: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Return `known` (sorted) with keys (none of them in it) inserted in order."""
    new = np.sort(keys.astype(np.int64))
    return np.insert(known, np.searchsorted(known, new), new)


def _repeated(keys: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Return which keys equal an earlier key of the array."""
    if len(keys) < 2:
        return np.zeros(len(keys), dtype=bool)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    repeated: npt.NDArray[np.bool_] = first[inverse] != np.arange(len(keys))
    return repeated


def _check_case_ids(case_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the case ids, or raise ValueError if one does not fit the index's 32-bit case ids."""
    limits = np.iinfo(np.int32)
    if len(case_ids) and (int(case_ids.min()) < limits.min or int(case_ids.max()) > limits.max):
        raise ValueError("case ids must fit in 32 bits (the database's integer ids)")
    return case_ids
