"""A deliberately naive, independent reference for kinship likelihood ratios (tests only).

Written from the issue's text alone, without reading `matching/`, to catch convention bugs in the engine.
Clarity beats speed here: every likelihood is a plain sum over explicitly enumerated allele assignments.

What is enumerated
- Every founder of a hypothesis' pedigree (typed or not) carries two ORDERED alleles. A typed founder's ordered
  pairs are the orderings of its genotype; an untyped founder's are all n x n pairs of the locus.
- Each founder allele sequence is weighted with the Balding-Nichols sequential sampling formula: the j-th allele
  drawn (j = 1, 2, ...), with b copies of it already drawn, has probability
  (b theta + (1 - theta) p) / (1 + (j - 2) theta). With theta = 0 this is the product of the p's.
- Each non-founder carries a paternal and a maternal allele. Each parent transmits either of its two alleles with
  probability 1/2, and the transmitted allele y becomes x with probability M[y, x] (M = identity without a
  mutation model).
- A typed person's (unordered) genotype must equal {paternal, maternal}.
The likelihood is the sum over all these assignments. The sums over untyped founders' and non-founders' alleles are
done with `numpy.einsum`: it is the same sum, in a cheaper order. With theta > 0 the founder weight does not factor,
so the untyped founders' alleles get one joint weight tensor of size n**(2 * number of untyped founders).

Frequencies: each locus renormalised at load; an allele the table lacks is added at 5/(2N), N = 5,000 (the
default docs/kinship.md documents), and the locus renormalised again, per case.

Pairwise relationships other than full siblings and identity (half siblings, grandparent, avuncular, first
cousins) use the kappa formula P(g1, g2 | H1) = k0 P0 + k1 P1 + k2 P2 with, under theta, each IBD state's distinct
alleles drawn jointly by Balding-Nichols, and no mutation. `pairwise_pedigree_likelihood` offers the explicit
pedigrees too (with mutation), to measure how far the two readings are apart.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The shipped table, read here by its own plain CSV reader (independent of matching.frequencies).
FREQUENCIES = Path(__file__).resolve().parents[2] / "matching" / "data" / "china_paternity_std_appD.csv"

AMELOGENIN = {"AMEL", "AMELOGENIN", "AM"}

KAPPA = {
    "full_siblings": (0.25, 0.5, 0.25),
    "half_siblings": (0.5, 0.5, 0.0),
    "grandparent": (0.5, 0.5, 0.0),
    "avuncular": (0.5, 0.5, 0.0),
    "first_cousins": (0.75, 0.25, 0.0),
    "identity": (0.0, 0.0, 1.0),
}

ROLES = {
    "duo": ("parent", "child"),
    "trio_couple": ("father", "mother", "child"),
    "trio_known_mother": ("mother", "alleged_father", "child"),
    "full_siblings": ("person1", "person2"),
    "half_siblings": ("person1", "person2"),
    "grandparent": ("person1", "person2"),
    "avuncular": ("person1", "person2"),
    "first_cousins": ("person1", "person2"),
    "identity": ("person1", "person2"),
}

Genotype = tuple[int, int]  # sorted allele indices


# --------------------------------------------------------------------------------------------------- frequencies
@dataclass(frozen=True)
class Locus:
    """One marker: its alleles as the table writes them and their renormalised frequencies."""

    name: str
    alleles: tuple[str, ...]
    p: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.alleles)

    def index(self, allele: str) -> int:
        """Index of an allele written as a lab writes it ("9.3", "10"); KeyError if not in the table."""
        want = round(float(str(allele).strip()), 4)
        for i, a in enumerate(self.alleles):
            if round(float(a), 4) == want:
                return i
        raise KeyError(f"allele {allele!r} is not in the table for {self.name}")


def load_frequencies(path: str | Path = FREQUENCIES) -> dict[str, Locus]:
    """Read a long CSV (marker,allele,frequency); each locus renormalised to sum 1, allele set = its rows."""
    rows: dict[str, list[tuple[str, float]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows.setdefault(row["marker"].strip(), []).append(
                (row["allele"].strip(), float(row["frequency"]))
            )
    loci = {}
    for marker, items in rows.items():
        total = sum(f for _, f in items)
        loci[marker] = Locus(marker, tuple(a for a, _ in items), np.array([f / total for _, f in items]))
    return loci


# docs/kinship.md: an allele the table lacks gets 5/(2N) with N = 5,000 by default, then the locus is renormalised.
MISSING_N = 5000


def extend_locus(
    locus: Locus, alleles: Sequence[str], *, n_people: int = MISSING_N, renormalise: bool = True
) -> Locus:
    """The locus with every allele of `alleles` it lacks added at 5/(2N) (NRC II), then (by default) renormalised.

    The table's own frequencies were already renormalised at load; the added alleles come on top of that.
    """
    new: dict[float, str] = {}
    for allele in alleles:
        try:
            locus.index(allele)
        except KeyError:
            new.setdefault(round(float(allele), 4), str(allele).strip())
    if not new:
        return locus
    p = np.concatenate([locus.p, np.full(len(new), 5.0 / (2 * n_people))])
    if renormalise:
        p = p / p.sum()
    return Locus(locus.name, locus.alleles + tuple(new.values()), p)


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).upper()


def canonical_marker(name: str, loci: Mapping[str, Locus]) -> str | None:
    """The table's name for a marker written any usual way; None for amelogenin; KeyError if unknown."""
    key = _squash(name)
    if key in AMELOGENIN:
        return None
    if key == "THO1":
        key = "TH01"
    for marker in loci:
        if _squash(marker) == key:
            return marker
    raise KeyError(f"unknown marker {name!r}")


