"""One child against every family pedigree at once: families reduced to two sides of four allele slots each.

With theta = 0 the child's genotype depends on the family only through the allele each parent passes on, and the
father's side is independent of the mother's unless a full sibling joins them. So at a marker where the child is
(c1, c2), LR = (A_F(c1) A_M(c2) + A_F(c2) A_M(c1)) / (2 p(c1) p(c2)) (a homozygote is the case c1 = c2), where
A_S(c) is the probability that side S's parent passes an allele that arrives in the child as c, given S's typed
members. For the shapes below A_S(c) is a mean over four allele slots of one vector per child allele:

- the parent typed (a1, a2): slots a1, a2, a1, a2 with V[a] = M[a, c] (one transmission, mutation matrix M);
  relatives of that side then add nothing (given the parent's genotype, the child is independent of them);
- the parent untyped, the side's grandparents in the pedigree: slots g1, g2 (grandfather), h1, h2 (grandmother)
  with V[a] = M^2[a, c], an untyped grandparent being a founder slot V = (p M^2)[c]; aunts and uncles then add
  nothing when both grandparents are typed;
- the parent untyped, no grandparent in the pedigree: four founder slots V = (p M)[c].

That is every shape where each side is its parent, or its grandparents (aunts and uncles only with both of
them), and siblings only with both parents typed: `slots` marks the others (a half sibling or a full sibling
whose parent is untyped, an aunt or uncle with a grandparent untyped) as not `exact` at the marker, and the
search screens those families by their pairwise units instead (docs/matching.md, "Joint pedigrees").

A family's slots are one `(markers, 8)` block of small integers into the concatenation [M[:, c] | (p M)[c] |
M^2[:, c] | (p M^2)[c]] (length 2n + 2); a marker none of the family is typed at holds the sentinel and counts 1,
as in `kinship_lr`. The scan sums log10 LRs over the child's typed markers (numba on all cores, numpy as the tested
reference); it equals `matching.joint.joint_lr` to rounding (tests/matching/test_joint.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.batch import GenotypeEncoding, LocusCodes, allele_indices
from matching.family_pedigree import AUNTS_UNCLES, FULL_SIBLING, GRANDPARENTS, HALF_SIBLINGS
from matching.fast import HAVE_NUMBA, FloatArray, IndexArray, compiled, pick
from matching.mutation import MutationModel
from matching.profiles import Profile

SLOT_DTYPE = np.uint16
SENTINEL = np.iinfo(SLOT_DTYPE).max  # no member typed at the marker: it counts 1
Slots = npt.NDArray[np.uint16]


def slots(
    encoding: GenotypeEncoding, roles: Sequence[str], codes: Sequence[npt.NDArray[Any]]
) -> tuple[Slots, npt.NDArray[np.bool_]]:
    """Return the slots (families, markers, 8) of families of one shape, and whether each is exact.

    `roles[i]` is the role of the i-th typed member of the shape (a role may repeat: two full siblings) and
    `codes[i]` their genotype codes (markers, families). A family is exact when the side formula holds at every
    marker (see the module docstring); the others' slots are meaningless.
    """
    n = codes[0].shape[1] if codes else 0
    out = np.full((n, len(encoding.markers), 8), SENTINEL, dtype=SLOT_DTYPE)
    exact = np.ones(n, dtype=bool)
    for row, marker in enumerate(encoding.markers):
        locus = encoding.loci[marker]
        marker_codes = [c[row].astype(np.int64) for c in codes]
        typed = [c != locus.untyped for c in marker_codes]
        informative = np.logical_or.reduce(typed) if typed else np.zeros(n, dtype=bool)
        full = np.zeros(n, dtype=bool)
        for role, t in zip(roles, typed, strict=True):
            full |= t & (role == FULL_SIBLING)
        for base, parent in ((0, "father"), (4, "mother")):
            side, breaks = _side(locus, parent, roles, marker_codes, typed, full)
            out[:, row, base : base + 4] = side.T.astype(SLOT_DTYPE)
            exact &= ~(breaks & informative)
        out[~informative, row, :] = SENTINEL
    return out, exact


def _side(
    locus: LocusCodes,
    parent: str,
    roles: Sequence[str],
    codes: list[npt.NDArray[np.int64]],
    typed: list[npt.NDArray[np.bool_]],
    full: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return one side's four slots per family (4, families) at a marker, and where the side formula fails."""
    n = len(full)
    k = len(locus.locus.alleles)
    first, second = np.append(locus.first, -1), np.append(locus.second, -1)
    members = [(r, c, t) for r, c, t in zip(roles, codes, typed, strict=True)]
    gp_roles = [r for r, (p, _) in GRANDPARENTS.items() if p == parent]
    aunts = {r for r, p in AUNTS_UNCLES.items() if p == parent}
    halves = {r for r, p in HALF_SIBLINGS.items() if p == parent}
    parent_typed = np.zeros(n, dtype=bool)
    typed_side = np.zeros((4, n), dtype=np.int64)
    for role, c, t in members:
        if role == parent:
            parent_typed = t
            typed_side = np.stack([first[c], second[c], first[c], second[c]])
    if any(r in gp_roles or r in aunts for r in roles):  # the parent has its parents in the pedigree
        gp_slots, gp_typed = [], []
        for gp in gp_roles:
            t = np.zeros(n, dtype=bool)
            pair = [np.full(n, 2 * k + 1, dtype=np.int64)] * 2  # an untyped grandparent: a founder slot
            for role, c, typed_gp in members:
                if role == gp:
                    t = typed_gp
                    pair = [
                        np.where(t, k + 1 + first[c], 2 * k + 1),
                        np.where(t, k + 1 + second[c], 2 * k + 1),
                    ]
            gp_slots += pair
            gp_typed.append(t)
        untyped_side = np.stack(gp_slots)
        both = gp_typed[0] & gp_typed[1]
    else:
        untyped_side = np.full((4, n), k, dtype=np.int64)
        both = np.zeros(n, dtype=bool)
    # Where the parent is untyped, relatives that inform it otherwise than through typed grandparents break the
    # side formula: a full sibling, a half sibling on this side, an aunt or uncle unless both grandparents are typed.
    breaks = full.copy()
    for role, _, t in members:
        if role in halves:
            breaks |= t
        elif role in aunts:
            breaks |= t & ~both
    return np.where(parent_typed, typed_side, untyped_side), breaks & ~parent_typed


