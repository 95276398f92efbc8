"""The reporting bands of the Chinese paternity-testing standard (GB/T 37223-2018, SF/Z JD0105001-2016).

A combined LR (the standard's cumulative paternity index, CPI) of 10,000 or more supports parentage; below 0.0001
it excludes; three or more Mendel-inconsistent markers exclude whatever the LR; anything in between is
inconclusive: type more markers, or the other parent.
"""

from __future__ import annotations

import enum

SUPPORT_LR = 10_000.0
EXCLUDE_LR = 0.0001
EXCLUDE_INCONSISTENT = 3


class Band(enum.Enum):
    """What a combined LR says under the standard."""

    SUPPORTS = "supports parentage"
    EXCLUDES = "excludes parentage"
    INCONCLUSIVE = "inconclusive: type more markers or the other parent"


def classify_parentage(lr: float, inconsistent_markers: int = 0) -> Band:
    """Return the standard's band for a combined LR and a count of Mendel-inconsistent markers."""
    if inconsistent_markers >= EXCLUDE_INCONSISTENT or lr < EXCLUDE_LR:
        return Band.EXCLUDES
    if lr >= SUPPORT_LR:
        return Band.SUPPORTS
    return Band.INCONCLUSIVE
