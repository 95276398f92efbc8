"""How a case's members form the units a search scores: each child; a couple (every father with every mother),
else each parent alone; each relative by its relationship. One definition for the one-case rebuild (`units_of`)
and the bulk build (`block_units`, the same rules vectorised over many new cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from matching.family_scan import RELATIVE_RELATIONSHIP
from matching.search.entry import Side

CHILD_POOL = "child"
PARENT_ROLES = ("father", "mother")
# Every pool of units, in scan order: children, couples, single parents, then one per relative relationship.
KINDS: tuple[str, ...] = (CHILD_POOL, "trio_couple", "duo", *RELATIVE_RELATIONSHIP.values())
SIDES: tuple[Side, ...] = tuple(Side)
SIDE_CODE = {side: i for i, side in enumerate(SIDES)}
LOOSE = len(KINDS)  # the home pool of profiles in no unit (claimed adults, other relatives)


def home(kind: int, col: Any, k: int) -> Any:
    """Encode where a person's codes live: pool (a `KINDS` index or `LOOSE`), column, code array."""
    return col * 16 + kind * 2 + k


def home_kind(code: int) -> int:
    """The pool (a `KINDS` index or `LOOSE`) of a `home` code."""
    return (code % 16) // 2


def parent_units(fathers: list[int], mothers: list[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Return a case's parent units: every father with every mother as a couple, else each parent alone."""
    if fathers and mothers:
        return [("trio_couple", (f, m)) for f in fathers for m in mothers]
    return [("duo", (s,)) for s in fathers + mothers]


def family_roles(kind: str, owners: list[int]) -> tuple[tuple[str, int], ...]:
    """The roles of a unit's members in its relationship: father and mother, a parent, or `person1`."""
    if kind == "trio_couple":
        return (("father", owners[0]), ("mother", owners[1]))
    return (("parent" if kind == "duo" else "person1", owners[0]),)


def units_of(members: list[tuple[int, Side, str]]) -> list[tuple[str, tuple[int, ...]]]:
    """Return the units a case's members (slot, side, role) form."""
    family = [(s, role) for s, side, role in members if side is Side.FAMILY]
    fathers = [s for s, role in family if role == "father"]
    mothers = [s for s, role in family if role == "mother"]
    units: list[tuple[str, tuple[int, ...]]] = [
        (CHILD_POOL, (s,)) for s, side, _ in members if side is Side.CHILD
    ]
    units += parent_units(fathers, mothers)
    units += [(RELATIVE_RELATIONSHIP[role], (s,)) for s, role in family if role in RELATIVE_RELATIONSHIP]
    return units


def block_units(
    slots: npt.NDArray[np.int64],
    sides: npt.NDArray[np.int8],
    roles: npt.NDArray[np.int8],
    role_code: dict[str, int],
    case_ids: npt.NDArray[np.int64],
) -> dict[str, npt.NDArray[np.int64]]:
    """Return the units of many whole new cases as owner arrays (width, units) per pool: `units_of` vectorised.

    Children and relatives one each; parents by case: a couple, else single parents (a case with several
    fathers or mothers, rare, pairs every father with every mother in Python).
    """
    new_cases = np.unique(case_ids)
    child = SIDE_CODE[Side.CHILD]
    family = sides == SIDE_CODE[Side.FAMILY]
    units: dict[str, npt.NDArray[np.int64]] = {CHILD_POOL: slots[sides == child][None, :]}
    for role, kind in RELATIVE_RELATIONSHIP.items():
        units[kind] = slots[family & (roles == role_code.get(role, -1))][None, :]
    fathers = family & (roles == role_code.get("father", -1))
    mothers = family & (roles == role_code.get("mother", -1))
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
    for c in new_cases[(n_fathers > 0) & (n_mothers > 0) & ~simple_couple].tolist():
        fs = slots[fathers & (case_ids == c)].tolist()
        ms = slots[mothers & (case_ids == c)].tolist()
        pairs.append(np.array([owners for _, owners in parent_units(fs, ms)], dtype=np.int64).T)
    units["trio_couple"] = np.concatenate(pairs, axis=1)
    return units