def parse_genotype(alleles: Sequence[str] | None, locus: Locus) -> Genotype | None:
    """Sorted allele indices; a single allele is a homozygote; None or [] is untyped."""
    if not alleles:
        return None
    idx = [locus.index(a) for a in alleles]
    if len(idx) == 1:
        idx = idx * 2
    if len(idx) != 2:
        raise ValueError(f"{locus.name}: expected one or two alleles, got {list(alleles)}")
    i, j = sorted(idx)
    return (i, j)


def orderings(g: Genotype) -> list[tuple[int, int]]:
    """The distinct ordered allele pairs of an unordered genotype: 2 for a heterozygote, 1 for a homozygote."""
    a, b = g
    return [(a, b)] if a == b else [(a, b), (b, a)]


# ------------------------------------------------------------------------------------------------ mutation models
def _decimal_group(allele: str) -> int:
    """0 for integer alleles, 1 for .1, 2 for .2, 3 for .3 ... (the digits after the point)."""
    text = str(allele).strip()
    if "." not in text:
        return 0
    frac = text.split(".", 1)[1].rstrip("0")
    return int(frac) if frac else 0


def mutation_matrix(locus: Locus, mutation: Mapping[str, Any] | None) -> np.ndarray:
    """M[i, j]: probability that a transmitted allele i arrives as allele j, exactly as the issue defines it."""
    n, p = locus.n, locus.p
    if mutation is None:
        return np.eye(n)
    model = mutation["model"]
    rate = float(mutation.get("rate", 0.0))
    if model == "equal":
        if n == 1:
            return np.eye(1)
        M = np.full((n, n), rate / (n - 1))
        np.fill_diagonal(M, 1.0 - rate)
        return M
    if model == "proportional":
        a = rate / float(np.sum(p * (1.0 - p)))
        return (1.0 - a) * np.eye(n) + a * np.tile(p, (n, 1))
    if model == "stepwise":
        rate2 = float(mutation.get("rate2", 0.0) or 0.0)
        rng = float(mutation["range"])
        values = [float(a) for a in locus.alleles]
        groups = [_decimal_group(a) for a in locus.alleles]
        one_group = len(set(groups)) == 1
        M = np.zeros((n, n))
        for i in range(n):
            same = [j for j in range(n) if j != i and groups[j] == groups[i]]
            other = [j for j in range(n) if groups[j] != groups[i]]
            if same:
                weights = {j: rng ** round(abs(values[i] - values[j])) for j in same}
                total = sum(weights.values())
                for j in same:
                    M[i, j] = rate * weights[j] / total
            group_size = len(same) + 1
            for j in other:
                M[i, j] = rate2 / (n - group_size)
            if one_group:
                M[i, i] = 1.0 - rate
            elif not same:
                M[i, i] = 1.0 - rate2
            else:
                M[i, i] = 1.0 - rate - rate2
        return M
    raise ValueError(f"unknown mutation model {model!r}")


