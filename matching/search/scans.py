"""The pruned scans of one search: a child against every family unit, or a case's units against every child.

Each scan sums per-marker tables over a pool (`matching.batch`, `matching.family_scan`) and returns the pairs
that may reach `inconclusive_lr`; `matching.search.compare` recomputes those exactly.
"""

from __future__ import annotations

import math

from matching.batch import DuoScorer, trio_scorer
from matching.family_scan import FamilyScorer, PairScorer
from matching.search.compare import Hit
from matching.search.store import IndexStore
from matching.search.units import CHILD_POOL, family_roles


def scan_threshold(store: IndexStore) -> float:
    """The scans' log10 threshold: `inconclusive_lr`, less a rounding margin (the exact recomputation decides)."""
    return math.log10(store.settings.inconclusive_lr) - 1e-6


def child_scan(store: IndexStore, slot: int) -> tuple[int, list[Hit]]:
    """One child against every couple, single parent and relative."""
    s = store.settings
    child = store.encoder.decode(store.column(slot))
    encoding = store.encoder.encoding
    threshold = scan_threshold(store)
    hits: list[Hit] = []
    compared = 0
    for kind, pool in store.pools.items():
        if kind == CHILD_POOL or not len(pool):
            continue
        compared += len(pool)
        if kind == "trio_couple":
            trio = trio_scorer(encoding, child, s.mutation, s.theta)  # separable with theta 0
            found, _ = trio.above(pool.codes(0), pool.codes(1), threshold)
        elif kind == "duo":
            found, _ = DuoScorer(encoding, child, s.mutation, s.theta).above(pool.codes(), threshold)
        else:
            found, _ = PairScorer(encoding, kind, child, s.mutation, s.theta).above(pool.codes(), threshold)
        for col in found.tolist():
            if pool.valid[col]:
                hits.append(Hit(kind, slot, family_roles(kind, pool.owner[:, col].tolist())))
    return compared, hits


def family_scan(store: IndexStore, case_id: int) -> tuple[int, list[Hit]]:
    """A case's couple (or single parents) and relatives against every child."""
    s = store.settings
    children = store.pools[CHILD_POOL]
    threshold = scan_threshold(store)
    hits: list[Hit] = []
    compared = 0
    for kind, col in store.units(case_id) if len(children) else ():
        if kind == CHILD_POOL:
            continue
        family = family_roles(kind, store.pools[kind].owner[:, col].tolist())
        scorer = FamilyScorer(
            store.encoder.encoding,
            kind,
            {role: store.encoder.decode(store.column(o)) for role, o in family},
            s.mutation,
            s.theta,
        )
        compared += len(children)
        found, _ = scorer.above(children.codes(), threshold)
        for hit in found.tolist():
            if children.valid[hit]:
                hits.append(Hit(kind, int(children.owner[0, hit]), family))
    return compared, hits
