"""The seeded random kinship cases on which `reunite kinship-lr` is compared with the brute-force reference.

A few hundred cases over every relationship, mutation model and theta, with Mendelian inconsistencies, alleles
the table lacks, untyped markers and other kits' marker names. They are dealt round-robin into SHARDS shards, one
test file each (tests/matching/test_against_reference_<k>.py), so that pytest-xdist's workers share the 75 s of
engine and reference work: every case is in exactly one shard (tests/matching/test_reference_itself.py checks it).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from tests.matching import reference as ref

RTOL = 1e-9
SEED = 20240611
THETAS = (0.0, 0.01, 0.03)
MUTATIONS: dict[str, dict[str, Any] | None] = {
    "null": None,
    "equal": {"model": "equal", "rate": 0.005},
    "proportional": {"model": "proportional", "rate": 0.005},
    "stepwise": {"model": "stepwise", "rate": 0.005, "rate2": 1e-6, "range": 0.1},
}
PAIRWISE_KAPPA = ("half_siblings", "grandparent", "avuncular", "first_cousins")


SHARDS = 4


@functools.lru_cache(maxsize=1)
def loci() -> dict[str, ref.Locus]:
    return ref.load_frequencies()


SIM_PEDIGREES: dict[str, list[tuple[str, str | None, str | None]]] = {
    "duo": [("parent", None, None), ("other", None, None), ("child", "parent", "other")],
    "trio_couple": [("father", None, None), ("mother", None, None), ("child", "father", "mother")],
    "trio_known_mother": [
        ("mother", None, None),
        ("alleged_father", None, None),
        ("child", "alleged_father", "mother"),
    ],
    **{
        rel: [(q.name, q.father, q.mother) for q in ref.pairwise_pedigree(rel)]
        for rel in ("full_siblings", *PAIRWISE_KAPPA)
    },
}
NAME_VARIANTS = {"PentaD": "Penta D", "PentaE": "PENTA_E", "vWA": "VWA", "TH01": "th01", "D8S1179": "d8s1179"}


def _simulate(
    rng: np.random.Generator, relationship: str, marker: str, related: bool
) -> dict[str, list[int]]:
    """Ordered genotypes (allele indices) of the relationship's roles at one marker."""
    locus = loci()[marker]

    def draw() -> int:
        return int(rng.choice(locus.n, p=locus.p))

    roles = ref.ROLES[relationship]
    if not related and relationship == "trio_known_mother":
        # The mother is undisputed: only the alleged father is unrelated (an excluded mother has no LR, 0/0).
        mother = [draw(), draw()]
        return {
            "mother": mother,
            "alleged_father": [draw(), draw()],
            "child": [mother[rng.integers(2)], draw()],
        }
    if not related:
        return {role: [draw(), draw()] for role in roles}
    if relationship == "identity":
        g = [draw(), draw()]
        return {"person1": g, "person2": list(g)}
    genos: dict[str, list[int]] = {}
    for name, father, mother in SIM_PEDIGREES[relationship]:
        if father is None or mother is None:
            genos[name] = [draw(), draw()]
        else:
            genos[name] = [genos[father][rng.integers(2)], genos[mother][rng.integers(2)]]
    return {role: genos[role] for role in roles}


def _foreign_allele(rng: np.random.Generator, marker: str, near: int, avoid: set[int]) -> int:
    """An allele not in `avoid`, one repeat away from `near` when the ladder has one (like a real mutation)."""
    locus = loci()[marker]
    value = float(locus.alleles[near])
    steps = [
        i for i in range(locus.n) if i not in avoid and abs(abs(float(locus.alleles[i]) - value) - 1) < 1e-9
    ]
    choices = steps or [i for i in range(locus.n) if i not in avoid]
    return int(rng.choice(choices))


def _off_table_allele(rng: np.random.Generator, marker: str) -> str:
    """An allele the table lacks: one repeat beyond the ladder, or a microvariant it does not list."""
    listed = {round(float(a), 4) for a in loci()[marker].alleles}
    integers = sorted(int(v) for v in listed if v == int(v))
    if rng.random() < 0.5:
        return str(integers[-1] + int(rng.integers(1, 3)))
    while True:
        label = f"{int(rng.choice(integers))}.{int(rng.integers(1, 4))}"
        if round(float(label), 4) not in listed:
            return label


def _write(
    rng: np.random.Generator, marker: str, g: list[int], labels: Mapping[int, str] | None = None
) -> list[str]:
    alleles = {i: a for i, a in enumerate(loci()[marker].alleles)}
    alleles.update(labels or {})
    if g[0] == g[1] and rng.random() < 0.5:
        return [alleles[g[0]]]
    return [alleles[g[0]], alleles[g[1]]]


