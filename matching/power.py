"""The power of a family's search, today and with one more relative typed: which relative to ask for next.

In the spirit of forrel's `missingPersonIP` / `MPPsims` (Vigeland, "Pedigree Analysis in R", 2021; forrel on
CRAN): the true missing child's genotypes are simulated conditionally on the typed relatives' genotypes under the
family's joint pedigree (`matching.family_pedigree`, H1), and each simulated child's combined LR and count of
Mendel-inconsistent markers is computed exactly as the search computes them (`matching.kinship.marker_lr`: the
pedigree likelihood with the mutation model on every transmission; a marker is inconsistent when its H1
likelihood without mutation is 0). A selection of untyped relatives (here one relative at a time, as `MPPsims`'s
`selections`) is simulated jointly with the child, conditionally on the same typed data, so the figure averages
over what that relative's genotypes may turn out to be.

Two figures per scenario, for the candidate band of the Chinese standard (LR >= 10,000 and fewer than 3
inconsistent markers, `matching.bands`):

- `true_rate`: P(the true child reaches the band | H1), the fraction of simulations in the band;
- `false_rate`: P(an unrelated child reaches the band), per comparison. It is far too small for plain simulation
  from H2, so it is estimated from the same H1 draws by importance sampling: the unrelated distribution is the H1
  distribution divided by the LR (both sum out the untyped persons alike), hence
  P(band | H2) = E_H1[1{band} / LR] (Kruijver, "Efficient computations with the likelihood ratio distribution",
  Forensic Sci Int Genet 14:116-124, 2015). Each term is at most 1/10,000, so the estimate is stable.
  The expected number of unrelated candidates in a database of N children is then N * false_rate.

Exact per marker, simulated across markers: at each marker the joint distribution of the child's (and the added
relative's) genotype given the typed data is tabulated over every genotype by `matching.likelihood` with the
simulated persons batch-typed; markers are independent, so one draw per marker per simulation gives the combined
LR. A generator seeded by (seed, scenario) makes every figure reproducible and independent of which other
scenarios are asked for.

The simulated child is typed at the markers the family is typed at (the table's markers that any placed member
has; all the table's markers when nobody is typed yet), and fewer than `min_shared_markers` of them leave the pair
unreportable (power 0), as in the search. Members the pedigree leaves out (the unsided roles of older cases) are
left out here too. Pure computation: no database.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.bands import EXCLUDE_INCONSISTENT, SUPPORT_LR
from matching.errors import CaseError
from matching.family_pedigree import (
    AUNTS_UNCLES,
    CHILD,
    FULL_SIBLING,
    GRANDPARENTS,
    PARENTS,
    ROLE_ORDER,
    FamilyPedigree,
    Member,
    family_pedigree,
)
from matching.frequencies import FrequencyTable, Locus
from matching.kinship import DEFAULT_POLICY
from matching.likelihood import GenotypeBatch, Typing, pedigree_likelihood
from matching.mutation import MutationModel
from matching.profiles import Profile

ADDED = "+added"  # the name of the hypothetical relative in a scenario's pedigree (no profile id starts so)
DEFAULT_SIMULATIONS = 10_000
DEFAULT_SEED = 2026
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scenario:
    """One selection of typed relatives: today's, or today's with `added` typed too."""

    added: str | None  # the role of the relative added; None: the members typed today
    true_rate: float  # P(the true child reaches the candidate band)
    false_rate: float  # P(one unrelated child reaches it)
    simulations: int

    def expected_unrelated(self, children: int) -> float:
        """Return the expected number of unrelated candidates when the family is compared with `children`."""
        return self.false_rate * children


@dataclass(frozen=True)
class PowerReport:
    """A family's search power today and with each addable relative, best addition first."""

    typed: tuple[str, ...]  # roles typed today (placed in the pedigree), in ROLE_ORDER
    markers: tuple[str, ...]
    today: Scenario
    additions: tuple[Scenario, ...]

    @property
    def best(self) -> Scenario | None:
        """Return the addition that raises the true child's chance most, if any raises it at all."""
        if not self.additions or self.additions[0].true_rate <= self.today.true_rate:
            return None
        return self.additions[0]


def addable_roles(typed: Sequence[str]) -> tuple[str, ...]:
    """Return the roles worth typing next, in ROLE_ORDER: each parent not typed; while a parent is untyped, that
    side's grandparents not typed and one (more) aunt or uncle; and one (more) full sibling. A side's
    grandparents, aunts and uncles add nothing once its parent is typed (the child is independent of them given
    the parent), and half siblings are left out: they carry half a full sibling's information."""
    have = set(typed)
    roles: list[str] = [p for p in PARENTS if p not in have]
    for role, (parent, _) in GRANDPARENTS.items():
        if parent not in have and role not in have:
            roles.append(role)
    roles += [role for role, parent in AUNTS_UNCLES.items() if parent not in have]
    roles.append(FULL_SIBLING)
    return tuple(sorted(roles, key=ROLE_ORDER.index))


