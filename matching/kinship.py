"""Likelihood ratios of one kinship case, per marker and combined: H1 the stated relationship, H2 unrelated.

This is the reference path: each marker is one exact pedigree likelihood under each hypothesis
(`matching.likelihood`). Without mutation, alleles nobody carries are lumped into one (exact, also with theta);
with mutation the locus's whole allele set is kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from matching.errors import CaseError, EmptyProfileError
from matching.frequencies import FrequencyTable, Locus, MissingAllelePolicy
from matching.likelihood import FloatArray, pedigree_likelihood
from matching.mutation import MutationModel
from matching.pedigree import ped
from matching.profiles import Genotype, Profile
from matching.relationships import KAPPA, Kappa, Relationship, kappa_relationship, relationship

DEFAULT_POLICY = MissingAllelePolicy()


@dataclass(frozen=True)
class KinshipCase:
    """A case: the relationship to test, a profile per role, and the model (mutation, theta, explicit kappa).

    The relationship is a name (`matching.relationships`) or a `Relationship` itself, such as a family's joint
    pedigree (`matching.family_pedigree`).
    """

    relationship: str | Relationship
    persons: Mapping[str, Profile]
    mutation: MutationModel | None = None
    theta: float = 0.0
    kappa: Kappa | None = None


@dataclass(frozen=True)
class KinshipResult:
    """The combined LR, its log10, the LR per marker (1 where untyped) and what to look at.

    `imputed_alleles` lists, per marker that entered the LR, the alleles the frequency table lacks and the
    missing-allele policy gave a frequency (5/(2N) by default): an officer sees which LRs rest on them.
    """

    lr: float
    log10_lr: float
    per_marker: dict[str, float]
    inconsistent_markers: tuple[str, ...] = ()
    untyped_markers: tuple[str, ...] = field(default=())
    imputed_alleles: dict[str, tuple[str, ...]] = field(default_factory=dict)


def kinship_lr(
    case: KinshipCase, table: FrequencyTable | None = None, policy: MissingAllelePolicy = DEFAULT_POLICY
) -> KinshipResult:
    """Return the per-marker and combined likelihood ratio of a case (raises a KinshipError on bad input)."""
    table = table or _default_table()
    rel, kappa = _relationship(case)
    if not 0.0 <= case.theta < 1.0 or not math.isfinite(case.theta):
        raise CaseError(f"theta must lie in [0, 1), not {case.theta}")
    if kappa is not None and (case.theta or case.mutation):
        raise CaseError(
            "explicit kappa takes neither theta nor mutation; name a relationship (a pedigree) instead"
        )
    unknown = [r for r in case.persons if r not in rel.roles]
    missing = [r for r in rel.roles if r not in case.persons]
    if unknown or missing:
        said = [f"no {', '.join(missing)}"] if missing else []
        said += [f"{', '.join(unknown)} is not one of them"] if unknown else []
        raise CaseError(f"{rel.name} needs the roles {', '.join(rel.roles)}: {'; '.join(said)}")
    for role, profile in case.persons.items():
        if not profile.genotypes:
            raise EmptyProfileError(role)
    return by_marker(
        case,
        rel,
        table,
        policy,
        lambda genotypes, locus: marker_lr(rel, genotypes, locus, case.mutation, case.theta, kappa),
    )


def by_marker(
    case: KinshipCase,
    rel: Relationship,
    table: FrequencyTable,
    policy: MissingAllelePolicy,
    marker: Callable[[Mapping[str, Genotype], Locus], tuple[float, bool]],
) -> KinshipResult:
    """Return the result of a case marker by marker: a marker too little typed for `rel` counts 1 (untyped);
    otherwise `marker(genotypes, locus)` gives its LR and whether it is consistent, the locus extended by the
    case's alleles the table lacks (under `policy`, listed as imputed)."""
    per_marker: dict[str, float] = {}
    inconsistent: list[str] = []
    untyped: list[str] = []
    imputed: dict[str, tuple[str, ...]] = {}
    for name in case_markers(case, table):
        genotypes = {r: g for r, p in case.persons.items() if (g := p.genotype(name)) is not None}
        if not rel.typed_enough(genotypes):
            per_marker[name] = 1.0
            untyped.append(name)
            continue
        alleles = {a for g in genotypes.values() for a in g}
        if absent := table.locus(name).absent(alleles):
            imputed[name] = absent
        lr, consistent = marker(genotypes, table.locus(name).with_alleles(alleles, policy))
        per_marker[name] = lr
        if not consistent:
            inconsistent.append(name)
    logs = [math.log10(v) if v > 0 else -math.inf for v in per_marker.values()]
    log10_lr = math.fsum(logs) if all(math.isfinite(x) for x in logs) else -math.inf
    return KinshipResult(
        lr=math.prod(per_marker.values()),
        log10_lr=log10_lr,
        per_marker=per_marker,
        inconsistent_markers=tuple(inconsistent),
        untyped_markers=tuple(untyped),
        imputed_alleles=imputed,
    )