def family_slots(encoding: GenotypeEncoding, family: Sequence[tuple[str, Profile]]) -> tuple[Slots, bool]:
    """Return one family's slots (1, markers, 8) from (role, profile) pairs, and whether it is exact."""
    columns = encoding.encode([p for _, p in family])
    out, exact = slots(encoding, [r for r, _ in family], [columns[:, i : i + 1] for i in range(len(family))])
    return out, bool(exact[0])


class ChildVectors:
    """One child's per-marker vectors [M[:, c] | (p M)[c] | M^2[:, c] | (p M^2)[c]] for c = c1 and c = c2."""

    def __init__(self, encoding: GenotypeEncoding, child: Profile, mutation: MutationModel | None) -> None:
        rows, vectors, offsets, denominators, lengths, homozygous = [], [], [], [], [], []
        start = 0
        for row, marker in enumerate(encoding.markers):
            genotype = child.genotype(marker)
            codes = encoding.loci[marker]
            if (
                genotype is None
                or genotype[0] not in codes.locus.alleles
                or genotype[1] not in codes.locus.alleles
            ):
                continue
            c1, c2 = allele_indices(codes.locus, genotype)
            p = codes.locus.frequencies
            m = encoding.mutation_matrix(mutation, marker) if mutation is not None else np.eye(len(p))
            m2 = m @ m
            for c in (c1, c2):
                vectors.append(np.concatenate([m[:, c], [(p @ m)[c]], m2[:, c], [(p @ m2)[c]]]))
            rows.append(row)
            offsets.append(start)
            lengths.append(2 * len(p) + 2)
            start += 2 * (2 * len(p) + 2)
            denominators.append(2.0 * p[c1] * p[c2])
            homozygous.append(c1 == c2)
        self.rows: IndexArray = np.array(rows, dtype=np.int64)
        self.offsets: IndexArray = np.array(offsets, dtype=np.int64)
        self.lengths: IndexArray = np.array(lengths, dtype=np.int64)
        self.vectors: FloatArray = np.concatenate(vectors) if vectors else np.zeros(0)
        self.denominators: FloatArray = np.array(denominators, dtype=np.float64)
        self.homozygous = np.array(homozygous, dtype=bool)


def log10_lr_numpy(child: ChildVectors, family_slots: Slots) -> FloatArray:
    """Return every family's joint log10 LR (slots: families x markers x 8): the reference of the numba scan."""
    out = np.zeros(family_slots.shape[0])
    for k in range(len(child.rows)):
        s = family_slots[:, child.rows[k]].astype(np.int64).T
        informative = s[0] != SENTINEL
        s = np.where(informative, s, 0)
        v1 = child.vectors[child.offsets[k] : child.offsets[k] + child.lengths[k]]
        v2 = child.vectors[child.offsets[k] + child.lengths[k] : child.offsets[k] + 2 * child.lengths[k]]
        a_f1, a_m1 = v1[s[:4]].mean(axis=0), v1[s[4:]].mean(axis=0)
        a_f2, a_m2 = v2[s[:4]].mean(axis=0), v2[s[4:]].mean(axis=0)
        with np.errstate(divide="ignore"):
            lr = np.log10((a_f1 * a_m2 + a_f2 * a_m1) / child.denominators[k])
        out += np.where(informative, lr, 0.0)
    return out


