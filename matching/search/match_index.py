"""`MatchIndex`: the index (`matching.search.store`) and its searches: one profile against everyone (identity,
then kinship against the other side), and the full re-match in one direction."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from matching.bands import Band
from matching.search.claimed import claimed_checks
from matching.search.compare import Hit, compare, not_enough_flag
from matching.search.entry import Side
from matching.search.identity import identical, identical_pairs, identity_flag, identity_flags
from matching.search.results import Comparison, Flag, SearchResult
from matching.search.scans import child_scan, family_scan
from matching.search.store import IndexStore
from matching.search.units import SIDE_CODE


class MatchIndex(IndexStore):
    """Every current typed profile as compact code arrays (`IndexStore`), searchable by profile id."""

    def shard(self, i: int, n: int) -> MatchIndex:
        """Return a new index with every child and claimed adult, and the families whose case id is i modulo n.

        For a distributed re-match: each shard searches its families against every child. A shard's `compared`
        counts its own families only (add the shards' counts for the database-wide bound), and identity flags
        between two profiles kept in every shard (two children) come from every shard: write them once.
        """
        part = type(self)(self.table, self.settings)
        part.add_many(self.entry_of(s) for s in self.shard_slots(i, n))
        return part

    def candidate_threshold(self, compared: int) -> float:
        """Return the candidate LR threshold for a search that compared `compared` pairs (see Settings)."""
        return self.settings.candidate_threshold(compared)

    def search(self, profile_id: str) -> SearchResult:
        """Search one indexed profile: identity against everyone, then kinship against the other side."""
        slot = self.slot(profile_id)
        return self.search_slot(slot, identity_flags(self, slot))

    def search_slot(self, slot: int, flags: list[Flag], *, with_claimed: bool = True) -> SearchResult:
        """Search one indexed profile, its identity flags given: kinship against the other side (and its case's
        claimed parents, unless `with_claimed` is False: the caller knows the case has none)."""
        profile_id = self.pid_of(slot)
        side = self.side_of(slot)
        hits: list[Hit] = []
        compared = 0
        if side is Side.CHILD:
            compared, hits = child_scan(self, slot)
        elif side is Side.FAMILY:
            compared, hits = family_scan(self, self.case_of(slot))
        comparisons: list[Comparison] = []
        threshold = self.candidate_threshold(compared)
        for hit in hits:
            if any(identical(self, hit.child, s) for _, s in hit.family):
                continue  # identical profiles are flagged as one person or a mix-up, never matched as kin
            comparison = compare(self, hit, compared, threshold)
            if comparison.log10_lr < math.log10(self.settings.inconclusive_lr):
                continue
            if comparison.band is Band.NOT_ENOUGH_MARKERS:
                flags.append(not_enough_flag(self.settings, comparison))
            elif comparison.band in (Band.CANDIDATE, Band.INCONCLUSIVE):
                comparisons.append(comparison)
        if side in (Side.CHILD, Side.CLAIMED) and with_claimed:
            claimed, claimed_flags = claimed_checks(self, self.case_of(slot))
            comparisons += claimed
            flags += claimed_flags
            compared = max(compared, len(claimed))
        comparisons.sort(key=lambda c: -c.log10_lr)
        return SearchResult(profile_id, tuple(comparisons), tuple(flags), compared)

    def rematch(
        self, children: Iterable[int] | None = None, pairs: list[tuple[int, int, int]] | None = None
    ) -> Iterator[SearchResult]:
        """The full re-match in one direction: every child against every family unit, and identity once.

        Yields one result per child (in slot order): the child's scans and claimed-parent checks exactly as
        `search` of that child (its per-child tables built once, every pool scanned by the pruned kernels, only
        the hits recomputed exactly), with the identity flags of the pairs in which it is the first indexed
        profile; then (`identity_results`) one result per other profile that is the first of an identical pair,
        holding only those flags. No family-side search runs: every (child, unit) pair of a family search is a
        pair of the child's search, with the same LR. Identity is computed once for all profiles
        (`identical_pairs`, or `pairs` if given), each pair flagged once. `children` (person slots, from
        `child_slots`) restricts the children searched, e.g. one batch of a parallel run; the other profiles'
        flags then come only from `identity_results`.
        """
        pairs = self.identical_pairs() if pairs is None else pairs
        first = self._pairs_by_first(pairs)
        claimed = self.cases_with(Side.CLAIMED)  # finding a case's members costs a pass over every profile
        for slot in self.child_slots() if children is None else children:
            flags = [identity_flag(self, slot, o, n) for o, n in first.get(slot, [])]
            yield self.search_slot(slot, flags, with_claimed=self.case_of(slot) in claimed)
        if children is None:
            yield from self.identity_results(pairs)

    def identity_results(self, pairs: list[tuple[int, int, int]]) -> Iterator[SearchResult]:
        """Yield, for each profile other than a child that is the first of identical pairs, its flags."""
        first = self._pairs_by_first(pairs)
        child = SIDE_CODE[Side.CHILD]
        for slot in sorted(s for s in first if self.sides[s] != child):
            flags = [identity_flag(self, slot, o, n) for o, n in first[slot]]
            yield SearchResult(self.pid_of(slot), (), tuple(flags), 0)

    @staticmethod
    def _pairs_by_first(pairs: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
        first: dict[int, list[tuple[int, int]]] = {}
        for a, b, shared in pairs:
            first.setdefault(a, []).append((b, shared))
        return first

    def identical_pairs(self) -> list[tuple[int, int, int]]:
        """Return every pair of profiles of different persons that `search` flags as identical, once each:
        (first slot, second slot, shared markers), first < second (see `matching.search.identity`)."""
        return identical_pairs(self)
