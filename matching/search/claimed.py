"""The claimed-parent check: a case's children against the adults who came with them claiming to be the parents,
reported whatever the band; an exclusion raises `claimed_parents_excluded`."""

from __future__ import annotations

from matching.bands import Band
from matching.search.compare import Hit, compare
from matching.search.entry import Side
from matching.search.results import Comparison, Flag, FlagKind, json_float
from matching.search.store import IndexStore
from matching.search.units import PARENT_ROLES, family_roles, parent_units


def claimed_checks(store: IndexStore, case_id: int) -> tuple[list[Comparison], list[Flag]]:
    """The children of a case against the adults who came with them claiming to be the parents."""
    members = store.members(case_id)
    children = [s for s in members if store.side_of(s) is Side.CHILD]
    adults = [s for s in members if store.side_of(s) is Side.CLAIMED and store.role_of(s) in PARENT_ROLES]
    fathers = [s for s in adults if store.role_of(s) == "father"]
    mothers = [s for s in adults if store.role_of(s) == "mother"]
    families = [(kind, family_roles(kind, list(owners))) for kind, owners in parent_units(fathers, mothers)]
    comparisons, flags = [], []
    for child in children:
        for relationship, family in families:
            comparison = compare(store, Hit(relationship, child, family), 1, store.settings.candidate_lr)
            comparisons.append(comparison)
            if comparison.band is Band.EXCLUDED:
                flags.append(
                    Flag(
                        FlagKind.CLAIMED_PARENTS_EXCLUDED,
                        (comparison.child_profile_id, *comparison.family_profile_ids),
                        {
                            "case_id": case_id,
                            "relationship": relationship,
                            "log10_lr": json_float(comparison.log10_lr),
                            "inconsistent_markers": list(comparison.inconsistent_markers),
                        },
                    )
                )
    return comparisons, flags
