"""What a search returns: comparisons (with their band and per-marker evidence) and flags."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from matching.bands import Band  # the type of Comparison.band


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


def json_float(value: float) -> float | None:
    """A flag's detail is JSON: an infinite log10 LR (an LR of 0) is stored as null."""
    return value if math.isfinite(value) else None
