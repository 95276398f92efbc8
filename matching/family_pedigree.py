"""A family case's typed members placed in one pedigree with its missing child: the joint hypothesis of a search.

`family_pedigree(members)` is the one place where role names become a pedigree. The missing child is "child", a
non-founder whose father and mother are the typed father and mother or untyped founders "_father" and "_mother":

- full siblings are children of the father and the mother;
- a paternal (maternal) half sibling is a child of the father (mother) and an untyped founder of their own;
- paternal (maternal) grandparents are the father's (mother's) parents, an untyped founder standing for one not
  typed; aunts and uncles of a side are further children of that side's grandparents.

H1 is that pedigree; H2 the same pedigree with the child taken out of it as an unrelated founder. So LR = P(child
and relatives | the child is this family's missing child) / P(the same | the child is unrelated), both by the
exact pedigree likelihood (`matching.likelihood`, mutation on every transmission, theta if set) through
`matching.kinship.kinship_lr` with the returned `Relationship`.

The unsided roles of older cases (`grandparent`, `half_sibling`, `aunt_uncle`) and `other_relative` name no side of
the family, so they are left out of the pedigree (`FamilyPedigree.left_out`) and searched as before, each on its
own by its pairwise relationship. A case with two typed fathers, two mothers or two persons in one grandparent
role is not one pedigree either: `family_pedigree` raises `CaseError` and the case keeps its separate units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.errors import CaseError
from matching.pedigree import Pedigree, Person
from matching.relationships import Relationship

CHILD = "child"  # the missing child's name in every family pedigree

PARENTS = ("father", "mother")
GRANDPARENTS = {
    "paternal_grandfather": ("father", 0),
    "paternal_grandmother": ("father", 1),
    "maternal_grandfather": ("mother", 0),
    "maternal_grandmother": ("mother", 1),
}
AUNTS_UNCLES = {"paternal_aunt_uncle": "father", "maternal_aunt_uncle": "mother"}
HALF_SIBLINGS = {"paternal_half_sibling": "father", "maternal_half_sibling": "mother"}
FULL_SIBLING = "full_sibling"
PLACED_ROLES = frozenset((*PARENTS, *GRANDPARENTS, *AUNTS_UNCLES, *HALF_SIBLINGS, FULL_SIBLING))
# Roles of older cases that say no side: scored on their own by a pairwise relationship, never placed.
UNSIDED_ROLES = frozenset({"grandparent", "half_sibling", "aunt_uncle", "other_relative"})
ROLE_SEX = {
    "father": "male", "mother": "female", "paternal_grandfather": "male", "maternal_grandfather": "male",
    "paternal_grandmother": "female", "maternal_grandmother": "female",
}  # fmt: skip
# The order the typed roles are named in (who was typed, as a candidate shows it).
ROLE_ORDER = (
    "father", "mother", FULL_SIBLING, "paternal_half_sibling", "maternal_half_sibling", "paternal_grandfather",
    "paternal_grandmother", "maternal_grandfather", "maternal_grandmother", "paternal_aunt_uncle",
    "maternal_aunt_uncle",
)  # fmt: skip


@dataclass(frozen=True)
class Member:
    """A typed member of a family case: a unique name (the profile id), the role string and the recorded sex."""

    name: str
    role: str
    sex: str = "unknown"


@dataclass(frozen=True)
class FamilyPedigree:
    """The joint pedigree of a case: H1 and H2 as a `Relationship`, who is in it (by role) and who is not."""

    relationship: Relationship
    roles: dict[str, str]  # typed member name -> role
    sexes: dict[str, str]  # every person of H1 -> "male" | "female" | "unknown"
    left_out: tuple[Member, ...]

    @property
    def typed_roles(self) -> tuple[str, ...]:
        """Return the roles of the typed members, in `ROLE_ORDER`, one entry per person: who was typed."""
        return tuple(sorted(self.roles.values(), key=ROLE_ORDER.index))

    @property
    def shape(self) -> tuple[str, ...]:
        """Return the pedigree's shape: its typed roles (families of one shape share one pedigree structure)."""
        return self.typed_roles


def family_pedigree(members: Sequence[Member]) -> FamilyPedigree:
    """Return the joint pedigree of a family case's typed members with the missing child ("child").

    Raises CaseError when no member can be placed, a name is "child" or starts with "_", or a role that one
    person holds (father, mother, a grandparent) is held by two.
    """
    placed = [m for m in members if m.role in PLACED_ROLES]
    left_out = tuple(m for m in members if m.role not in PLACED_ROLES)
    if not placed:
        raise CaseError("no member of the case has a role that places them in the pedigree")
    names = [m.name for m in placed]
    if len(set(names)) != len(names) or any(n == CHILD or n.startswith("_") for n in names):
        raise CaseError("member names must be unique, not 'child' and not start with '_'")
    single: dict[str, str] = {}
    for m in placed:
        if m.role in PARENTS or m.role in GRANDPARENTS:
            if m.role in single:
                raise CaseError(f"two persons are typed as the {m.role.replace('_', ' ')}: not one pedigree")
            single[m.role] = m.name
    by_role = {r: [m.name for m in placed if m.role == r] for r in PLACED_ROLES}
    father = single.get("father", "_father")
    mother = single.get("mother", "_mother")
    sexes = {father: "male", mother: "female"}
    founders: list[Person] = []
    persons: list[Person] = []
    for parent, side in (("father", father), ("mother", mother)):
        grandparents = [single.get(r, f"_{parent}_{i}") for r, (p, i) in GRANDPARENTS.items() if p == parent]
        aunts = [n for r, p in AUNTS_UNCLES.items() if p == parent for n in by_role[r]]
        has_parents = aunts or any(not g.startswith("_") for g in grandparents)
        if has_parents:
            founders += [Person(g) for g in grandparents]
            sexes.update(zip(grandparents, ("male", "female"), strict=True))
            persons.append(Person(side, grandparents[0], grandparents[1]))
            persons += [Person(a, grandparents[0], grandparents[1]) for a in aunts]
        else:
            founders.append(Person(side))
    children = [Person(s, father, mother) for s in by_role[FULL_SIBLING]]
    for role, parent in HALF_SIBLINGS.items():
        for s in by_role[role]:
            other = f"_{s}_other_parent"
            founders.append(Person(other))
            sexes[other] = "female" if parent == "father" else "male"
            children.append(Person(s, father, other) if parent == "father" else Person(s, other, mother))
    # Founders first, then the parents' generation (a parent with its parents after them), then the children.
    h1 = Pedigree((*founders, *persons, *children, Person(CHILD, father, mother)))
    h2 = Pedigree((*founders, *persons, *children, Person(CHILD)))
    roles = {m.name: m.role for m in placed}
    for m in placed:
        sexes[m.name] = ROLE_SEX.get(m.role, m.sex)
    sexes.setdefault(CHILD, "unknown")
    relationship = Relationship(
        "pedigree",
        (*roles, CHILD),
        h1,
        h2,
        (frozenset({CHILD}), frozenset(roles)),
    )
    return FamilyPedigree(relationship, roles, sexes, left_out)
