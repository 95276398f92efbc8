"""The reporting bands of the Chinese paternity-testing standard (GB/T 37223-2018, SF/Z JD0105001-2016): the one
`Band` type and the one function (`band_of`) that bands a comparison, used by the search, the service, the
console, the outbox and the alerts (which store and show the band by its value, an English word).

A combined LR (the standard's cumulative paternity index, CPI) of 10,000 or more supports parentage; below 0.0001
it excludes; three or more Mendel-inconsistent markers exclude whatever the LR; anything in between is
inconclusive: type more markers, or the other parent. A comparison over fewer than `MIN_SHARED_MARKERS` markers
says nothing either way.
"""

from __future__ import annotations

import enum
import math

SUPPORT_LR = 10_000.0
EXCLUDE_LR = 0.0001
EXCLUDE_INCONSISTENT = 3
MIN_SHARED_MARKERS = 15


class Band(enum.StrEnum):
    """The band of one comparison (its value is what the database stores and the console translates)."""

    CANDIDATE = "candidate"  # supports the relationship (LR at or above the candidate threshold)
    INCONCLUSIVE = "inconclusive"
    EXCLUDED = "excluded"
    NOT_ENOUGH_MARKERS = "not_enough_markers"


def band_of(
    log10_lr: float,
    inconsistent: int,
    shared: int,
    *,
    candidate_lr: float = SUPPORT_LR,
    exclude_lr: float = EXCLUDE_LR,
    exclude_inconsistent: int = EXCLUDE_INCONSISTENT,
    min_shared_markers: int = MIN_SHARED_MARKERS,
) -> Band:
    """Band a comparison by its combined log10 LR, its Mendel-inconsistent and its shared markers.

    Too few shared markers first (never a candidate, never an exclusion), then exclusion (`exclude_inconsistent`
    or more inconsistent markers, or an LR below `exclude_lr`; exactly `exclude_lr` does not exclude), then
    candidate (an LR at or above `candidate_lr`), else inconclusive. The thresholds default to the standard's.
    """
    if shared < min_shared_markers:
        return Band.NOT_ENOUGH_MARKERS
    if inconsistent >= exclude_inconsistent or log10_lr < math.log10(exclude_lr):
        return Band.EXCLUDED
    if log10_lr >= math.log10(candidate_lr):
        return Band.CANDIDATE
    return Band.INCONCLUSIVE