def marker_lr(
    rel: Relationship,
    genotypes: Mapping[str, Genotype],
    locus: Locus,
    mutation: MutationModel | None,
    theta: float,
    kappa: Kappa | None = None,
) -> tuple[float, bool]:
    """Return one marker's LR and whether it is Mendel-consistent (its H1 likelihood without mutation is > 0)."""
    if kappa is not None:
        value = kappa_lr(genotypes["person1"], genotypes["person2"], locus, kappa)
        return value, value > 0
    lumped = _lumped(genotypes, locus)
    if rel.name == "identity":
        return _identity_lr(genotypes, lumped, theta)
    h1_plain = float(pedigree_likelihood(rel.h1, lumped[0], lumped[1], None, 0.0))
    consistent = h1_plain > 0
    if mutation is None:
        typing, p, m = lumped[0], lumped[1], None
    else:
        typing = {r: (locus.index(a), locus.index(b)) for r, (a, b) in genotypes.items()}
        p, m = locus.frequencies, mutation.matrix(locus)
    if mutation is None and not consistent and float(pedigree_likelihood(rel.h2, *lumped, None, 0.0)) == 0.0:
        _impossible_under_h2(locus.marker)
    if mutation is None and not consistent:
        return 0.0, False
    h1 = float(pedigree_likelihood(rel.h1, typing, p, m, theta))
    h2 = float(pedigree_likelihood(rel.h2, typing, p, m, theta))
    if h2 == 0.0:
        _impossible_under_h2(locus.marker)
    return h1 / h2, consistent


def _impossible_under_h2(marker: str) -> None:
    """Raise for 0/0: only an undisputed mother who shares no allele with the child gets here."""
    raise CaseError(
        f"marker {marker}: the genotypes are impossible under both hypotheses (the undisputed mother shares no"
        " allele with the child); check the samples, or give a mutation model"
    )


def kappa_lr(g1: Genotype, g2: Genotype, locus: Locus, kappa: Kappa) -> float:
    """Return the pairwise LR k0 + k1 P(G2 | G1, one allele IBD)/P(G2) + k2 [G1 = G2]/P(G2) (no theta, no mutation)."""
    freq = dict(zip(locus.alleles, locus.frequencies.tolist(), strict=True))
    c, d = g2
    p_g2 = freq[c] * freq[d] * (2.0 if c != d else 1.0)
    shared = 0.0
    for s in g1:  # G1 passes one of its two alleles, each with probability 1/2
        if c == d:
            shared += 0.5 * freq[c] * (s == c)
        else:
            shared += 0.5 * (freq[d] * (s == c) + freq[c] * (s == d))
    k0, k1, k2 = kappa
    return float(k0 + k1 * shared / p_g2 + k2 * (g1 == g2) / p_g2)


def _identity_lr(
    genotypes: Mapping[str, Genotype], lumped: tuple[dict[str, tuple[int, int]], FloatArray], theta: float
) -> tuple[float, bool]:
    """Return P(G) / P(G, G): the same person twice against two unrelated persons with one genotype each."""
    if genotypes["person1"] != genotypes["person2"]:
        return 0.0, False
    typing, p = lumped
    same = float(pedigree_likelihood(ped("person1"), typing, p, None, theta))
    two = float(pedigree_likelihood(ped("person1", "person2"), typing, p, None, theta))
    return same / two, True


def _lumped(genotypes: Mapping[str, Genotype], locus: Locus) -> tuple[dict[str, tuple[int, int]], FloatArray]:
    """Return the genotypes as indices into the seen alleles plus one lump of all others, and its frequencies."""
    seen = sorted({a for g in genotypes.values() for a in g}, key=locus.alleles.index)
    index = {a: i for i, a in enumerate(seen)}
    freqs = [float(locus.frequencies[locus.index(a)]) for a in seen]
    rest = float(locus.frequencies.sum()) - math.fsum(freqs)
    if rest > 1e-15:
        freqs.append(rest)
    typing = {r: (index[a], index[b]) for r, (a, b) in genotypes.items()}
    return typing, np.array(freqs)


def _relationship(case: KinshipCase) -> tuple[Relationship, Kappa | None]:
    if isinstance(case.relationship, Relationship):
        if case.kappa is not None:
            raise CaseError('kappa goes with relationship "kappa", not with a pedigree')
        return case.relationship, None
    if case.relationship == KAPPA:
        if case.kappa is None:
            raise CaseError('relationship "kappa" needs kappa = (k0, k1, k2)')
        rel = kappa_relationship(case.kappa)
        return rel, rel.kappa
    if case.kappa is not None:
        raise CaseError(f'kappa goes with relationship "kappa", not {case.relationship!r}')
    return relationship(case.relationship), None


def case_markers(case: KinshipCase, table: FrequencyTable) -> list[str]:
    """Return the autosomal markers of the case: the table's order first, then the others by name."""
    present = {m for p in case.persons.values() for m in p.genotypes}
    return [m for m in table.markers if m in present] + sorted(present - set(table.markers))


_TABLE: list[FrequencyTable] = []


def _default_table() -> FrequencyTable:
    if not _TABLE:
        _TABLE.append(FrequencyTable.default())
    return _TABLE[0]
