"""What the index knows of one profile (`Entry`) and which side of the search it is on (`Side`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from matching.profiles import Profile


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
