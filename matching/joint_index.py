"""The match index with joint pedigrees: a family case with relatives is also searched as one pedigree.

`PedigreeIndex` is `matching.search.MatchIndex` plus, for every family case whose typed members include a placed
relative (a full or half sibling, a grandparent or an aunt or uncle with its side; `matching.family_pedigree`;
not a full sibling alone, whose `full_siblings` unit is the same pedigree),
that case's joint pedigree kept up to date whenever a member arrives, is replaced or leaves. A search then adds,
to the separate units' comparisons of today, one `PedigreeComparison` per family pedigree that reaches the
inconclusive band, its LR recomputed exactly (`matching.joint.joint_lr`) and naming who was typed:

- a child is scanned against every pedigree at once by `matching.shapes` (two sides of four allele slots per
  marker, exact for most shapes, theta 0); the families whose shape the slots cannot hold exactly, and every
  family when theta > 0, are screened by their separate units: such a family is recomputed as a pedigree when
  one of its units reached the inconclusive band;
- a new member of a family (the family-side search) rebuilds its case's pedigree and scans every child with the
  pedigree's own tables (`matching.joint.PedigreeFamilyScorer`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching import shapes
from matching.bands import Band, band_of
from matching.errors import CaseError
from matching.family_pedigree import (
    CHILD,
    FULL_SIBLING,
    PARENTS,
    PLACED_ROLES,
    FamilyPedigree,
    Member,
    family_pedigree,
)
from matching.frequencies import FrequencyTable
from matching.joint import PedigreeFamilyScorer
from matching.kinship import KinshipCase, kinship_lr
from matching.profiles import Profile
from matching.search import (
    Comparison,
    Entry,
    Flag,
    MarkerEvidence,
    MatchIndex,
    SearchResult,
    SearchSettings,
    Side,
)
from matching.search.block import Block
from matching.search.identity import identical
from matching.search.units import SIDE_CODE

PEDIGREE = "pedigree"  # the relationship of a joint-pedigree comparison
JOINT_ROLES = PLACED_ROLES - set(PARENTS)  # a case with one of these typed is searched as a pedigree too


@dataclass(frozen=True)
class PedigreeComparison(Comparison):
    """A comparison with a family's joint pedigree: `pedigree` names who was typed, one role per person."""

    pedigree: tuple[str, ...] = ()


@dataclass(slots=True)
class _Family:
    """One family case's pedigree: its family-side members (person slots and roles, as the pedigree was made
    from them) and its row of slots.

    The pedigree itself is not kept (a `FamilyPedigree` of Python objects is about 2 KB a case): it is made
    again from the same members when a search needs it, the same pedigree (`family_pedigree` depends on nothing
    else). Nor is this object: the index keeps a case's record as one `bytes` (`PedigreeIndex._keep`: about 130
    bytes a case with its dict entry, instead of about 380 for this object, its tuples and their ints) and
    makes it again when asked (`PedigreeIndex._family`)."""

    slots: tuple[int, ...]
    roles: tuple[str, ...]
    row: int  # row in the slot store, -1 when the slots cannot hold it exactly (screened by its units)

    @property
    def members(self) -> tuple[tuple[int, str], ...]:
        """Return the members placed in the pedigree (person slot, role), in order."""
        return tuple((s, r) for s, r in zip(self.slots, self.roles, strict=True) if r in PLACED_ROLES)

    @property
    def pedigree(self) -> FamilyPedigree:
        return family_pedigree([Member(str(s), r) for s, r in zip(self.slots, self.roles, strict=True)])


