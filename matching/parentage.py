"""The exact LR of a trio (a couple) or a duo (one parent) in closed form: what a search recomputes for most hits.

With theta 0 the pedigree likelihood of a child and its parents factorises: at a marker where the child is
(c1, c2), LR = [t_F(c1) t_M(c2) + t_F(c2) t_M(c1)] / (2 p_c1 p_c2) (a homozygous child: t_F(c) t_M(c) / p_c^2),
t_X(c) being the probability that parent X passes an allele that arrives as c: 0.5 (M[a, c] + M[b, c]) for a
parent typed (a, b), (p M)[c] for an untyped one (a duo's other parent, or a trio's parent untyped at the marker),
M the mutation matrix (the identity without a model). A marker is Mendel-inconsistent when the child cannot have
its genotype without a mutation; without a model such a marker's LR is 0. Everything else is `kinship_lr`'s:
the same markers, the same missing-allele policy (the locus extended by the absent alleles), the same mutation
matrices, the same combination of the markers; the values equal its pedigree likelihoods to rounding
(tests/matching/test_parentage.py, 1e-12 relative). Theta > 0, other relationships and explicit kappa go to
`matching.kinship.kinship_lr`, the reference path (`exact_lr` chooses).
"""

from __future__ import annotations

from matching.frequencies import FrequencyTable, Locus, MissingAllelePolicy
from matching.kinship import DEFAULT_POLICY, KinshipCase, KinshipResult, by_marker, case_markers, kinship_lr
from matching.likelihood import FloatArray
from matching.mutation import MutationModel
from matching.profiles import Genotype
from matching.relationships import RELATIONSHIPS

# The parents' roles of each shape (None: a parent nobody typed, e.g. a duo's other parent).
PARENTS: dict[str, tuple[str, str | None]] = {
    "trio_couple": ("father", "mother"),
    "duo": ("parent", None),
}


def exact_lr(
    case: KinshipCase, table: FrequencyTable, policy: MissingAllelePolicy = DEFAULT_POLICY
) -> KinshipResult:
    """Return `kinship_lr` of a case: in closed form for a trio or a duo with theta 0, else by the pedigree."""
    closed = parentage_lr(case, table, policy)
    return closed if closed is not None else kinship_lr(case, table, policy)


def parentage_lr(
    case: KinshipCase, table: FrequencyTable, policy: MissingAllelePolicy = DEFAULT_POLICY
) -> KinshipResult | None:
    """Return the closed-form result of a trio or duo case with theta 0 (see the module), or None for any other
    case, or one `kinship_lr` would refuse (it then raises the error)."""
    if case.theta != 0.0 or case.kappa is not None or not isinstance(case.relationship, str):
        return None
    parents = PARENTS.get(case.relationship)
    rel = RELATIONSHIPS.get(case.relationship)
    if parents is None or rel is None or set(case.persons) != set(rel.roles):
        return None
    if not all(p.genotypes for p in case.persons.values()):
        return None
    if any(m not in table.loci for m in case_markers(case, table)):
        return None
    father, mother = parents
    return by_marker(
        case,
        rel,
        table,
        policy,
        lambda genotypes, locus: marker_lr(
            locus,
            genotypes["child"],
            genotypes.get(father),
            genotypes.get(mother) if mother else None,
            case.mutation,
        ),
    )


def marker_lr(
    locus: Locus,
    child: Genotype,
    father: Genotype | None,
    mother: Genotype | None,
    mutation: MutationModel | None,
) -> tuple[float, bool]:
    """Return one marker's trio LR (a parent None: untyped) and whether it is Mendel-consistent (theta 0)."""
    c1, c2 = child
    consistent = (
        _can_pass(father, c1) and _can_pass(mother, c2) or _can_pass(father, c2) and _can_pass(mother, c1)
    )
    if mutation is None and not consistent:
        return 0.0, False
    matrix = mutation.matrix(locus) if mutation is not None else None
    p = locus.frequencies
    i1, i2 = locus.index(c1), locus.index(c2)
    f1, m1 = _sends(locus, matrix, father, i1), _sends(locus, matrix, mother, i1)
    if i1 == i2:
        return f1 * m1 / (float(p[i1]) * float(p[i1])), consistent
    f2, m2 = _sends(locus, matrix, father, i2), _sends(locus, matrix, mother, i2)
    return (f1 * m2 + f2 * m1) / (2.0 * float(p[i1]) * float(p[i2])), consistent


def _can_pass(parent: Genotype | None, allele: str) -> bool:
    """Return whether a parent can pass `allele` without mutation (an untyped parent can pass anything)."""
    return parent is None or allele in parent


def _sends(locus: Locus, matrix: FloatArray | None, parent: Genotype | None, c: int) -> float:
    """Return t_X(c): the probability that a parent (None: untyped) passes an allele that arrives as allele c."""
    p = locus.frequencies
    if parent is None:
        return float(p[c]) if matrix is None else float(p @ matrix[:, c])
    a, b = locus.index(parent[0]), locus.index(parent[1])
    if matrix is None:
        return 0.5 * ((a == c) + (b == c))
    return 0.5 * (float(matrix[a, c]) + float(matrix[b, c]))