def make_case(
    rng: np.random.Generator, case_id: str, relationship: str, mutation: dict[str, Any] | None, theta: float
) -> dict[str, Any]:
    all_markers = sorted(loci())
    if relationship in ("avuncular", "first_cousins") and mutation is not None and theta > 0:
        # Small loci only, so that the explicit pedigree under theta fits the naive enumeration.
        all_markers = [m for m in all_markers if loci()[m].n <= 13]
    k = len(all_markers) if rng.random() < 0.1 else int(rng.integers(4, 10))
    markers = sorted(rng.choice(all_markers, size=k, replace=False).tolist())
    related = rng.random() < 0.7
    roles = ref.ROLES[relationship]
    genos = {m: _simulate(rng, relationship, m, related) for m in markers}

    # A Mendelian inconsistency at one or two markers (a child allele neither parent carries).
    if (
        related
        and rng.random() < 0.35
        and relationship in ("duo", "trio_couple", "trio_known_mother", "identity")
    ):
        for m in rng.choice(markers, size=min(len(markers), int(rng.integers(1, 3))), replace=False):
            g = genos[m]
            target = "person2" if relationship == "identity" else "child"
            parents = [r for r in roles if r != target]
            avoid = {a for r in parents for a in g[r]}
            g[target][0] = _foreign_allele(rng, m, g[target][0], avoid)

    # An allele the table lacks (5/(2N), docs/kinship.md): relabel one allele wherever it occurs at one marker.
    labels: dict[str, dict[int, str]] = {}
    if rng.random() < 0.15:
        m = str(rng.choice(markers))
        present = sorted({a for role in roles for a in genos[m][role]})
        labels[m] = {int(rng.choice(present)): _off_table_allele(rng, m)}

    persons: dict[str, dict[str, list[str]]] = {role: {} for role in roles}
    for m in markers:
        for role in roles:
            persons[role][m] = _write(rng, m, genos[m][role], labels.get(m))

    # Markers missing in one person (for trio_couple sometimes one parent, sometimes both).
    if rng.random() < 0.4:
        for m in rng.choice(markers, size=min(2, len(markers)), replace=False):
            if relationship == "trio_couple" and rng.random() < 0.5:
                for r in (
                    ("father", "mother") if rng.random() < 0.3 else (str(rng.choice(["father", "mother"])),)
                ):
                    persons[r].pop(m, None)
            else:
                persons[str(rng.choice(roles))].pop(m, None)
    # Amelogenin takes no part; marker names as other kits write them.
    if rng.random() < 0.3:
        for role in roles:
            persons[role]["AMEL"] = ["X", "Y"] if rng.random() < 0.5 else ["X"]
    if rng.random() < 0.3:
        role = str(rng.choice(roles))
        for m, variant in NAME_VARIANTS.items():
            if m in persons[role]:
                persons[role][variant] = persons[role].pop(m)
    return {
        "id": case_id,
        "relationship": relationship,
        "persons": persons,
        "mutation": copy.deepcopy(mutation),
        "theta": theta,
    }


def _ambiguity_group(relationship: str, model: str, theta: float) -> str | None:
    """Which open convention (if any) a combination depends on; None = settled by the issue."""
    if relationship == "full_siblings" and model != "null":
        return "full_siblings_mutation"
    if relationship in PAIRWISE_KAPPA:
        if model == "null":
            return "kappa_theta" if theta > 0 else None
        return "kappa_mutation" if theta == 0 else "kappa_mutation_theta"
    if relationship == "identity" and theta > 0:
        return "identity_theta"
    return None


@functools.lru_cache(maxsize=1)
def generate_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    cases = []
    for relationship in ref.ROLES:
        for model, mutation in MUTATIONS.items():
            for theta in THETAS:
                group = _ambiguity_group(relationship, model, theta)
                count = (
                    6 if relationship in ("duo", "trio_couple", "trio_known_mother") else (3 if group else 6)
                )
                for k in range(count):
                    mut = copy.deepcopy(mutation)
                    if mut is not None and k % 3 == 1:
                        mut["rate"] = 0.002
                    if mut is not None and k % 3 == 2 and mut["model"] != "stepwise":
                        mut.update(rate2=1e-6, range=0.1)  # extra keys other models must ignore
                    case_id = f"{relationship}/{model}/theta={theta}/{k}"
                    cases.append(make_case(rng, case_id, relationship, mut, theta))
    return cases


def case_label(case: Mapping[str, Any]) -> str:
    model = case["mutation"]["model"] if case["mutation"] else "null"
    return f"{case['id']} ({case['relationship']}, mutation {model}, theta {case['theta']})"


def shard_cases(shard: int) -> list[dict[str, Any]]:
    """Return the generated cases of one shard (every SHARDS-th case, starting at `shard`)."""
    return generate_cases()[shard::SHARDS]