# ------------------------------------------------------------------------------------------------ Balding-Nichols
def bn_weight(seq: Sequence[int], p: np.ndarray, theta: float) -> float:
    """Probability of drawing exactly this ordered allele sequence with the Balding-Nichols sampling formula."""
    w = 1.0
    counts: dict[int, int] = {}
    for j, a in enumerate(seq, start=1):
        b = counts.get(a, 0)
        w *= (b * theta + (1.0 - theta) * p[a]) / (1.0 + (j - 2) * theta)
        counts[a] = b + 1
    return w


def bn_tensor(k: int, prior: Sequence[int], p: np.ndarray, theta: float) -> np.ndarray:
    """W[x1, ..., xk]: probability of drawing x1..xk next, after the alleles in `prior` were drawn (in any order)."""
    n = len(p)
    prior_counts = np.bincount(np.asarray(prior, dtype=int), minlength=n) if len(prior) else np.zeros(n, int)
    W = np.ones(())
    for m in range(k):
        j = len(prior) + m + 1
        x = np.arange(n).reshape((1,) * m + (n,))
        b = prior_counts[x]
        for ell in range(m):
            earlier = np.arange(n).reshape((1,) * ell + (n,) + (1,) * (m - ell))
            b = b + (earlier == x)
        factor = (b * theta + (1.0 - theta) * p[x]) / (1.0 + (j - 2) * theta)
        W = W[..., None] * factor
    return W


# ------------------------------------------------------------------------------------------------ pedigrees
@dataclass(frozen=True)
class Person:
    name: str
    father: str | None = None
    mother: str | None = None

    @property
    def founder(self) -> bool:
        return self.father is None


MAX_THETA_TENSOR = 8_000_000


