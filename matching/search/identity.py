"""Identity: two profiles of different persons equal on every marker typed in both (at least `min_shared_markers`)
are one person sampled twice (`same_person`) or a sample mix-up (a child against an adult, `sample_mixup`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.fast import Codes
from matching.index import identical_columns
from matching.search.entry import Side
from matching.search.results import Flag, FlagKind
from matching.search.store import IndexStore


def identical(store: IndexStore, a: int, b: int) -> bool:
    """Return whether two indexed profiles are equal on at least `min_shared_markers` markers typed in both."""
    untyped = store.encoder.untyped
    x, y = store.column(a), store.column(b)
    both = (x != untyped) & (y != untyped)
    return bool(np.all(x[both] == y[both])) and int(both.sum()) >= store.settings.min_shared_markers


def identity_flag(store: IndexStore, slot: int, other: int, shared: int) -> Flag:
    """The flag of two identical profiles: a mix-up when one is a child and the other is not, else one person."""
    sides = {store.side_of(slot), store.side_of(other)}
    kind = FlagKind.SAMPLE_MIXUP if Side.CHILD in sides and len(sides) == 2 else FlagKind.SAME_PERSON
    return Flag(
        kind,
        (store.pid_of(slot), store.pid_of(other)),
        {
            "shared_markers": shared,
            "sides": [str(store.side_of(slot)), str(store.side_of(other))],
            "roles": [store.role_of(slot), store.role_of(other)],
            "case_ids": [store.case_of(slot), store.case_of(other)],
        },
    )


def identity_flags(store: IndexStore, slot: int) -> list[Flag]:
    """Flag every indexed profile of another person identical to the one at `slot` (one scan of every pool)."""
    column, untyped = store.column(slot), store.encoder.untyped
    found: dict[int, int] = {}  # person slot -> shared markers
    for pool in (*store.pools.values(), store.loose):
        for k in range(pool.width) if len(pool) else ():
            shared, mismatch = identical_columns(column, untyped, pool.codes(k))
            same = (~mismatch) & (shared >= store.settings.min_shared_markers) & pool.valid[: pool.size]
            cols = np.flatnonzero(same)
            found.update(zip(pool.owner[k, cols].tolist(), shared[cols].tolist(), strict=True))
    found.pop(slot, None)
    flags = []
    for other in sorted(found):
        if store.person_of(other) != store.person_of(slot):
            flags.append(identity_flag(store, slot, other, found[other]))
    return flags


def _all_columns(store: IndexStore) -> tuple[npt.NDArray[np.int64], Codes]:
    """Return every indexed person slot (once, increasing) and its code column (markers, persons)."""
    owners, parts = [], []
    for pool in (*store.pools.values(), store.loose):
        n = pool.size
        if not len(pool):
            continue
        valid = np.flatnonzero(pool.valid[:n])
        for k in range(pool.width):
            owners.append(pool.owner[k, valid].astype(np.int64))
            parts.append(pool.codes(k)[:, valid].full())
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros((len(store.encoder.markers), 0), dtype=np.uint16)
    slots, first = np.unique(np.concatenate(owners), return_index=True)
    return slots, np.concatenate(parts, axis=1)[:, first]


def identical_pairs(store: IndexStore) -> list[tuple[int, int, int]]:
    """Return every pair of profiles of different persons that a search flags as identical, once each:
    (first slot, second slot, shared markers), first < second.

    Instead of one scan of every profile per profile, profiles are grouped by which markers they are typed at
    (their kit, usually a handful of groups); for each two groups sharing enough markers, profiles equal on the
    shared markers are found by sorting their codes on those markers.
    """
    slots, codes = _all_columns(store)
    if not len(slots):
        return []
    typed = codes != store.encoder.untyped[:, None]
    weights = (1 << np.arange(typed.shape[0], dtype=np.int64))[:, None]
    signature = (typed.astype(np.int64) * weights).sum(axis=0)
    kinds, which = np.unique(signature, return_inverse=True)
    masks = [typed[:, np.flatnonzero(which == k)[0]] for k in range(len(kinds))]
    found: dict[tuple[int, int], int] = {}
    for i in range(len(kinds)):
        for j in range(i, len(kinds)):
            rows = np.flatnonzero(masks[i] & masks[j])
            if len(rows) < store.settings.min_shared_markers:
                continue
            cols = np.flatnonzero((which == i) | (which == j))
            sub = np.ascontiguousarray(codes[np.ix_(rows, cols)].T)
            keys = sub.view(np.dtype((np.void, sub.dtype.itemsize * sub.shape[1]))).ravel()
            _, group, counts = np.unique(keys, return_inverse=True, return_counts=True)
            by_group = cols[np.argsort(group, kind="stable")]
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            for g in np.flatnonzero(counts > 1).tolist():
                members = by_group[starts[g] : starts[g] + counts[g]]
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        a, b = int(members[x]), int(members[y])
                        if i != j and which[a] == which[b]:
                            continue  # a pair of one group is found with that group alone
                        sa_, sb = int(slots[a]), int(slots[b])
                        if store.person_of(sa_) != store.person_of(sb):
                            found[(min(sa_, sb), max(sa_, sb))] = len(rows)
    return sorted((a, b, n) for (a, b), n in found.items())