class PedigreeIndex(MatchIndex):
    """A `MatchIndex` that also searches every family case with placed relatives as one joint pedigree."""

    def __init__(self, table: FrequencyTable, settings: SearchSettings | None = None) -> None:
        # Per case: its row (int32), its family members' slots (int32) and role codes (one byte each), as bytes.
        self._families: dict[int, bytes] = {}
        self._slots: shapes.Slots = np.zeros((0, 0, 8), dtype=shapes.SLOT_DTYPE)
        self._slot_case: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)  # case ids are 32-bit
        self._free: list[int] = []
        self._used = 0
        super().__init__(table, settings)
        self._slots = np.zeros((0, len(self.encoder.markers), 8), dtype=shapes.SLOT_DTYPE)

    # ---- keeping the pedigrees up to date ------------------------------------------------------------------

    def _rebuild(self, case_id: int, leaving: int | None = None, new: tuple[int, Any] | None = None) -> None:
        super()._rebuild(case_id, leaving, new)
        self._refresh(case_id)

    def _add_block(self, block: Block) -> npt.NDArray[np.int64]:
        slots = super()._add_block(block)
        joint = np.isin(np.asarray(block.role_names), sorted(JOINT_ROLES))[block.roles]
        family = block.sides == SIDE_CODE[Side.FAMILY]
        cases = np.unique(block.case_ids[family & joint])
        if not len(cases):
            return slots
        # The block's cases are new: their members are the block's rows (no scan of the index), and the families
        # of one shape get their slots from one call of `shapes.slots`.
        rows = np.flatnonzero(family & np.isin(block.case_ids, cases))
        members: dict[int, list[tuple[int, str]]] = {}
        for r, case_id, role in zip(
            rows.tolist(), block.case_ids[rows].tolist(), block.roles[rows].tolist(), strict=True
        ):
            members.setdefault(case_id, []).append((int(slots[r]), block.role_names[role]))
        found = [(c, self._placed(tuple(members[c]))) for c in cases.tolist()]
        shapes_of: dict[tuple[str, ...], list[int]] = {}
        for k, (_, placed) in enumerate(found):
            if placed is not None:
                shapes_of.setdefault(tuple(r for _, r in placed[0]), []).append(k)
        computed: dict[int, tuple[Any, bool]] = {}
        local = {int(s): i for i, s in enumerate(slots.tolist())}
        for roles, ks in shapes_of.items():
            columns = [
                block.codes[:, [local[found[k][1][0][i][0]] for k in ks]]  # type: ignore[index]
                for i in range(len(roles))
            ]
            rows_of, exact = shapes.slots(self.encoder.encoding, list(roles), columns)
            computed.update({k: (rows_of[j], bool(exact[j])) for j, k in enumerate(ks)})
        for k, (case_id, placed) in enumerate(found):
            self._forget(case_id)
            if placed is not None:
                self._keep(case_id, tuple(members[case_id]), *computed[k])
        return slots

    def _refresh(self, case_id: int) -> None:
        """Rebuild a case's pedigree and slots from its current members (or drop it: no placed relative left)."""
        self._forget(case_id)
        members = tuple((s, self.role_of(s)) for s in self.members(case_id) if self.side_of(s) is Side.FAMILY)
        found = self._placed(members)
        if found is None:
            return
        placed, _ = found
        columns = [self.column(s)[:, None] for s, _ in placed]
        block, exact = shapes.slots(self.encoder.encoding, [r for _, r in placed], columns)
        self._keep(case_id, members, block[0], bool(exact[0]))

    def _family(self, case_id: int) -> _Family | None:
        """Return a case's pedigree record, made from the bytes kept (see `_keep`), or None."""
        raw = self._families.get(case_id)
        if raw is None:
            return None
        n = (len(raw) - 4) // 5
        ints = np.frombuffer(raw, dtype=np.int32, count=n + 1).tolist()
        names = self._role_names
        return _Family(tuple(ints[1:]), tuple(names[c] for c in raw[4 * (n + 1) :]), ints[0])

    def _forget(self, case_id: int) -> None:
        old = self._families.pop(case_id, None)
        row = int(np.frombuffer(old, dtype=np.int32, count=1)[0]) if old is not None else -1
        if row >= 0:
            self._slot_case[row] = -1
            self._free.append(row)

    @staticmethod
    def _placed(
        members: tuple[tuple[int, str], ...],
    ) -> tuple[tuple[tuple[int, str], ...], FamilyPedigree] | None:
        """Return a case's placed members (slot, role) and its pedigree, or None when it is not one pedigree."""
        placed_roles = [role for _, role in members if role in PLACED_ROLES]
        if not set(placed_roles) & JOINT_ROLES or placed_roles == [FULL_SIBLING]:
            return None  # parents only, or one full sibling alone: their units are the pedigree already
        try:
            pedigree = family_pedigree([Member(str(s), role) for s, role in members])
        except CaseError:
            return None  # two fathers, two mothers...: not one pedigree; its units are searched as before
        return tuple((s, role) for s, role in members if str(s) in pedigree.roles), pedigree

    def _keep(self, case_id: int, members: tuple[tuple[int, str], ...], slots: Any, exact: bool) -> None:
        """Keep a case's pedigree (made from `members`, its family-side members) and its row of slots."""
        row = -1
        if exact and self.settings.theta == 0.0:
            row = self._free.pop() if self._free else self._append_row()
            self._slots[row] = slots
            self._slot_case[row] = case_id
        ints = np.array([row, *(s for s, _ in members)], dtype=np.int32)
        self._families[case_id] = ints.tobytes() + bytes(self._role_code[r] for _, r in members)

    def _bulk(self, add: Callable[[list[tuple[int, Entry]]], list[Flag]]) -> list[Flag]:
        flags = super()._bulk(add)
        # As the pools: no room beyond the rows a bulk build filled (the next pedigree grows the store again).
        self._slots, self._slot_case = self._slots[: self._used].copy(), self._slot_case[: self._used].copy()
        return flags

    def _append_row(self) -> int:
        if self._used == len(self._slot_case):
            capacity = max(1024, 2 * self._used)
            slots = np.full((capacity, *self._slots.shape[1:]), shapes.SENTINEL, dtype=shapes.SLOT_DTYPE)
            slots[: self._used] = self._slots[: self._used]
            cases = np.full(capacity, -1, dtype=np.int32)
            cases[: self._used] = self._slot_case[: self._used]
            self._slots, self._slot_case = slots, cases
        self._used += 1
        return self._used - 1

    def memory(self) -> int:
        """Return the bytes held by the index's arrays, the pedigrees' slots included."""
        return super().memory() + self._slots.nbytes + self._slot_case.nbytes

    def pedigree_of(self, case_id: int) -> FamilyPedigree | None:
        """Return a case's joint pedigree, or None when the case is not searched as one."""
        family = self._family(case_id)
        return family.pedigree if family is not None else None

    # ---- search ----------------------------------------------------------------------------------------------

    def search_slot(self, slot: int, flags: list[Flag], *, with_claimed: bool = True) -> SearchResult:
        result = super().search_slot(slot, flags, with_claimed=with_claimed)
        side = self.side_of(slot)
        if side is Side.CHILD:
            hits = self._child_hits(slot, result)
            pairs = [(slot, case_id) for case_id in hits]
        elif side is Side.FAMILY and self.case_of(slot) in self._families:
            pairs = [(child, self.case_of(slot)) for child in self._family_hits(self.case_of(slot))]
        else:
            return result
        compared = result.compared
        threshold = self.candidate_threshold(compared)
        joint: list[Comparison] = []
        for child, case_id in pairs:
            comparison = self._compare_pedigree(child, case_id, compared, threshold)
            if (
                comparison is not None
                and comparison.log10_lr >= math.log10(self.settings.inconclusive_lr)
                and comparison.band in (Band.CANDIDATE, Band.INCONCLUSIVE)
            ):
                joint.append(comparison)
        if not joint:
            return result
        comparisons = sorted((*result.comparisons, *joint), key=lambda c: -c.log10_lr)
        return SearchResult(result.profile_id, tuple(comparisons), result.flags, result.compared)

    def _child_hits(self, slot: int, result: SearchResult) -> list[int]:
        """Return the family cases whose pedigree may reach the inconclusive band for this child."""
        cases: set[int] = set()
        if self._used:
            s = self.settings
            vectors = shapes.ChildVectors(self.encoder.encoding, self.profile_of(slot), s.mutation)
            found, _ = shapes.above(vectors, self._slots[: self._used], math.log10(s.inconclusive_lr))
            cases.update(int(c) for c in self._slot_case[found].tolist() if c >= 0)
        for c in result.comparisons:
            family = self._family(c.family_case_id)
            if family is not None and family.row < 0:
                cases.add(c.family_case_id)
        return sorted(cases)

    def _family_hits(self, case_id: int) -> list[int]:
        """Return the child slots whose LR against the case's pedigree reaches the inconclusive band."""
        children = self.pools["child"]
        if not len(children):
            return []
        family = self._family(case_id)
        assert family is not None  # the caller checked the case is searched as a pedigree
        s = self.settings
        profiles = {str(m): self.profile_of(m) for m, _ in family.members}
        scorer = PedigreeFamilyScorer(self.encoder.encoding, family.pedigree, profiles, s.mutation, s.theta)
        found, _ = scorer.above(children.codes(), math.log10(s.inconclusive_lr) - 1e-6)
        return [int(children.owner[0, c]) for c in found.tolist() if children.valid[c]]

    def _compare_pedigree(
        self, child: int, case_id: int, compared: int, candidate_lr: float
    ) -> PedigreeComparison | None:
        """Recompute a child against a case's pedigree exactly (`kinship_lr` on the pedigree) and band it."""
        family = self._family(case_id)
        if family is None or any(identical(self, child, m) for m, _ in family.members):
            return None
        s = self.settings
        members, pedigree = family.members, family.pedigree
        persons: dict[str, Profile] = {str(m): self.profile_of(m) for m, _ in members}
        persons[CHILD] = self.profile_of(child)
        shown = _labels(members)
        rel = pedigree.relationship
        shared = [
            m
            for m in self.table.markers
            if rel.typed_enough([r for r, p in persons.items() if p.genotype(m) is not None])
        ]
        usable = {
            r: Profile({m: g for m, g in p.genotypes.items() if m in shared}) for r, p in persons.items()
        }
        if not usable[CHILD].genotypes or not any(p.genotypes for r, p in usable.items() if r != CHILD):
            return None
        usable = {r: p for r, p in usable.items() if p.genotypes or r == CHILD}
        if set(usable) != set(persons):
            return None  # a member typed only off the table's markers: leave the pair to its units
        result = kinship_lr(KinshipCase(rel, usable, s.mutation, s.theta), self.table)
        evidence = tuple(
            MarkerEvidence(
                m,
                {shown[r]: p.genotype(m) for r, p in persons.items()},
                math.log10(lr) if (lr := result.per_marker[m]) > 0 else -math.inf,
                m in result.inconsistent_markers,
            )
            for m in shared
        )
        band = band_of(
            result.log10_lr, len(result.inconsistent_markers), len(shared), candidate_lr=candidate_lr,
            exclude_lr=s.exclude_lr, exclude_inconsistent=s.exclude_inconsistent, min_shared_markers=s.min_shared_markers,
        )  # fmt: skip
        return PedigreeComparison(
            relationship=PEDIGREE,
            child_profile_id=self.pid_of(child),
            family_profile_ids=tuple(sorted(self.pid_of(m) for m, _ in members)),
            child_case_id=self.case_of(child),
            family_case_id=case_id,
            log10_lr=result.log10_lr,
            band=band,
            inconsistent_markers=result.inconsistent_markers,
            shared_markers=tuple(shared),
            skipped_markers=(),
            evidence=evidence,
            compared=compared,
            expected_unrelated=compared * 10.0 ** -max(result.log10_lr, 0.0),
            ask_for=None,
            pedigree=pedigree.typed_roles,
        )


def _labels(members: tuple[tuple[int, str], ...]) -> dict[str, str]:
    """Return each member's label in the evidence: its role, numbered when two share it ("full_sibling 2")."""
    labels: dict[str, str] = {CHILD: "child"}
    seen: dict[str, int] = {}
    for slot, role in members:
        seen[role] = seen.get(role, 0) + 1
        labels[str(slot)] = role if seen[role] == 1 else f"{role} {seen[role]}"
    return labels