def pedigree_likelihood(
    persons: Sequence[Person],
    genotypes: Mapping[str, Genotype],
    p: np.ndarray,
    M: np.ndarray,
    theta: float,
    *,
    collapse: bool = False,
) -> float:
    """P(observed genotypes) in a pedigree: brute-force sum over ordered founder alleles and transmissions.

    `persons` lists parents before their children. Persons absent from `genotypes` are untyped.

    `collapse=True` (only to make large theta cases fit in memory) gives an untyped founder with exactly one child
    a single allele variable, the one it transmits, instead of two. That is exact: the Balding-Nichols sequence
    is exchangeable and consistent, so summing out the founder's other allele leaves the same formula on the
    remaining alleles, and 1/2 M[u, x] + 1/2 M[v, x] summed against a weight symmetric in (u, v) equals M[u, x]
    summed against the marginal of u. A test checks it against the full enumeration.
    """
    n = len(p)
    by_name = {q.name: q for q in persons}
    typed_founders = [q.name for q in persons if q.founder and q.name in genotypes]
    untyped_founders = [q.name for q in persons if q.founder and q.name not in genotypes]
    children = [q for q in persons if not q.founder]
    for q in children:
        assert q.father in by_name and q.mother in by_name, q

    variables: dict[tuple[str, int], int] = {}

    def var(name: str, slot: int) -> int:
        return variables.setdefault((name, slot), len(variables))

    n_children = {f: sum(f in (q.father, q.mother) for q in children) for f in untyped_founders}
    single = {f for f in untyped_founders if collapse and n_children[f] == 1}
    untyped_vars = [var(f, s) for f in untyped_founders for s in ((0,) if f in single else (0, 1))]
    if theta > 0 and n ** len(untyped_vars) > MAX_THETA_TENSOR:
        raise ValueError(f"theta tensor too large: n={n}, {len(untyped_vars)} untyped founder alleles")
    transmit = 0.5 * (M[:, None, :] + M[None, :, :])  # [u, v, x]: a parent with alleles (u, v) passes x

    total = 0.0
    for ordered in itertools.product(*(orderings(genotypes[f]) for f in typed_founders)):
        fixed = dict(zip(typed_founders, ordered, strict=True))
        typed_seq = [a for pair in ordered for a in pair]
        operands: list[Any] = []
        if theta == 0:
            weight = float(np.prod([p[a] for a in typed_seq])) if typed_seq else 1.0
            for v in untyped_vars:
                operands += [p, [v]]
        else:
            weight = bn_weight(typed_seq, p, theta)
            if untyped_vars:
                operands += [bn_tensor(len(untyped_vars), typed_seq, p, theta), list(untyped_vars)]
        for child in children:
            for slot, parent in ((0, child.father), (1, child.mother)):
                assert parent is not None
                if parent in fixed:
                    u, v = fixed[parent]
                    operands += [0.5 * (M[u] + M[v]), [var(child.name, slot)]]
                elif parent in single:
                    operands += [M, [var(parent, 0), var(child.name, slot)]]
                else:
                    operands += [transmit, [var(parent, 0), var(parent, 1), var(child.name, slot)]]
            if child.name in genotypes:
                a, b = genotypes[child.name]
                indicator = np.zeros((n, n))
                indicator[a, b] = indicator[b, a] = 1.0
                operands += [indicator, [var(child.name, 0), var(child.name, 1)]]
        if weight == 0.0:
            continue
        if operands:
            assert len(variables) <= 52, "numpy.einsum handles at most 52 summation indices"
            total += weight * float(np.einsum(*operands, [], optimize="greedy"))
        else:
            total += weight
    return total


def unrelated_likelihood(gs: Sequence[Genotype], p: np.ndarray, theta: float) -> float:
    """All typed persons unrelated founders (their alleles drawn jointly under theta)."""
    persons = [Person(f"u{i}") for i in range(len(gs))]
    return pedigree_likelihood(persons, {f"u{i}": g for i, g in enumerate(gs)}, p, np.eye(len(p)), theta)


# ------------------------------------------------------------------------------------------------ kappa formula
def kappa_terms(g1: Genotype, g2: Genotype, p: np.ndarray, theta: float) -> tuple[float, float, float]:
    """(P0, P1, P2): P(g1, g2) given 0, 1 or 2 alleles IBD, the distinct alleles drawn jointly by Balding-Nichols.

    IBD1: the shared allele z, person 1's other allele u and person 2's other allele v are three founder
    alleles; person 1 = {z, u}, person 2 = {z, v}.
    """
    P0 = sum(bn_weight([a1, a2, b1, b2], p, theta) for a1, a2 in orderings(g1) for b1, b2 in orderings(g2))
    P1 = sum(bn_weight([z, u, v], p, theta) for z, u in orderings(g1) for z2, v in orderings(g2) if z == z2)
    P2 = sum(bn_weight([a, b], p, theta) for a, b in orderings(g1)) if g1 == g2 else 0.0
    return P0, P1, P2


def kappa_lr(g1: Genotype, g2: Genotype, kappa: Sequence[float], p: np.ndarray, theta: float) -> float:
    P0, P1, P2 = kappa_terms(g1, g2, p, theta)
    k0, k1, k2 = kappa
    return (k0 * P0 + k1 * P1 + k2 * P2) / P0


