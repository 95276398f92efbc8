"""Who is compared with whom: the in-memory index of typed profiles and the search of one profile against it.

Pure computation (numpy and matching.*): the DB service maps its rows to `Entry`, keeps one `MatchIndex` in the
worker, and stores each `Comparison` as a candidate row and each `Flag` as a flag row. See docs/matching.md,
"Who is compared with whom".
"""

from __future__ import annotations

import enum
import gc
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.batch import DuoScorer, TrioScorer
from matching.family_scan import RELATIVE_RELATIONSHIP, FamilyScorer, PairScorer
from matching.fast import Codes
from matching.frequencies import FrequencyTable
from matching.index import Encoder, KeyMap, Pool, identical_columns
from matching.kinship import KinshipCase, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import Profile
from matching.relationships import RELATIONSHIPS

# Default mutation model for parent-child steps, from Brinkmann B, Klintschar M, Neuhuber F, Huehne J, Rolf B (1998)
# "Mutation rate in human microsatellites: influence of the structure and length of the tandem repeat", Am J Hum
# Genet 62:1408-1415, doi:10.1086/301869: 23 mutations in 10,844 parent/child allelic transfers (2.1e-3 per locus
# per generation), 22 of them single-step; hence stepwise, rate 0.002, range 0.1 per extra repeat. The shipped
# frequency table's standard (GB/T 37223-2018, see matching/data/CITATION.txt) states no rate.
DEFAULT_MUTATION_RATE = 0.002
DEFAULT_MUTATION = MutationModel("stepwise", DEFAULT_MUTATION_RATE, rate2=1e-6, range=0.1)


class Side(enum.StrEnum):
    """Which side of the search a profile is on."""

    CHILD = "child"  # rescued, suspected-kidnapped and unknown-identity children (sample sources 3, 4, 5)
    FAMILY = "family"  # parents and relatives of missing children (sources 1, 2)
    CLAIMED = "claimed"  # adults who came with a suspected-kidnapped child claiming to be its parents


@dataclass(frozen=True)
class Entry:
    """One current typed profile of one person, as the index knows it."""

    profile_id: str
    person_id: int
    case_id: int
    side: Side
    role: str  # "father", "mother", "full_sibling", "half_sibling", "grandparent", "aunt_uncle", "other_relative", "child"
    sex: str  # recorded sex: "female" | "male" | "unknown"
    profile: Profile


@dataclass(frozen=True)
class Settings:
    """The search's thresholds and model (defaults: the Chinese parentage standard's bands, stepwise mutation)."""

    min_shared_markers: int = 15
    candidate_lr: float = 10_000.0
    inconclusive_lr: float = 2_000.0
    exclude_inconsistent: int = 3
    exclude_lr: float = 1e-4
    # With scale_threshold the candidate threshold is max(candidate_lr, compared / max_expected_unrelated): the
    # bound P(LR >= t | unrelated) <= 1/t then keeps the expected unrelated candidates per search at or below
    # max_expected_unrelated (Ge and Budowle 2012).
    scale_threshold: bool = False
    max_expected_unrelated: float = 0.01
    mutation: MutationModel | None = field(default=DEFAULT_MUTATION)
    theta: float = 0.0

    def __post_init__(self) -> None:
        if self.min_shared_markers < 1 or self.exclude_inconsistent < 1:
            raise ValueError("min_shared_markers and exclude_inconsistent must be at least 1")
        if not 0.0 < self.exclude_lr <= self.inconclusive_lr <= self.candidate_lr:
            raise ValueError("the thresholds must satisfy 0 < exclude_lr <= inconclusive_lr <= candidate_lr")
        if self.max_expected_unrelated <= 0.0 or not 0.0 <= self.theta < 1.0:
            raise ValueError("max_expected_unrelated must be positive and theta in [0, 1)")


class Band(enum.StrEnum):
    """The reporting band of one comparison."""

    CANDIDATE = "candidate"
    INCONCLUSIVE = "inconclusive"
    EXCLUDED = "excluded"
    NOT_ENOUGH_MARKERS = "not_enough_markers"


@dataclass(frozen=True)
class MarkerEvidence:
    """One marker of a comparison: the genotypes by role, its log10 LR and whether it is Mendel-inconsistent."""

    marker: str
    genotypes: dict[str, tuple[str, str] | None]
    log10_lr: float
    inconsistent: bool


@dataclass(frozen=True)
class Comparison:
    """One child against one family (or relative), or the identity of two profiles."""

    relationship: str
    child_profile_id: str
    family_profile_ids: tuple[str, ...]
    child_case_id: int
    family_case_id: int
    log10_lr: float
    band: Band
    inconsistent_markers: tuple[str, ...]
    shared_markers: tuple[str, ...]
    skipped_markers: tuple[str, ...]
    evidence: tuple[MarkerEvidence, ...]
    compared: int
    expected_unrelated: float
    ask_for: str | None = None


class FlagKind(enum.StrEnum):
    """What a flag asks an officer or a lab to look at."""

    SEX_MISMATCH = "sex_mismatch"
    SAME_PERSON = "same_person"
    SAMPLE_MIXUP = "sample_mixup"
    CLAIMED_PARENTS_EXCLUDED = "claimed_parents_excluded"
    NOT_ENOUGH_MARKERS = "not_enough_markers"