def _above_kernel(
    vectors: Any,
    offsets: Any,
    lengths: Any,
    denominators: Any,
    rows: Any,
    suffix: Any,
    threshold: float,
    family_slots: Any,
    out: Any,
) -> None:  # pragma: no cover - jitted
    n = family_slots.shape[0]
    for f in numba.prange(n):
        total = 0.0
        for k in range(len(rows)):
            s = family_slots[f, rows[k]]
            if s[0] != 65535:  # SENTINEL: nobody in the family typed here
                o1 = offsets[k]
                o2 = o1 + lengths[k]
                f1 = 0.0
                f2 = 0.0
                m1 = 0.0
                m2 = 0.0
                for j in range(4):
                    f1 += vectors[o1 + s[j]]
                    f2 += vectors[o2 + s[j]]
                    m1 += vectors[o1 + s[4 + j]]
                    m2 += vectors[o2 + s[4 + j]]
                lr = (f1 * m2 + f2 * m1) / 16.0 / denominators[k]
                total += np.log10(lr) if lr > 0.0 else -np.inf
            if total + suffix[k + 1] < threshold:
                total = -np.inf
                break
        out[f] = total


if HAVE_NUMBA:
    import numba

    _above_jit = compiled(_above_kernel)


def log10_lr(child: ChildVectors, family_slots: Slots, *, use_numba: bool = True) -> FloatArray:
    """Return every family's joint log10 LR (numba on all cores when present, else the numpy reference)."""
    if not (use_numba and HAVE_NUMBA) or family_slots.shape[0] == 0:
        return log10_lr_numpy(child, family_slots)
    return _run(child, family_slots, np.zeros(len(child.rows) + 1), -np.inf)


def _run(child: ChildVectors, family_slots: Slots, suffix: FloatArray, threshold: float) -> FloatArray:
    """Run the numba scan: every family's sum, or -inf for one dropped below `threshold` by the `suffix` bounds."""
    out = np.empty(family_slots.shape[0])
    kernel = pick(_above_jit, family_slots.shape[0])
    kernel(
        child.vectors, child.offsets, child.lengths, child.denominators, child.rows, suffix, threshold,
        family_slots, out,
    )  # fmt: skip
    return out


def above(
    child: ChildVectors, family_slots: Slots, log10_threshold: float, *, use_numba: bool = True
) -> tuple[IndexArray, FloatArray]:
    """Return (indices, log10 LRs) of the families reaching `log10_threshold` (minus 1e-6 for rounding).

    The numba scan drops a family as soon as its partial sum plus the most the remaining markers could add (per
    marker, max(V_c1, V_c2) / (2 p(c1) p(c2)) for a heterozygous child, at least 1) cannot reach the threshold; a family it keeps
    has the same sum, in the same order, as `log10_lr`, so the result is that of filtering `log10_lr`.
    """
    threshold = log10_threshold - 1e-6
    if not (use_numba and HAVE_NUMBA) or family_slots.shape[0] == 0:
        sums = log10_lr_numpy(child, family_slots)
    else:
        sums = _run(child, family_slots, _suffix_bounds(child), threshold - 1e-9)
    found = np.flatnonzero(sums >= threshold)
    return found.astype(np.int64), sums[found]


def _suffix_bounds(child: ChildVectors) -> FloatArray:
    """Return, for each k, an upper bound of what markers k, k+1, ... can add to a family's log10 LR."""
    best = np.zeros(len(child.rows) + 1)
    for k in range(len(child.rows)):
        start, length = int(child.offsets[k]), int(child.lengths[k])
        v1 = child.vectors[start : start + length].max()
        v2 = child.vectors[start + length : start + 2 * length].max()
        # A_S(c1) + A_S(c2) <= 1 (a parent passes one allele), so for c1 != c2 the numerator
        # A_F(c1) A_M(c2) + A_F(c2) A_M(c1) is at most max(A_F(c1), A_F(c2)); for c1 = c2 it is 2 A_F A_M.
        top = 2.0 * v1 * v2 if child.homozygous[k] else max(v1, v2)
        best[k] = max(0.0, float(np.log10(top / child.denominators[k])))
    suffix: FloatArray = np.cumsum(best[::-1])[::-1] + 1e-9
    return suffix