def pairwise_pedigree(relationship: str) -> list[Person]:
    """The explicit H1 pedigree of a pairwise relationship; person1 is the elder where the two differ."""
    if relationship == "full_siblings":
        return [Person("F"), Person("M"), Person("person1", "F", "M"), Person("person2", "F", "M")]
    if relationship == "half_siblings":
        return [
            Person("S"),
            Person("A"),
            Person("B"),
            Person("person1", "S", "A"),
            Person("person2", "S", "B"),
        ]
    if relationship == "grandparent":
        return [
            Person("person1"),
            Person("X"),
            Person("P", "person1", "X"),
            Person("Y"),
            Person("person2", "P", "Y"),
        ]
    if relationship == "avuncular":
        return [
            Person("GF"),
            Person("GM"),
            Person("person1", "GF", "GM"),
            Person("P", "GF", "GM"),
            Person("S"),
            Person("person2", "P", "S"),
        ]
    if relationship == "first_cousins":
        return [
            Person("GF"),
            Person("GM"),
            Person("P1", "GF", "GM"),
            Person("P2", "GF", "GM"),
            Person("S1"),
            Person("S2"),
            Person("person1", "P1", "S1"),
            Person("person2", "P2", "S2"),
        ]
    raise ValueError(relationship)


def pairwise_pedigree_lr(
    relationship: str,
    g1: Genotype,
    g2: Genotype,
    p: np.ndarray,
    M: np.ndarray,
    theta: float,
    *,
    collapse: bool = False,
) -> float:
    """LR of a pairwise relationship from its explicit pedigree (mutation on every transmission)."""
    h1 = pedigree_likelihood(
        pairwise_pedigree(relationship), {"person1": g1, "person2": g2}, p, M, theta, collapse=collapse
    )
    return h1 / unrelated_likelihood([g1, g2], p, theta)


def half_siblings_pedigree_lr(
    g1: Genotype, g2: Genotype, p: np.ndarray, M: np.ndarray, theta: float
) -> float:
    """Half siblings as an explicit pedigree: one shared untyped parent and two other untyped parents."""
    return pairwise_pedigree_lr("half_siblings", g1, g2, p, M, theta)


# ------------------------------------------------------------------------------------------------ one case
def _mendel_h1_zero(persons: Sequence[Person], genotypes: Mapping[str, Genotype], n: int) -> bool:
    """True when H1 is impossible without mutation (a Mendelian inconsistency)."""
    p = np.full(n, 1.0 / n)
    return pedigree_likelihood(persons, genotypes, p, np.eye(n), 0.0) == 0.0


