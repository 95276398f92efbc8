"""The sex check: a profile whose Amelogenin contradicts its recorded sex is flagged and kept out of the index."""

from __future__ import annotations

from matching.search.entry import Entry
from matching.search.results import Flag, FlagKind


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
