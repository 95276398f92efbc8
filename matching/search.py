"""Who is compared with whom: the in-memory index of typed profiles and the search of one profile against it.

Pure computation (numpy and matching.*): the DB service maps its rows to `Entry`, keeps one `MatchIndex` in the
worker, and stores each `Comparison` as a candidate row and each `Flag` as a flag row. See docs/matching.md,
"Who is compared with whom", and /work/wt/matching-interface.md for the contract.
"""

from __future__ import annotations

import enum
import gc
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from matching.batch import DuoScorer, TrioScorer
from matching.family_scan import RELATIVE_RELATIONSHIP, FamilyScorer, PairScorer
from matching.fast import Codes
from matching.frequencies import FrequencyTable
from matching.index import Encoder, Pool, identical_columns
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


@dataclass(slots=True)
class _Case:
    members: list[int] = field(default_factory=list)  # person slots
    units: list[tuple[str, int]] = field(default_factory=list)  # (pool, column)


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
    """

    def __init__(self, table: FrequencyTable, settings: Settings | None = None) -> None:
        self.table = table
        self.settings = settings or Settings()
        self.encoder = Encoder(table)
        untyped = self.encoder.untyped
        self._persons = Pool(untyped)
        self._pools: dict[str, Pool] = {
            _CHILD_POOL: Pool(untyped),
            "trio_couple": Pool(untyped, 2),
            "duo": Pool(untyped),
            **{rel: Pool(untyped) for rel in RELATIVE_RELATIONSHIP.values()},
        }
        self._pid: list[str] = []
        self._person: list[int] = []
        self._case: list[int] = []
        self._side: list[Side] = []
        self._role: list[str] = []
        self._odd: dict[int, Profile] = {}
        self._by_pid: dict[str, int] = {}
        self._by_person: dict[int, int] = {}
        self._cases: dict[int, _Case] = {}

    # ---- storage -------------------------------------------------------------------------------------------

    def add(self, entry: Entry) -> list[Flag]:
        """Add or replace an entry (same profile_id or person_id); a sex conflict is flagged and not added."""
        flag = sex_conflict(entry)
        if flag is not None:
            self.remove(entry.profile_id)
            return [flag]
        self.remove(entry.profile_id)
        if entry.person_id in self._by_person:
            self._remove_slot(self._by_person[entry.person_id])
        column, odd = self.encoder.encode(entry.profile)
        self._put(entry, column, odd)
        self._rebuild(entry.case_id)
        return []

    def add_many(self, entries: Iterable[Entry], chunk: int = 100_000) -> list[Flag]:
        """Add many entries (the start-up build), streaming: profiles of cases not yet indexed go in blocks of
        `chunk`; replacements, and members of a case already indexed, go one by one through `add` at the end.

        The cyclic garbage collector is paused meanwhile: the index creates millions of small containers and no
        cycles, and the collector's repeated passes over them would take most of the build time.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._add_many(entries, chunk)
        finally:
            if enabled:
                gc.enable()

    def _add_many(self, entries: Iterable[Entry], chunk: int) -> list[Flag]:
        flags: list[Flag] = []
        fresh: list[Entry] = []
        later: list[Entry] = []
        pids: set[str] = set()
        persons: set[int] = set()
        later_keys: set[object] = set()
        for entry in entries:
            if (
                entry.profile_id in self._by_pid
                or entry.profile_id in pids
                or entry.person_id in self._by_person
                or entry.person_id in persons
                or entry.case_id in self._cases
                or entry.profile_id in later_keys
                or ("person", entry.person_id) in later_keys
            ):
                later.append(entry)
                later_keys.update((entry.profile_id, ("person", entry.person_id)))
                continue
            if entry.sex != "unknown" and (flag := sex_conflict(entry)) is not None:
                flags.append(flag)
                continue
            pids.add(entry.profile_id)
            persons.add(entry.person_id)
            fresh.append(entry)
            if len(fresh) >= chunk:
                self._flush(fresh, pids, persons)
        self._flush(fresh, pids, persons)
        for entry in later:
            flags += self.add(entry)
        return flags

    def _flush(self, fresh: list[Entry], pids: set[str], persons: set[int]) -> None:
        if fresh:
            self._add_block(fresh)
        fresh.clear()
        pids.clear()
        persons.clear()

    def _add_block(self, entries: list[Entry]) -> None:
        """Append entries of cases not yet indexed, and their units, with a few numpy operations per pool."""
        codes, odd = self.encoder.encode_many([e.profile for e in entries])
        slots = self._persons.add_block((codes,), np.array([[e.person_id for e in entries]], dtype=np.int64))
        slot_list = slots.tolist()
        self._pid.extend(e.profile_id for e in entries)
        self._person.extend(e.person_id for e in entries)
        self._case.extend(e.case_id for e in entries)
        self._side.extend(e.side if type(e.side) is Side else Side(e.side) for e in entries)
        self._role.extend(e.role for e in entries)
        self._by_pid.update(zip(self._pid[slot_list[0] :], slot_list, strict=True))
        self._by_person.update(zip(self._person[slot_list[0] :], slot_list, strict=True))
        for i in np.flatnonzero(odd).tolist():
            self._odd[slot_list[i]] = entries[i].profile
        cases = self._cases
        units: dict[str, list[tuple[int, tuple[int, ...]]]] = {kind: [] for kind in self._pools}
        parents: dict[int, tuple[list[int], list[int]]] = {}
        for slot, entry in zip(slot_list, entries, strict=True):
            case_id = entry.case_id
            case = cases.get(case_id)
            if case is None:
                case = cases[case_id] = _Case()
            case.members.append(slot)
            side, role = self._side[slot], entry.role
            if side is Side.CHILD:
                units[_CHILD_POOL].append((case_id, (slot,)))
            elif side is Side.FAMILY:
                if role == "father" or role == "mother":
                    pair = parents.get(case_id)
                    if pair is None:
                        pair = parents[case_id] = ([], [])
                    pair[role == "mother"].append(slot)
                elif role in RELATIVE_RELATIONSHIP:
                    units[RELATIVE_RELATIONSHIP[role]].append((case_id, (slot,)))
        for case_id, (fathers, mothers) in parents.items():
            for kind, owners in _parent_units(fathers, mothers):
                units[kind].append((case_id, owners))
        all_codes = self._persons._codes[0]
        for kind, rows in units.items():
            if not rows:
                continue
            pool = self._pools[kind]
            owner_slots = np.array([o for _, o in rows], dtype=np.int64).T
            cols = pool.add_block(tuple(all_codes[:, owner_slots[k]] for k in range(pool.width)), owner_slots)
            for (case_id, _), col in zip(rows, cols.tolist(), strict=True):
                cases[case_id].units.append((kind, col))

    def _put(self, entry: Entry, column: Codes | None, odd: bool) -> int:
        slot = self._persons.add(
            (column if column is not None else self.encoder.untyped,), (entry.person_id,)
        )
        values = (entry.profile_id, entry.person_id, entry.case_id, Side(entry.side), entry.role)
        if slot == len(self._pid):
            for store, value in zip(self._stores(), values, strict=True):
                store.append(value)  # type: ignore[attr-defined]
        else:
            for store, value in zip(self._stores(), values, strict=True):
                store[slot] = value  # type: ignore[index]
        if odd:
            self._odd[slot] = entry.profile
        self._by_pid[entry.profile_id] = slot
        self._by_person[entry.person_id] = slot
        self._cases.setdefault(entry.case_id, _Case()).members.append(slot)
        return slot

    def _stores(self) -> tuple[object, ...]:
        return (self._pid, self._person, self._case, self._side, self._role)

    def remove(self, profile_id: str) -> None:
        """Remove a profile (no error if absent): it is in no later result."""
        slot = self._by_pid.get(profile_id)
        if slot is not None:
            self._remove_slot(slot)

    def remove_case(self, case_id: int) -> None:
        """Remove every profile of a case."""
        case = self._cases.get(case_id)
        for slot in list(case.members if case else ()):
            self._remove_slot(slot)

    def _remove_slot(self, slot: int) -> None:
        case_id = self._case[slot]
        del self._by_pid[self._pid[slot]]
        del self._by_person[self._person[slot]]
        self._odd.pop(slot, None)
        self._persons.remove(slot)
        self._cases[case_id].members.remove(slot)
        self._rebuild(case_id)

    def _units_of(self, case: _Case) -> list[tuple[str, tuple[int, ...]]]:
        """Return the units a case's members form: each child; a couple, else single parents; each relative."""
        side, role = self._side, self._role
        family = [s for s in case.members if side[s] is Side.FAMILY]
        fathers = [s for s in family if role[s] == "father"]
        mothers = [s for s in family if role[s] == "mother"]
        units: list[tuple[str, tuple[int, ...]]] = [
            (_CHILD_POOL, (s,)) for s in case.members if side[s] is Side.CHILD
        ]
        units += _parent_units(fathers, mothers)
        units += [(RELATIVE_RELATIONSHIP[role[s]], (s,)) for s in family if role[s] in RELATIVE_RELATIONSHIP]
        return units

    def _rebuild(self, case_id: int) -> None:
        case = self._cases.get(case_id)
        if case is None:
            return
        for kind, col in case.units:
            self._pools[kind].remove(col)
        case.units = []
        if not case.members:
            del self._cases[case_id]
            return
        for kind, owners in self._units_of(case):
            pool = self._pools[kind]
            col = pool.add(tuple(self._persons.column(o) for o in owners), owners)
            case.units.append((kind, col))

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._by_pid

    def __len__(self) -> int:
        return len(self._by_pid)

    def profile(self, profile_id: str) -> Profile:
        """Return an indexed profile (table markers from the codes; kept whole if it has anything else)."""
        return self._profile(self._by_pid[profile_id])

    def _profile(self, slot: int) -> Profile:
        odd = self._odd.get(slot)
        return odd if odd is not None else self.encoder.decode(self._persons.column(slot))

    def shard(self, i: int, n: int) -> MatchIndex:
        """Return a new index with every child and claimed adult, and the families whose case id is i modulo n."""
        part = MatchIndex(self.table, self.settings)
        part.add_many(
            Entry(
                self._pid[s],
                self._person[s],
                self._case[s],
                self._side[s],
                self._role[s],
                "unknown",
                self._profile(s),
            )
            for s in self._by_pid.values()
            if self._side[s] is not Side.FAMILY or self._case[s] % n == i
        )
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
        slot = self._by_pid.get(profile_id)
        if slot is None:
            raise KeyError(f"profile {profile_id} is not in the index")
        identical, flags = self._identity(slot)
        side = self._side[slot]
        hits: list[_Hit] = []
        compared = 0
        if side is Side.CHILD:
            compared, hits = self._child_scan(slot)
        elif side is Side.FAMILY:
            compared, hits = self._family_scan(self._case[slot])
        comparisons: list[Comparison] = []
        threshold = self.candidate_threshold(compared)
        for hit in hits:
            if hit.child in identical or any(s in identical for _, s in hit.family):
                continue  # two samples of one person are linked by the identity flag, never matched as kin
            comparison = self._compare(hit, compared, threshold)
            if comparison.log10_lr < math.log10(self.settings.inconclusive_lr):
                continue
            if comparison.band is Band.NOT_ENOUGH_MARKERS:
                flags.append(self._not_enough(comparison))
            elif comparison.band in (Band.CANDIDATE, Band.INCONCLUSIVE):
                comparisons.append(comparison)
        if side in (Side.CHILD, Side.CLAIMED):
            claimed, claimed_flags = self._claimed_checks(self._case[slot])
            comparisons += claimed
            flags += claimed_flags
            compared = max(compared, len(claimed))
        comparisons.sort(key=lambda c: -c.log10_lr)
        return SearchResult(profile_id, tuple(comparisons), tuple(flags), compared)

    def _identity(self, slot: int) -> tuple[set[int], list[Flag]]:
        persons = self._persons
        shared, mismatch = identical_columns(persons.column(slot), self.encoder.untyped, persons.codes())
        same = (~mismatch) & (shared >= self.settings.min_shared_markers) & persons.valid[: persons.size]
        same[slot] = False
        identical: set[int] = set()
        flags = []
        for other in np.flatnonzero(same).tolist():
            if self._person[other] == self._person[slot]:
                continue
            identical.add(other)
            sides = {self._side[slot], self._side[other]}
            kind = FlagKind.SAMPLE_MIXUP if Side.CHILD in sides and len(sides) == 2 else FlagKind.SAME_PERSON
            flags.append(
                Flag(
                    kind,
                    (self._pid[slot], self._pid[other]),
                    {
                        "shared_markers": int(shared[other]),
                        "sides": [str(self._side[slot]), str(self._side[other])],
                        "roles": [self._role[slot], self._role[other]],
                        "case_ids": [self._case[slot], self._case[other]],
                    },
                )
            )
        return identical, flags

    def _scan_threshold(self) -> float:
        return math.log10(self.settings.inconclusive_lr) - 1e-6

    def _child_scan(self, slot: int) -> tuple[int, list[_Hit]]:
        """One child against every couple, single parent and relative."""
        s = self.settings
        child = self.encoder.decode(self._persons.column(slot))
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
        case = self._cases.get(case_id)
        threshold = self._scan_threshold()
        hits: list[_Hit] = []
        compared = 0
        for kind, col in case.units if case and len(children) else ():
            if kind == _CHILD_POOL:
                continue
            family = self._family_roles(kind, self._pools[kind].owner[:, col].tolist())
            scorer = FamilyScorer(
                self.encoder.encoding,
                kind,
                {role: self.encoder.decode(self._persons.column(o)) for role, o in family},
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
        case = self._cases.get(case_id)
        members = case.members if case else []
        children = [s for s in members if self._side[s] is Side.CHILD]
        adults = [s for s in members if self._side[s] is Side.CLAIMED and self._role[s] in _PARENT_ROLES]
        fathers = [s for s in adults if self._role[s] == "father"]
        mothers = [s for s in adults if self._role[s] == "mother"]
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
            r: (self._role[o] if r == "parent" else "relative" if r == "person1" else r)
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
        family_ids = tuple(sorted(self._pid[o] for _, o in hit.family))
        return Comparison(
            relationship=hit.relationship,
            child_profile_id=self._pid[hit.child],
            family_profile_ids=family_ids,
            child_case_id=self._case[hit.child],
            family_case_id=self._case[hit.family[0][1]],
            log10_lr=log10_lr,
            band=band,
            inconsistent_markers=tuple(inconsistent),
            shared_markers=tuple(shared),
            skipped_markers=tuple(skipped),
            evidence=evidence,
            compared=compared,
            expected_unrelated=compared * 10.0 ** (-log10_lr) if log10_lr > -math.inf else math.inf,
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