def marker_lr(
    relationship: str,
    gts: Mapping[str, Genotype | None],
    locus: Locus,
    mutation: Mapping[str, Any] | None,
    theta: float,
    *,
    pairwise_mutation: bool = False,
    collapse: bool = False,
) -> tuple[float, bool, bool]:
    """(LR, inconsistent, untyped) of one marker. `gts` maps every role of the relationship to a genotype or None.

    `pairwise_mutation=True` computes half siblings, grandparent, avuncular and first cousins from their explicit
    pedigrees with mutation instead of the kappa formula (an alternative reading, for the ambiguity tests).
    """
    p, n = locus.p, locus.n
    M = mutation_matrix(locus, mutation)

    def typed(role: str) -> bool:
        return gts.get(role) is not None

    if relationship == "duo":
        if not (typed("parent") and typed("child")):
            return 1.0, False, True
        ped = [Person("parent"), Person("other"), Person("child", "parent", "other")]
        g = {"parent": gts["parent"], "child": gts["child"]}
        h1 = pedigree_likelihood(ped, g, p, M, theta, collapse=collapse)
        h2 = unrelated_likelihood([g["parent"], g["child"]], p, theta)
        return h1 / h2, _mendel_h1_zero(ped, g, n), False

    if relationship == "trio_couple":
        if not typed("child") or not (typed("father") or typed("mother")):
            return 1.0, False, True
        ped = [Person("father"), Person("mother"), Person("child", "father", "mother")]
        g = {r: gts[r] for r in ("father", "mother", "child") if typed(r)}
        h1 = pedigree_likelihood(ped, g, p, M, theta, collapse=collapse)
        h2 = unrelated_likelihood(list(g.values()), p, theta)
        return h1 / h2, _mendel_h1_zero(ped, g, n), False

    if relationship == "trio_known_mother":
        if not (typed("child") and typed("alleged_father")):
            return 1.0, False, True
        g = {r: gts[r] for r in ("mother", "alleged_father", "child") if typed(r)}
        ped1 = [Person("mother"), Person("alleged_father"), Person("child", "alleged_father", "mother")]
        ped2 = [
            Person("mother"),
            Person("unknown_man"),
            Person("alleged_father"),
            Person("child", "unknown_man", "mother"),
        ]
        h1 = pedigree_likelihood(ped1, g, p, M, theta, collapse=collapse)
        h2 = pedigree_likelihood(ped2, g, p, M, theta, collapse=collapse)
        if h2 == 0.0:  # the undisputed mother excluded without a mutation model: 0/0, no LR defined
            return math.nan, True, False
        return h1 / h2, _mendel_h1_zero(ped1, g, n), False

    g1, g2 = gts.get("person1"), gts.get("person2")
    if g1 is None or g2 is None:
        return 1.0, False, True

    if relationship == "identity":
        h1 = pedigree_likelihood([Person("x")], {"x": g1}, p, M, theta) if g1 == g2 else 0.0
        return h1 / unrelated_likelihood([g1, g2], p, theta), g1 != g2, False

    if relationship == "full_siblings" or (pairwise_mutation and relationship in KAPPA):
        return pairwise_pedigree_lr(relationship, g1, g2, p, M, theta, collapse=collapse), False, False

    if relationship in KAPPA:
        return kappa_lr(g1, g2, KAPPA[relationship], p, theta), False, False

    raise ValueError(f"unknown relationship {relationship!r}")


def reference_lr(
    case: Mapping[str, Any],
    freqs: Mapping[str, Locus] | None = None,
    *,
    pairwise_mutation: bool = False,
    collapse: bool = False,
    missing_n: int = MISSING_N,
    renormalise_missing: bool = True,
) -> dict[str, Any]:
    """The output line for one input line of `reunite kinship-lr` (without "id"), computed by brute force."""
    loci = freqs if freqs is not None else load_frequencies()
    relationship = case["relationship"]
    roles = ROLES[relationship]
    mutation = case.get("mutation")
    theta = float(case.get("theta") or 0.0)

    # role -> canonical marker -> alleles as written; then each locus extended with this case's missing alleles
    written: dict[str, dict[str, Sequence[str]]] = {}
    for role in roles:
        written[role] = {}
        for marker, alleles in (case["persons"].get(role) or {}).items():
            name = canonical_marker(marker, loci)
            if name is not None:
                written[role][name] = alleles or []
    markers = sorted({m for role in roles for m in written[role]})
    loci = dict(loci)
    for marker in markers:
        seen = [a for role in roles for a in written[role].get(marker, [])]
        loci[marker] = extend_locus(loci[marker], seen, n_people=missing_n, renormalise=renormalise_missing)
    typed = {
        role: {m: parse_genotype(alleles, loci[m]) for m, alleles in written[role].items()} for role in roles
    }

    per_marker: dict[str, float] = {}
    inconsistent: list[str] = []
    untyped: list[str] = []
    for marker in markers:
        gts = {role: typed[role].get(marker) for role in roles}
        lr, bad, missing = marker_lr(
            relationship,
            gts,
            loci[marker],
            mutation,
            theta,
            pairwise_mutation=pairwise_mutation,
            collapse=collapse,
        )
        per_marker[marker] = float(lr)
        if bad:
            inconsistent.append(marker)
        if missing:
            untyped.append(marker)
    lr = float(math.prod(per_marker.values()))
    return {
        "lr": lr,
        "log10_lr": math.log10(lr) if lr > 0 else -math.inf,
        "per_marker": per_marker,
        "inconsistent_markers": inconsistent,
        "untyped_markers": untyped,
    }