@dataclass(frozen=True)
class Flag:
    """A flag on one or more profiles, with JSON-able detail."""

    kind: FlagKind
    profile_ids: tuple[str, ...]
    detail: dict[str, object]


@dataclass(frozen=True)
class SearchResult:
    """What one search found: comparisons to review, flags, and how many families or children it compared."""

    profile_id: str
    comparisons: tuple[Comparison, ...]
    flags: tuple[Flag, ...]
    compared: int


def sex_conflict(entry: Entry) -> Flag | None:
    """Return a SEX_MISMATCH flag when the entry's Amelogenin contradicts its recorded sex, else None.

    X,Y for a female or X alone for a male is a conflict; an unknown sex or no Amelogenin is not checked.
    """
    amelogenin = entry.profile.other.get("Amelogenin")
    if not amelogenin or entry.sex not in ("female", "male"):
        return None
    has_y = "Y" in amelogenin
    if has_y == (entry.sex == "male"):
        return None
    return Flag(
        FlagKind.SEX_MISMATCH,
        (entry.profile_id,),
        {"recorded_sex": entry.sex, "amelogenin": list(amelogenin), "person_id": entry.person_id},
    )


_CHILD_POOL = "child"
_PARENT_ROLES = ("father", "mother")


def _parent_units(fathers: list[int], mothers: list[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Return a case's parent units: every father with every mother as a couple, else each parent alone."""
    if fathers and mothers:
        return [("trio_couple", (f, m)) for f in fathers for m in mothers]
    return [("duo", (s,)) for s in fathers + mothers]


_KINDS: tuple[str, ...] = (_CHILD_POOL, "trio_couple", "duo", *RELATIVE_RELATIONSHIP.values())
_SIDES: tuple[Side, ...] = tuple(Side)
_SIDE_CODE = {side: i for i, side in enumerate(_SIDES)}
_LOOSE = len(_KINDS)  # the home pool of profiles in no unit (claimed adults, other relatives)


def _home(kind: int, col: Any, k: int) -> Any:
    """Encode where a person's codes live: pool (a `_KINDS` index or `_LOOSE`), column, code array."""
    return col * 16 + kind * 2 + k


@dataclass(frozen=True)
class _Hit:
    relationship: str
    child: int  # person slot
    family: tuple[tuple[str, int], ...]  # (role in the relationship, person slot)


class MatchIndex:
    """Every current typed profile as compact code arrays, searchable by profile id.

    All profiles sit in one person pool (for identity); children, couples (`trio_couple`), single parents (`duo`)
    and relatives (one pool per pairwise relationship) also sit in pools of their own, rebuilt per case when a
    member arrives, is replaced or leaves, so that each scan reads one contiguous array.

    No Python object is kept per profile: a person slot's profile id and person id are found through `KeyMap`s
    (sorted numpy arrays), its case id, side and role are numpy arrays (int64, int8 codes), a unit's members are
    the int32 owner slots of its pool, and a case's members and units are found by a vectorised scan of those
    arrays (a few milliseconds at a million cases, only when a case changes). Only a profile with something the
    codes cannot hold (a marker or allele the table lacks) is kept whole, for the exact per-pair recomputation.
    """

    def __init__(self, table: FrequencyTable, settings: Settings | None = None) -> None:
        self.table = table
        self.settings = settings or Settings()
        self.encoder = Encoder(table)
        untyped = self.encoder.untyped
        # The person pool holds no codes (zero markers): each profile's codes live once, in its unit's pool (the
        # first unit, if several) or in the loose pool; `_home` says where.
        self._persons = Pool(untyped[:0], owner_dtype=np.int8)  # slots and validity only (owner unused, 0)
        self._loose = Pool(untyped)
        self._home: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._pools: dict[str, Pool] = {
            kind: Pool(untyped, 2 if kind == "trio_couple" else 1) for kind in _KINDS
        }
        self._case_ids: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._sides: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self._roles: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self._role_names: list[str] = []
        self._role_code: dict[str, int] = {}
        self._pids = KeyMap(str)
        self._people = KeyMap(int)
        self._bulk_cases: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)  # sorted case ids ever indexed
        self._odd: dict[int, Profile] = {}

    # ---- per-slot bookkeeping ------------------------------------------------------------------------------

    def _pid_of(self, slot: int) -> str:
        pid: str = self._pids.key_of(slot)
        return pid

    def _person_of(self, slot: int) -> int:
        person: int = self._people.key_of(slot)
        return person

    def _case_of(self, slot: int) -> int:
        return int(self._case_ids[slot])

    def _side_of(self, slot: int) -> Side:
        return _SIDES[int(self._sides[slot])]

    def _role_of(self, slot: int) -> str:
        return self._role_names[int(self._roles[slot])]

    def _role_codes(self, roles: list[str]) -> npt.NDArray[np.int8]:
        for role in set(roles).difference(self._role_code):
            self._role_code[role] = len(self._role_names)
            self._role_names.append(role)
        return np.fromiter(map(self._role_code.__getitem__, roles), dtype=np.int8, count=len(roles))

    def _grow(self) -> None:
        """Keep the per-slot arrays as long as the person pool's capacity."""
        capacity = self._persons.capacity
        if len(self._case_ids) < capacity:
            for name, fill in (("_case_ids", -1), ("_sides", -1), ("_roles", -1), ("_home", -1)):
                old = getattr(self, name)
                new = np.full(capacity, fill, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)

    def _set(self, slots: npt.NDArray[np.int64], entries: list[Entry]) -> None:
        self._grow()
        self._case_ids[slots] = [e.case_id for e in entries]
        self._sides[slots] = [_SIDE_CODE[e.side] for e in entries]  # a StrEnum: the str value finds it too
        self._roles[slots] = self._role_codes([e.role for e in entries])

    def _home_pool(self, kind: int) -> Pool:
        return self._loose if kind == _LOOSE else self._pools[_KINDS[kind]]

    def _column(self, slot: int) -> Codes:
        """Return a person's code column (a copy) from its home pool."""
        home = int(self._home[slot])
        return self._home_pool((home % 16) // 2).column(home // 16, home % 2)

    def _members(self, case_id: int) -> list[int]:
        """Return the person slots of a case (a vectorised scan of the case ids)."""
        n = self._persons.size
        found = np.flatnonzero((self._case_ids[:n] == case_id) & self._persons.valid[:n])
        members: list[int] = found.tolist()
        return members

    def _units(self, case_id: int) -> list[tuple[str, int]]:
        """Return the (pool, column) units of a case."""
        units: list[tuple[str, int]] = []
        for kind, pool in self._pools.items():
            if not len(pool):
                continue
            n = pool.size
            cols = np.flatnonzero(pool.valid[:n] & (self._case_ids[pool.owner[0, :n]] == case_id))
            units += [(kind, c) for c in cols.tolist()]
        return units

    # ---- storage -------------------------------------------------------------------------------------------

    def add(self, entry: Entry) -> list[Flag]:
        """Add or replace an entry (same profile_id or person_id); a sex conflict is flagged and not added."""
        flag = sex_conflict(entry)
        if flag is not None:
            self.remove(entry.profile_id)
            return [flag]
        self.remove(entry.profile_id)
        same_person = self._people.get(entry.person_id)
        if same_person is not None:
            self._remove_slot(same_person)
        column, odd = self.encoder.encode(entry.profile)
        slot = self._persons.add((column[:0],), (0,))
        self._set(np.array([slot]), [entry])
        if odd:
            self._odd[slot] = entry.profile
        self._pids.put(entry.profile_id, slot)
        self._people.put(entry.person_id, slot)
        self._rebuild(entry.case_id, new=(slot, column))
        self._note_cases(np.array([entry.case_id], dtype=np.int64))
        return []

    def _note_cases(self, case_ids: npt.NDArray[np.int64]) -> None:
        """Remember case ids as indexed (sorted, unique): a later bulk add sends their new members one by one."""
        known = self._bulk_cases
        new = np.unique(case_ids)
        if len(known):
            at = np.minimum(np.searchsorted(known, new), len(known) - 1)
            new = new[known[at] != new]
        self._bulk_cases = np.insert(known, np.searchsorted(known, new), new)

    def add_many(self, entries: Iterable[Entry], chunk: int = 100_000) -> list[Flag]:
        """Add many entries (the start-up build), streaming: profiles of cases not yet indexed go in blocks of
        `chunk`, encoded marker by marker; replacements, and members of a case already indexed, go one by one
        through `add` at the end (in their order). The arrays are trimmed to their size at the end.

        The cyclic garbage collector is paused meanwhile: the build creates many short-lived objects and no
        cycles, and the collector's repeated passes over them would take much of the build time.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            flags = self._add_many(entries, chunk)
            for pool in (self._persons, self._loose, *self._pools.values()):
                pool.trim()
            self._pids.merge()
            self._people.merge()
            return flags
        finally:
            if enabled:
                gc.enable()

    def _add_many(self, entries: Iterable[Entry], chunk: int) -> list[Flag]:
        flags: list[Flag] = []
        fresh: list[tuple[int, Entry]] = []
        later: list[tuple[int, Entry]] = []
        pids: set[str] = set()
        persons: set[int] = set()
        later_keys: set[object] = set()
        for seq, entry in enumerate(entries):
            if (
                entry.profile_id in pids
                or entry.person_id in persons
                or entry.profile_id in later_keys
                or ("person", entry.person_id) in later_keys
            ):
                later.append((seq, entry))
                later_keys.update((entry.profile_id, ("person", entry.person_id)))
                continue
            if entry.sex != "unknown" and (flag := sex_conflict(entry)) is not None:
                flags.append(flag)
                continue
            pids.add(entry.profile_id)
            persons.add(entry.person_id)
            fresh.append((seq, entry))
            if len(fresh) >= chunk:
                self._flush(fresh, later)
                pids.clear()
                persons.clear()
        self._flush(fresh, later)
        later.sort(key=lambda x: x[0])
        for _, entry in later:
            flags += self.add(entry)
        return flags

    def _flush(self, fresh: list[tuple[int, Entry]], later: list[tuple[int, Entry]]) -> None:
        """Add the fresh entries that touch nothing indexed as one block; the others go to `later`."""
        if not fresh:
            return
        pid_keys = self._pids.encode_many([e.profile_id for _, e in fresh])
        person_keys = self._people.encode_many([e.person_id for _, e in fresh])
        case_ids = np.array([e.case_id for _, e in fresh], dtype=np.int64)
        clash = self._pids.contains_many(pid_keys) | self._people.contains_many(person_keys)
        known = self._bulk_cases
        if len(known):
            at = np.minimum(np.searchsorted(known, case_ids), len(known) - 1)
            clash |= known[at] == case_ids
        if clash.any():
            clash |= np.isin(case_ids, case_ids[clash])  # a case goes whole, or member by member
            later += [x for x, c in zip(fresh, clash.tolist(), strict=True) if c]
            keep = ~clash
            fresh[:] = [x for x, c in zip(fresh, keep.tolist(), strict=True) if c]
            pid_keys, person_keys, case_ids = pid_keys[keep], person_keys[keep], case_ids[keep]
        if fresh:
            self._add_block([e for _, e in fresh], pid_keys, person_keys, case_ids)
        fresh.clear()

    def _add_block(
        self,
        entries: list[Entry],
        pid_keys: npt.NDArray[Any],
        person_keys: npt.NDArray[np.int64],
        case_ids: npt.NDArray[np.int64],
    ) -> None:
        """Append entries of cases not yet indexed, and their units, with a few numpy operations per pool."""
        codes, odd = self.encoder.encode_many([e.profile for e in entries])
        slots = self._persons.add_block((codes[:0],), np.zeros((1, len(entries)), dtype=np.int64))
        self._set(slots, entries)
        self._pids.put_many(pid_keys, slots)
        self._people.put_many(person_keys, slots)
        new_cases = np.unique(case_ids)
        self._note_cases(new_cases)
        for i in np.flatnonzero(odd).tolist():
            self._odd[int(slots[i])] = entries[i].profile
        # Units, vectorised: children and relatives one each; parents by case (a couple, else single parents).
        sides = self._sides[slots]
        roles = self._roles[slots]
        child = _SIDE_CODE[Side.CHILD]
        family = sides == _SIDE_CODE[Side.FAMILY]
        units: dict[str, npt.NDArray[np.int64]] = {_CHILD_POOL: slots[sides == child][None, :]}
        for role, kind in RELATIVE_RELATIONSHIP.items():
            units[kind] = slots[family & (roles == self._role_code.get(role, -1))][None, :]
        fathers = family & (roles == self._role_code.get("father", -1))
        mothers = family & (roles == self._role_code.get("mother", -1))
        parents = fathers | mothers
        p_cases = case_ids[parents]
        n_fathers = np.bincount(np.searchsorted(new_cases, case_ids[fathers]), minlength=len(new_cases))
        n_mothers = np.bincount(np.searchsorted(new_cases, case_ids[mothers]), minlength=len(new_cases))
        at = np.searchsorted(new_cases, p_cases)
        simple_couple = (n_fathers == 1) & (n_mothers == 1)
        alone = ((n_fathers == 0) | (n_mothers == 0))[at]
        units["duo"] = slots[parents][alone][None, :]
        couple = simple_couple[new_cases.searchsorted(case_ids)] & parents
        f = slots[couple & fathers]
        m = slots[couple & mothers]
        order_f = np.argsort(case_ids[couple & fathers], kind="stable")
        order_m = np.argsort(case_ids[couple & mothers], kind="stable")
        pairs = [np.stack([f[order_f], m[order_m]])]
        # A case with several fathers or mothers: every father with every mother (rare; Python).
        for c in new_cases[(n_fathers > 0) & (n_mothers > 0) & ~simple_couple].tolist():
            fs = slots[fathers & (case_ids == c)].tolist()
            ms = slots[mothers & (case_ids == c)].tolist()
            pairs.append(np.array([[x for x in fs for _ in ms], [y for _ in fs for y in ms]], dtype=np.int64))
        units["trio_couple"] = np.concatenate(pairs, axis=1)
        base = int(slots[0])
        in_unit = np.zeros(len(slots), dtype=bool)
        for kind, owners in units.items():
            if owners.shape[1]:
                pool = self._pools[kind]
                local = owners - base
                cols = pool.add_block(tuple(codes[:, local[k]] for k in range(pool.width)), owners)
                for k in range(pool.width):
                    self._home[owners[k]] = _home(_KINDS.index(kind), cols, k)
                    in_unit[local[k]] = True
        if not in_unit.all():
            loose = slots[~in_unit]
            cols = self._loose.add_block((codes[:, ~in_unit],), loose[None, :])
            self._home[loose] = _home(_LOOSE, cols, 0)

    def remove(self, profile_id: str) -> None:
        """Remove a profile (no error if absent): it is in no later result."""
        slot = self._pids.get(profile_id)
        if slot is not None:
            self._remove_slot(slot)

    def remove_case(self, case_id: int) -> None:
        """Remove every profile of a case."""
        for slot in self._members(case_id):
            self._remove_slot(slot)

    def _remove_slot(self, slot: int) -> None:
        case_id = self._case_of(slot)
        self._pids.pop(self._pid_of(slot))
        self._people.pop(self._person_of(slot))
        self._odd.pop(slot, None)
        self._rebuild(case_id, leaving=slot)

    def _units_of(self, members: list[int]) -> list[tuple[str, tuple[int, ...]]]:
        """Return the units a case's members form: each child; a couple, else single parents; each relative."""
        side, role = self._side_of, self._role_of
        family = [s for s in members if side(s) is Side.FAMILY]
        fathers = [s for s in family if role(s) == "father"]
        mothers = [s for s in family if role(s) == "mother"]
        units: list[tuple[str, tuple[int, ...]]] = [
            (_CHILD_POOL, (s,)) for s in members if side(s) is Side.CHILD
        ]
        units += _parent_units(fathers, mothers)
        units += [(RELATIVE_RELATIONSHIP[role(s)], (s,)) for s in family if role(s) in RELATIVE_RELATIONSHIP]
        return units

    def _rebuild(
        self, case_id: int, leaving: int | None = None, new: tuple[int, Codes] | None = None
    ) -> None:
        """Replace a case's units by those its members form now: after `leaving` leaves, or with the `new`
        member (slot, codes) placed in its unit or else in the loose pool. A member's codes move with its unit."""
        saved = {
            m: self._column(m)
            for m in self._members(case_id)
            if m != leaving and m != (new and new[0]) and (int(self._home[m]) % 16) // 2 != _LOOSE
        }
        if new is not None:
            saved[new[0]] = new[1]
        for kind, col in self._units(case_id):
            self._pools[kind].remove(col)
        if leaving is not None:
            home = int(self._home[leaving])
            if (home % 16) // 2 == _LOOSE:
                self._loose.remove(home // 16)
            self._persons.remove(leaving)
            self._case_ids[leaving] = -1
            self._home[leaving] = -1
        placed: set[int] = set()
        for kind, owners in self._units_of(self._members(case_id)):
            col = self._pools[kind].add(tuple(saved[o] for o in owners), owners)
            for k, o in enumerate(owners):
                if o not in placed:
                    placed.add(o)
                    self._home[o] = _home(_KINDS.index(kind), col, k)
        if new is not None and new[0] not in placed:
            self._home[new[0]] = _home(_LOOSE, self._loose.add((new[1],), (new[0],)), 0)

    def __contains__(self, profile_id: object) -> bool:
        return isinstance(profile_id, str) and self._pids.get(profile_id) is not None

    def __len__(self) -> int:
        return len(self._persons)

    def profile_ids(self) -> list[str]:
        """Return the ids of every indexed profile."""
        return [self._pid_of(s) for s in np.flatnonzero(self._persons.valid[: self._persons.size]).tolist()]

    def entry(self, profile_id: str) -> Entry:
        """Return an indexed profile as an Entry (sex "unknown": the index keeps no recorded sex)."""
        return self._entry(self._slot(profile_id))

    def _slot(self, profile_id: str) -> int:
        slot = self._pids.get(profile_id)
        if slot is None:
            raise KeyError(f"profile {profile_id} is not in the index")
        return slot

    def _entry(self, s: int) -> Entry:
        return Entry(
            self._pid_of(s),
            self._person_of(s),
            self._case_of(s),
            self._side_of(s),
            self._role_of(s),
            "unknown",
            self._profile(s),
        )

    def profile(self, profile_id: str) -> Profile:
        """Return an indexed profile (table markers from the codes; kept whole if it has anything else)."""
        return self._profile(self._slot(profile_id))

    def _profile(self, slot: int) -> Profile:
        odd = self._odd.get(slot)
        return odd if odd is not None else self.encoder.decode(self._column(slot))

    def memory(self) -> int:
        """Return the bytes held by the index's arrays (codes, owners, per-slot bookkeeping, id maps)."""
        arrays = (self._case_ids, self._sides, self._roles, self._home, self._bulk_cases)
        pools = sum(p.nbytes for p in (self._persons, self._loose, *self._pools.values()))
        return pools + sum(a.nbytes for a in arrays) + self._pids.nbytes + self._people.nbytes

    def shard(self, i: int, n: int) -> MatchIndex:
        """Return a new index with every child and claimed adult, and the families whose case id is i modulo n.

        For a distributed re-match: each shard searches its families against every child. A shard's `compared`
        counts its own families only (add the shards' counts for the database-wide bound), and identity flags
        between two profiles kept in every shard (two children) come from every shard: write them once.
        """
        part = type(self)(self.table, self.settings)
        size = self._persons.size
        keep = self._persons.valid[:size] & (
            (self._sides[:size] != _SIDE_CODE[Side.FAMILY]) | (self._case_ids[:size] % n == i)
        )
        part.add_many(self._entry(s) for s in np.flatnonzero(keep).tolist())
        return part

    # ---- search --------------------------------------------------------------------------------------------

    def candidate_threshold(self, compared: int) -> float:
        """Return the candidate LR threshold for a search that compared `compared` pairs (see Settings)."""
        s = self.settings
        if not s.scale_threshold:
            return s.candidate_lr
        return max(s.candidate_lr, compared / s.max_expected_unrelated)

    def search(self, profile_id: str) -> SearchResult:
        """Search one indexed profile: identity against everyone, then kinship against the other side."""
        slot = self._slot(profile_id)
        return self._search(slot, self._identity(slot))

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
        for slot in self.child_slots() if children is None else children:
            yield self._search(slot, [self._identity_flag(slot, o, n) for o, n in first.get(slot, [])])
        if children is None:
            yield from self.identity_results(pairs)

    def identity_results(self, pairs: list[tuple[int, int, int]]) -> Iterator[SearchResult]:
        """Yield, for each profile other than a child that is the first of identical pairs, its flags."""
        first = self._pairs_by_first(pairs)
        child = _SIDE_CODE[Side.CHILD]
        for slot in sorted(s for s in first if self._sides[s] != child):
            flags = [self._identity_flag(slot, o, n) for o, n in first[slot]]
            yield SearchResult(self._pid_of(slot), (), tuple(flags), 0)

    @staticmethod
    def _pairs_by_first(pairs: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
        first: dict[int, list[tuple[int, int]]] = {}
        for a, b, shared in pairs:
            first.setdefault(a, []).append((b, shared))
        return first

    def child_slots(self) -> list[int]:
        """Return the person slots of every indexed child, in slot order."""
        size = self._persons.size
        kids = self._persons.valid[:size] & (self._sides[:size] == _SIDE_CODE[Side.CHILD])
        slots: list[int] = np.flatnonzero(kids).tolist()
        return slots

    def identical_pairs(self) -> list[tuple[int, int, int]]:
        """Return every pair of profiles of different persons that `search` flags as identical, once each:
        (first slot, second slot, shared markers), first < second.

        Two profiles are identical when equal on every marker typed in both and those are at least
        `min_shared_markers`. Instead of one scan of every profile per profile, profiles are grouped by which
        markers they are typed at (their kit, usually a handful of groups); for each two groups sharing enough
        markers, profiles equal on the shared markers are found by sorting their codes on those markers.
        """
        slots, codes = self._all_columns()
        if not len(slots):
            return []
        typed = codes != self.encoder.untyped[:, None]
        weights = (1 << np.arange(typed.shape[0], dtype=np.int64))[:, None]
        signature = (typed.astype(np.int64) * weights).sum(axis=0)
        kinds, which = np.unique(signature, return_inverse=True)
        masks = [typed[:, np.flatnonzero(which == k)[0]] for k in range(len(kinds))]
        found: dict[tuple[int, int], int] = {}
        for i in range(len(kinds)):
            for j in range(i, len(kinds)):
                rows = np.flatnonzero(masks[i] & masks[j])
                if len(rows) < self.settings.min_shared_markers:
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
                            if self._person_of(sa_) != self._person_of(sb):
                                found[(min(sa_, sb), max(sa_, sb))] = len(rows)
        return sorted((a, b, n) for (a, b), n in found.items())

    def _all_columns(self) -> tuple[npt.NDArray[np.int64], Codes]:
        """Return every indexed person slot (once, increasing) and its code column (markers, persons)."""
        owners, parts = [], []
        for pool in (*self._pools.values(), self._loose):
            n = pool.size
            if not len(pool):
                continue
            valid = np.flatnonzero(pool.valid[:n])
            for k in range(pool.width):
                owners.append(pool.owner[k, valid].astype(np.int64))
                parts.append(pool.codes(k)[:, valid].astype(np.uint16))
        if not owners:
            return np.zeros(0, dtype=np.int64), np.zeros((len(self.encoder.markers), 0), dtype=np.uint16)
        slots, first = np.unique(np.concatenate(owners), return_index=True)
        return slots, np.concatenate(parts, axis=1)[:, first]

    def _identity_flag(self, slot: int, other: int, shared: int) -> Flag:
        sides = {self._side_of(slot), self._side_of(other)}
        kind = FlagKind.SAMPLE_MIXUP if Side.CHILD in sides and len(sides) == 2 else FlagKind.SAME_PERSON
        return Flag(
            kind,
            (self._pid_of(slot), self._pid_of(other)),
            {
                "shared_markers": shared,
                "sides": [str(self._side_of(slot)), str(self._side_of(other))],
                "roles": [self._role_of(slot), self._role_of(other)],
                "case_ids": [self._case_of(slot), self._case_of(other)],
            },
        )

    def _search(self, slot: int, flags: list[Flag]) -> SearchResult:
        """Search one indexed profile, its identity flags given: kinship against the other side."""
        profile_id = self._pid_of(slot)
        side = self._side_of(slot)
        hits: list[_Hit] = []
        compared = 0
        if side is Side.CHILD:
            compared, hits = self._child_scan(slot)
        elif side is Side.FAMILY:
            compared, hits = self._family_scan(self._case_of(slot))
        comparisons: list[Comparison] = []
        threshold = self.candidate_threshold(compared)
        for hit in hits:
            if any(self._identical(hit.child, s) for _, s in hit.family):
                continue  # identical profiles are flagged as one person or a mix-up, never matched as kin
            comparison = self._compare(hit, compared, threshold)
            if comparison.log10_lr < math.log10(self.settings.inconclusive_lr):
                continue
            if comparison.band is Band.NOT_ENOUGH_MARKERS:
                flags.append(self._not_enough(comparison))
            elif comparison.band in (Band.CANDIDATE, Band.INCONCLUSIVE):
                comparisons.append(comparison)
        if side in (Side.CHILD, Side.CLAIMED):
            claimed, claimed_flags = self._claimed_checks(self._case_of(slot))
            comparisons += claimed
            flags += claimed_flags
            compared = max(compared, len(claimed))
        comparisons.sort(key=lambda c: -c.log10_lr)
        return SearchResult(profile_id, tuple(comparisons), tuple(flags), compared)

    def _identical(self, a: int, b: int) -> bool:
        """Return whether two indexed profiles are equal on at least `min_shared_markers` markers typed in both."""
        untyped = self.encoder.untyped
        x, y = self._column(a), self._column(b)
        both = (x != untyped) & (y != untyped)
        return bool(np.all(x[both] == y[both])) and int(both.sum()) >= self.settings.min_shared_markers

    def _identity(self, slot: int) -> list[Flag]:
        column, untyped = self._column(slot), self.encoder.untyped
        found: dict[int, int] = {}  # person slot -> shared markers
        for pool in (*self._pools.values(), self._loose):
            for k in range(pool.width) if len(pool) else ():
                shared, mismatch = identical_columns(column, untyped, pool.codes(k))
                same = (~mismatch) & (shared >= self.settings.min_shared_markers) & pool.valid[: pool.size]
                cols = np.flatnonzero(same)
                found.update(zip(pool.owner[k, cols].tolist(), shared[cols].tolist(), strict=True))
        found.pop(slot, None)
        flags = []
        for other in sorted(found):
            if self._person_of(other) != self._person_of(slot):
                flags.append(self._identity_flag(slot, other, found[other]))
        return flags

    def _scan_threshold(self) -> float:
        return math.log10(self.settings.inconclusive_lr) - 1e-6

    def _child_scan(self, slot: int) -> tuple[int, list[_Hit]]:
        """One child against every couple, single parent and relative."""
        s = self.settings
        child = self.encoder.decode(self._column(slot))
        encoding = self.encoder.encoding
        threshold = self._scan_threshold()
        hits: list[_Hit] = []
        compared = 0
        for kind, pool in self._pools.items():
            if kind == _CHILD_POOL or not len(pool):
                continue
            compared += len(pool)
            if kind == "trio_couple":
                trio = TrioScorer(encoding, child, s.mutation, s.theta)
                found, _ = trio.above(pool.codes(0), pool.codes(1), threshold)
            elif kind == "duo":
                found, _ = DuoScorer(encoding, child, s.mutation, s.theta).above(pool.codes(), threshold)
            else:
                found, _ = PairScorer(encoding, kind, child, s.mutation, s.theta).above(
                    pool.codes(), threshold
                )
            for col in found.tolist():
                if pool.valid[col]:
                    hits.append(_Hit(kind, slot, self._family_roles(kind, pool.owner[:, col].tolist())))
        return compared, hits

    def _family_roles(self, kind: str, owners: list[int]) -> tuple[tuple[str, int], ...]:
        if kind == "trio_couple":
            return (("father", owners[0]), ("mother", owners[1]))
        return (("parent" if kind == "duo" else "person1", owners[0]),)

    def _family_scan(self, case_id: int) -> tuple[int, list[_Hit]]:
        """A case's couple (or single parents) and relatives against every child."""
        s = self.settings
        children = self._pools[_CHILD_POOL]
        threshold = self._scan_threshold()
        hits: list[_Hit] = []
        compared = 0
        for kind, col in self._units(case_id) if len(children) else ():
            if kind == _CHILD_POOL:
                continue
            family = self._family_roles(kind, self._pools[kind].owner[:, col].tolist())
            scorer = FamilyScorer(
                self.encoder.encoding,
                kind,
                {role: self.encoder.decode(self._column(o)) for role, o in family},
                s.mutation,
                s.theta,
            )
            compared += len(children)
            found, _ = scorer.above(children.codes(), threshold)
            for hit in found.tolist():
                if children.valid[hit]:
                    hits.append(_Hit(kind, int(children.owner[0, hit]), family))
        return compared, hits

    def _claimed_checks(self, case_id: int) -> tuple[list[Comparison], list[Flag]]:
        """The children of a case against the adults who came with them claiming to be the parents."""
        members = self._members(case_id)
        children = [s for s in members if self._side_of(s) is Side.CHILD]
        adults = [
            s for s in members if self._side_of(s) is Side.CLAIMED and self._role_of(s) in _PARENT_ROLES
        ]
        fathers = [s for s in adults if self._role_of(s) == "father"]
        mothers = [s for s in adults if self._role_of(s) == "mother"]
        families: list[tuple[str, tuple[tuple[str, int], ...]]]
        if fathers and mothers:
            families = [("trio_couple", (("father", f), ("mother", m))) for f in fathers for m in mothers]
        else:
            families = [("duo", (("parent", a),)) for a in adults]
        comparisons, flags = [], []
        for child in children:
            for relationship, family in families:
                comparison = self._compare(_Hit(relationship, child, family), 1, self.settings.candidate_lr)
                comparisons.append(comparison)
                if comparison.band is Band.EXCLUDED:
                    flags.append(
                        Flag(
                            FlagKind.CLAIMED_PARENTS_EXCLUDED,
                            (comparison.child_profile_id, *comparison.family_profile_ids),
                            {
                                "case_id": case_id,
                                "relationship": relationship,
                                "log10_lr": _json_float(comparison.log10_lr),
                                "inconsistent_markers": list(comparison.inconsistent_markers),
                            },
                        )
                    )
        return comparisons, flags

    # ---- one pair, exactly ---------------------------------------------------------------------------------

    def _compare(self, hit: _Hit, compared: int, candidate_lr: float) -> Comparison:
        """Recompute one comparison with `matching.kinship` (exact per-marker evidence) and band it."""
        s = self.settings
        rel = RELATIONSHIPS[hit.relationship]
        child_role = next(r for r in rel.roles if r not in dict(hit.family))
        persons = {child_role: self._profile(hit.child), **{r: self._profile(o) for r, o in hit.family}}
        shown = {child_role: "child"} | {
            r: (self._role_of(o) if r == "parent" else "relative" if r == "person1" else r)
            for r, o in hit.family
        }
        in_table = self.table.loci
        child = persons[child_role]
        shared = [
            m
            for m in self.table.markers
            if rel.typed_enough([r for r, p in persons.items() if p.genotype(m) is not None])
        ]
        skipped = sorted(
            m
            for m in child.genotypes
            if m not in in_table and any(persons[r].genotype(m) is not None for r, _ in hit.family)
        )
        log10_lr = 0.0
        inconsistent: tuple[str, ...] = ()
        evidence: tuple[MarkerEvidence, ...] = ()
        usable = {
            r: Profile({m: g for m, g in p.genotypes.items() if m in shared}) for r, p in persons.items()
        }
        if shared and all(p.genotypes for p in usable.values()):
            result = kinship_lr(KinshipCase(hit.relationship, usable, s.mutation, s.theta), self.table)
            log10_lr, inconsistent = result.log10_lr, result.inconsistent_markers
            evidence = tuple(
                MarkerEvidence(
                    m,
                    {shown[r]: p.genotype(m) for r, p in persons.items()},
                    math.log10(lr) if (lr := result.per_marker[m]) > 0 else -math.inf,
                    m in inconsistent,
                )
                for m in shared
            )
        band = self._band(log10_lr, len(inconsistent), len(shared), candidate_lr)
        family_ids = tuple(sorted(self._pid_of(o) for _, o in hit.family))
        return Comparison(
            relationship=hit.relationship,
            child_profile_id=self._pid_of(hit.child),
            family_profile_ids=family_ids,
            child_case_id=self._case_of(hit.child),
            family_case_id=self._case_of(hit.family[0][1]),
            log10_lr=log10_lr,
            band=band,
            inconsistent_markers=tuple(inconsistent),
            shared_markers=tuple(shared),
            skipped_markers=tuple(skipped),
            evidence=evidence,
            compared=compared,
            expected_unrelated=compared * 10.0 ** -max(log10_lr, 0.0),  # a probability is at most 1
            ask_for=self._ask_for(hit.relationship, band, len(shared)),
        )

    def _band(self, log10_lr: float, inconsistent: int, shared: int, candidate_lr: float) -> Band:
        """Band a comparison: too few markers, excluded, candidate, else inconclusive (see docs/matching.md)."""
        s = self.settings
        if shared < s.min_shared_markers:
            return Band.NOT_ENOUGH_MARKERS
        if inconsistent >= s.exclude_inconsistent or log10_lr < math.log10(s.exclude_lr):
            return Band.EXCLUDED
        if log10_lr >= math.log10(candidate_lr):
            return Band.CANDIDATE
        return Band.INCONCLUSIVE

    def _ask_for(self, relationship: str, band: Band, shared: int) -> str | None:
        if band not in (Band.INCONCLUSIVE, Band.NOT_ENOUGH_MARKERS):
            return None
        asks = ["the other parent"] if relationship == "duo" else []
        if shared < len(self.table.markers):
            asks.append(f"more markers ({shared} shared)")
        if relationship in RELATIVE_RELATIONSHIP.values():
            asks.append("a parent of the missing child")
        return " or ".join(asks) or None

    def _not_enough(self, comparison: Comparison) -> Flag:
        return Flag(
            FlagKind.NOT_ENOUGH_MARKERS,
            (comparison.child_profile_id, *comparison.family_profile_ids),
            {
                "relationship": comparison.relationship,
                "log10_lr": _json_float(comparison.log10_lr),
                "shared_markers": len(comparison.shared_markers),
                "min_shared_markers": self.settings.min_shared_markers,
                "ask_for": comparison.ask_for,
            },
        )


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None
