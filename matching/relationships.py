"""The relationships reunite tests, each as two pedigrees: H1 the stated relationship, H2 the persons unrelated.

Names starting with '_' are relatives nobody typed. Pairwise relationships are the pedigrees behind their IBD
coefficients, so without mutation and theta they give exactly the kappa formula, and with mutation every
parent-to-child step of the pedigree mutates (person1 is the elder: the grandparent, the uncle or aunt).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from matching.errors import CaseError
from matching.pedigree import Pedigree, ped

Kappa = tuple[float, float, float]


@dataclass(frozen=True)
class Relationship:
    """A named relationship: its roles, the H1 and H2 pedigrees, and its IBD coefficients when pairwise."""

    name: str
    roles: tuple[str, ...]
    h1: Pedigree
    h2: Pedigree
    needed: tuple[frozenset[str], ...]
    kappa: Kappa | None = None

    def typed_enough(self, typed: Collection[str]) -> bool:
        """Return whether a marker typed in these roles can say anything (else it counts 1, as untyped)."""
        return all(any(role in typed for role in group) for group in self.needed)


def _pairwise(name: str, h1: Pedigree, kappa: Kappa) -> Relationship:
    return Relationship(
        name,
        ("person1", "person2"),
        h1,
        ped("person1", "person2"),
        (frozenset({"person1"}), frozenset({"person2"})),
        kappa,
    )


_HALF: Kappa = (0.5, 0.5, 0.0)

RELATIONSHIPS: dict[str, Relationship] = {
    r.name: r
    for r in (
        Relationship(
            "duo",
            ("parent", "child"),
            ped("parent", "_other_parent", ("child", "parent", "_other_parent")),
            ped("parent", "child"),
            (frozenset({"parent"}), frozenset({"child"})),
            (0.0, 1.0, 0.0),
        ),
        Relationship(
            "trio_couple",
            ("father", "mother", "child"),
            ped("father", "mother", ("child", "father", "mother")),
            ped("father", "mother", "child"),
            (frozenset({"child"}), frozenset({"father", "mother"})),
        ),
        Relationship(
            "trio_known_mother",
            ("mother", "alleged_father", "child"),
            ped("alleged_father", "mother", ("child", "alleged_father", "mother")),
            ped("alleged_father", "mother", "_true_father", ("child", "_true_father", "mother")),
            (frozenset({"child"}), frozenset({"alleged_father"})),
        ),
        _pairwise(
            "full_siblings",
            ped("_father", "_mother", ("person1", "_father", "_mother"), ("person2", "_father", "_mother")),
            (0.25, 0.5, 0.25),
        ),
        _pairwise(
            "half_siblings",
            ped(
                "_shared",
                "_other1",
                "_other2",
                ("person1", "_shared", "_other1"),
                ("person2", "_shared", "_other2"),
            ),
            _HALF,
        ),
        _pairwise(
            "grandparent",
            ped(
                "person1",
                "_spouse",
                ("_parent", "person1", "_spouse"),
                "_parent_spouse",
                ("person2", "_parent", "_parent_spouse"),
            ),
            _HALF,
        ),
        _pairwise(
            "avuncular",
            ped(
                "_grandfather",
                "_grandmother",
                ("person1", "_grandfather", "_grandmother"),
                ("_parent", "_grandfather", "_grandmother"),
                "_parent_spouse",
                ("person2", "_parent", "_parent_spouse"),
            ),
            _HALF,
        ),
        _pairwise(
            "first_cousins",
            ped(
                "_grandfather",
                "_grandmother",
                ("_parent1", "_grandfather", "_grandmother"),
                ("_parent2", "_grandfather", "_grandmother"),
                "_spouse1",
                "_spouse2",
                ("person1", "_parent1", "_spouse1"),
                ("person2", "_parent2", "_spouse2"),
            ),
            (0.75, 0.25, 0.0),
        ),
        # Identity is no pedigree: H1 is one person sampled twice (handled apart in matching.kinship).
        _pairwise("identity", ped("person1"), (0.0, 0.0, 1.0)),
    )
}

KAPPA = "kappa"  # a pairwise relationship given by explicit IBD coefficients


def relationship(name: str) -> Relationship:
    """Return the named relationship, or raise CaseError listing the known names."""
    try:
        return RELATIONSHIPS[name]
    except (KeyError, TypeError):
        known = ", ".join([*RELATIONSHIPS, KAPPA])
        raise CaseError(f"unknown relationship {name!r}: use one of {known}") from None


def check_kappa(kappa: object) -> Kappa:
    """Return IBD coefficients (k0, k1, k2) checked to be probabilities summing to 1."""
    try:
        k0, k1, k2 = (float(k) for k in kappa)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise CaseError("kappa must be three numbers (k0, k1, k2)") from None
    if min(k0, k1, k2) < 0 or abs(k0 + k1 + k2 - 1.0) > 1e-9:
        raise CaseError("kappa must be three non-negative numbers summing to 1")
    return (k0, k1, k2)


def kappa_relationship(kappa: object) -> Relationship:
    """Return the pairwise relationship of explicit IBD coefficients (computed by the kappa formula only)."""
    return _pairwise(KAPPA, ped("person1"), check_kappa(kappa))
