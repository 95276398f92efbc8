"""Pedigrees: persons with their parents, founders first. Hypotheses in kinship testing are pedigrees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PedigreePerson:
    """A person of a pedigree; a founder has neither parent, a non-founder has both."""

    name: str
    father: str | None = None
    mother: str | None = None

    @property
    def is_founder(self) -> bool:
        """Return whether the person's parents are outside the pedigree."""
        return self.father is None


@dataclass(frozen=True)
class Pedigree:
    """Persons listed parents before children; names starting with '_' are never typed (unknown relatives)."""

    persons: tuple[PedigreePerson, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for person in self.persons:
            if (person.father is None) != (person.mother is None):
                raise ValueError(f"{person.name}: give both parents or neither")
            for parent in (person.father, person.mother):
                if parent is not None and parent not in seen:
                    raise ValueError(f"{person.name}: parent {parent} must come earlier in the pedigree")
            if person.name in seen:
                raise ValueError(f"{person.name} is listed twice")
            seen.add(person.name)

    def children(self, name: str) -> tuple[PedigreePerson, ...]:
        """Return the persons of whom `name` is a parent."""
        return tuple(p for p in self.persons if name in (p.father, p.mother))


def ped(*persons: tuple[str, ...] | str) -> Pedigree:
    """Return a pedigree from names (founders) and (name, father, mother) triples."""
    out = []
    for p in persons:
        out.append(PedigreePerson(p) if isinstance(p, str) else PedigreePerson(p[0], p[1], p[2]))
    return Pedigree(tuple(out))
