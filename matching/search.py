"""Who is compared with whom: the in-memory index of typed profiles and the search of one profile against it.

Pure computation (numpy and matching.*): the DB service maps its rows to `Entry`, keeps one `MatchIndex` in the
worker, and stores each `Comparison` as a candidate row and each `Flag` as a flag row. See docs/matching.md,
"Who is compared with whom", and /work/wt/matching-interface.md for the contract.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from matching.frequencies import FrequencyTable
from matching.mutation import MutationModel
from matching.profiles import Profile

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
    """Return a SEX_MISMATCH flag when the entry's Amelogenin contradicts its recorded sex, else None."""
    raise NotImplementedError


class MatchIndex:
    """Every current typed profile as compact code arrays, searchable by profile id."""

    def __init__(self, table: FrequencyTable, settings: Settings | None = None) -> None:
        self.table = table
        self.settings = settings or Settings()

    def add(self, entry: Entry) -> list[Flag]:
        """Add or replace an entry (same profile_id or person_id); a sex conflict is flagged and not added."""
        raise NotImplementedError

    def add_many(self, entries: Iterable[Entry]) -> list[Flag]:
        """Add many entries at once (the start-up build)."""
        raise NotImplementedError

    def remove(self, profile_id: str) -> None:
        """Remove a profile (no error if absent)."""
        raise NotImplementedError

    def remove_case(self, case_id: int) -> None:
        """Remove every profile of a case."""
        raise NotImplementedError

    def __contains__(self, profile_id: object) -> bool:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def search(self, profile_id: str) -> SearchResult:
        """Search one indexed profile against the other side (see the module docstring)."""
        raise NotImplementedError

    def shard(self, i: int, n: int) -> MatchIndex:
        """Return the index with only the families whose case id is i modulo n (children all kept)."""
        raise NotImplementedError