def search_power(
    family: Mapping[Member, Profile],
    *,
    table: FrequencyTable | None = None,
    mutation: MutationModel | None,
    theta: float = 0.0,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
    additions: Iterable[str] | None = None,
    candidate_lr: float = SUPPORT_LR,
    exclude_inconsistent: int = EXCLUDE_INCONSISTENT,
    min_shared_markers: int = 15,
) -> PowerReport:
    """Return the power of the family's search today and with each of `additions` (default `addable_roles`)."""
    if simulations < 1:
        raise CaseError("the number of simulations must be at least 1")
    table = table or FrequencyTable.default()
    placed = {m: p for m, p in family.items() if m.name not in _left_out(family)}
    if any(m.name == ADDED for m in placed):
        raise CaseError(f"a member may not be named {ADDED!r}")
    typed_roles = tuple(sorted((m.role for m in placed), key=ROLE_ORDER.index))
    present = {marker for p in placed.values() for marker in p.genotypes}
    markers = tuple(m for m in table.markers if m in present) if placed else tuple(table.markers)
    spec = _Spec(table, markers, mutation, theta, simulations, seed, math.log10(candidate_lr),
                 exclude_inconsistent, len(markers) >= min_shared_markers)  # fmt: skip
    today = _scenario(spec, placed, None)
    roles = addable_roles(typed_roles) if additions is None else tuple(additions)
    ranked = sorted((_scenario(spec, placed, r) for r in roles), key=lambda s: (-s.true_rate, s.false_rate))
    return PowerReport(typed_roles, markers, today, tuple(ranked))


def _left_out(family: Mapping[Member, Profile]) -> set[str]:
    """Return the names of the members the pedigree does not place (none placed: every member)."""
    try:
        return {m.name for m in family_pedigree(list(family)).left_out}
    except CaseError:
        return {m.name for m in family}


@dataclass(frozen=True)
class _Spec:
    table: FrequencyTable
    markers: tuple[str, ...]
    mutation: MutationModel | None
    theta: float
    simulations: int
    seed: int
    log10_threshold: float
    exclude_inconsistent: int
    enough_markers: bool


def _scenario(spec: _Spec, placed: Mapping[Member, Profile], added: str | None) -> Scenario:
    """Simulate one scenario: per marker one exact table, then `spec.simulations` draws across markers."""
    if added is None and not placed:
        return Scenario(None, 0.0, 0.0, spec.simulations)  # nobody typed: no evidence at all
    members = [*placed, *([Member(ADDED, added)] if added is not None else [])]
    pedigree = family_pedigree(members)
    label = f"{spec.seed}:{added or ''}".encode()
    rng = np.random.default_rng([spec.seed, zlib.crc32(label)])
    total = np.zeros(spec.simulations)
    inconsistent = np.zeros(spec.simulations, dtype=np.int64)
    for marker in spec.markers:
        typed = {m.name: g for m, p in placed.items() if (g := p.genotype(marker)) is not None}
        if not typed and added is None:
            continue  # nobody typed here today: the marker counts 1
        probabilities, log10_lr, bad = _marker(spec, pedigree, marker, typed, added is not None)
        draws = rng.choice(len(probabilities), size=spec.simulations, p=probabilities)
        total += log10_lr[draws]
        inconsistent += bad[draws]
    if not spec.enough_markers:
        return Scenario(added, 0.0, 0.0, spec.simulations)
    band = (total >= spec.log10_threshold) & (inconsistent < spec.exclude_inconsistent)
    true_rate = float(band.mean())
    false_rate = float(np.where(band, 10.0 ** -np.where(band, total, 0.0), 0.0).mean())
    return Scenario(added, true_rate, false_rate, spec.simulations)


def _marker(
    spec: _Spec, pedigree: FamilyPedigree, marker: str, typed: Mapping[str, tuple[str, str]], with_added: bool
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Return, over the simulated persons' joint genotypes (flattened), P(genotypes | typed data, H1), the
    marker's log10 LR and whether the marker is Mendel-inconsistent."""
    locus: Locus = spec.table.locus(marker).with_alleles(
        {a for g in typed.values() for a in g}, DEFAULT_POLICY
    )
    n = len(locus.alleles)
    first, second = np.triu_indices(n)
    batch = GenotypeBatch(first, second)
    typing: dict[str, Typing] = {name: (locus.index(a), locus.index(b)) for name, (a, b) in typed.items()}
    typing[CHILD] = batch
    if with_added:
        typing[ADDED] = batch
    rel = pedigree.relationship
    m = spec.mutation.matrix(locus) if spec.mutation is not None else None
    h1 = np.asarray(pedigree_likelihood(rel.h1, typing, locus.frequencies, m, spec.theta)).ravel()
    if spec.theta == 0.0:
        # Under H2 the child is a founder apart from everyone: its genotype frequencies times the rest's likelihood.
        p = locus.frequencies
        hw = np.where(first == second, 1.0, 2.0) * p[first] * p[second]
        rest = {k: v for k, v in typing.items() if k != CHILD}
        h2 = np.outer(np.asarray(pedigree_likelihood(rel.h2, rest, p, m, 0.0)), hw).ravel()
    else:
        h2 = np.asarray(pedigree_likelihood(rel.h2, typing, locus.frequencies, m, spec.theta)).ravel()
    plain = np.asarray(pedigree_likelihood(rel.h1, typing, locus.frequencies, None, 0.0)).ravel()
    mass = h1.sum()
    if mass <= 0.0:
        raise CaseError(f"marker {marker}: the family's genotypes are impossible together")
    # Where H2 gives 0 (an added relative inconsistent with the typed ones, without mutation) so does H1: never
    # drawn.
    with np.errstate(divide="ignore", invalid="ignore"):
        log10_lr = np.where(h2 > 0.0, np.log10(h1 / np.where(h2 > 0.0, h2, 1.0)), -np.inf)
    return h1 / mass, log10_lr, plain == 0.0
