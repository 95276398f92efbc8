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

from matching.batch import GenotypeEncoding, allele_indices
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
    n_markers = len(encoding.markers)
    n = codes[0].shape[1] if codes else 0
    out = np.full((n, n_markers, 8), SENTINEL, dtype=SLOT_DTYPE)
    exact = np.ones(n, dtype=bool)
    for row, marker in enumerate(encoding.markers):
        locus = encoding.loci[marker]
        untyped = locus.untyped
        k = len(locus.locus.alleles)
        first = np.append(locus.first, -1)
        second = np.append(locus.second, -1)
        typed = {i: codes[i][row].astype(np.int64) != untyped for i in range(len(roles))}
        informative = np.zeros(n, dtype=bool)
        for t in typed.values():
            informative |= t

        def of(role: str) -> list[int]:
            return [i for i, r in enumerate(roles) if r == role]

        full = np.zeros(n, dtype=bool)
        for i in of(FULL_SIBLING):
            full |= typed[i]
        for base, parent in ((0, "father"), (4, "mother")):
            side_gps = [r for r, (p, _) in GRANDPARENTS.items() if p == parent]
            side_aunts = [r for r, p in AUNTS_UNCLES.items() if p == parent]
            side_halves = [r for r, p in HALF_SIBLINGS.items() if p == parent]
            has_gp_nodes = any(of(r) for r in (*side_gps, *side_aunts))
            parent_typed = np.zeros(n, dtype=bool)
            pa1 = np.zeros(n, dtype=np.int64)
            pa2 = np.zeros(n, dtype=np.int64)
            for i in of(parent):
                c = codes[i][row].astype(np.int64)
                parent_typed = typed[i]
                pa1, pa2 = first[c], second[c]
            gp_slots = []
            gp_typed = []
            for r in side_gps:
                t = np.zeros(n, dtype=bool)
                g1 = np.full(n, 2 * k + 1, dtype=np.int64)
                g2 = g1.copy()
                for i in of(r):
                    c = codes[i][row].astype(np.int64)
                    t = typed[i]
                    g1 = np.where(t, k + 1 + first[c], g1)
                    g2 = np.where(t, k + 1 + second[c], g2)
                gp_slots += [g1, g2]
                gp_typed.append(t)
            if has_gp_nodes:
                untyped_side = np.stack(gp_slots)
            else:
                untyped_side = np.full((4, n), k, dtype=np.int64)
            typed_side = np.stack([pa1, pa2, pa1, pa2])
            out[:, row, base : base + 4] = np.where(parent_typed, typed_side, untyped_side).T.astype(SLOT_DTYPE)
            # Where the parent is untyped, relatives that inform it otherwise than through typed grandparents
            # break the side formula.
            breaks = full.copy()
            for r in side_halves:
                for i in of(r):
                    breaks |= typed[i]
            both_gps = gp_typed[0] & gp_typed[1]
            for r in side_aunts:
                for i in of(r):
                    breaks |= typed[i] & ~both_gps
            exact &= ~(breaks & ~parent_typed & informative)
        out[~informative, row, :] = SENTINEL
    return out, exact


def family_slots(encoding: GenotypeEncoding, family: Sequence[tuple[str, Profile]]) -> tuple[Slots, bool]:
    """Return one family's slots (1, markers, 8) from (role, profile) pairs, and whether it is exact."""
    columns = encoding.encode([p for _, p in family])
    out, exact = slots(encoding, [r for r, _ in family], [columns[:, i : i + 1] for i in range(len(family))])
    return out, bool(exact[0])


class ChildVectors:
    """One child's per-marker vectors [M[:, c] | (p M)[c] | M^2[:, c] | (p M^2)[c]] for c = c1 and c = c2."""

    def __init__(self, encoding: GenotypeEncoding, child: Profile, mutation: MutationModel | None) -> None:
        rows, vectors, offsets, denominators, lengths = [], [], [], [], []
        start = 0
        for row, marker in enumerate(encoding.markers):
            genotype = child.genotype(marker)
            codes = encoding.loci[marker]
            if genotype is None or genotype[0] not in codes.locus.alleles or genotype[1] not in codes.locus.alleles:
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
        self.rows: IndexArray = np.array(rows, dtype=np.int64)
        self.offsets: IndexArray = np.array(offsets, dtype=np.int64)
        self.lengths: IndexArray = np.array(lengths, dtype=np.int64)
        self.vectors: FloatArray = np.concatenate(vectors) if vectors else np.zeros(0)
        self.denominators: FloatArray = np.array(denominators, dtype=np.float64)


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


def _scan_kernel(
    vectors: Any, offsets: Any, lengths: Any, denominators: Any, rows: Any, family_slots: Any, out: Any
) -> None:  # pragma: no cover - jitted
    n = family_slots.shape[0]
    for f in numba.prange(n):
        total = 0.0
        for k in range(len(rows)):
            s = family_slots[f, rows[k]]
            if s[0] == 65535:
                continue
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
        out[f] = total


if HAVE_NUMBA:
    import numba

    _scan_jit = compiled(_scan_kernel)


def log10_lr(child: ChildVectors, family_slots: Slots, *, use_numba: bool = True) -> FloatArray:
    """Return every family's joint log10 LR (numba on all cores when present, else the numpy reference)."""
    if not (use_numba and HAVE_NUMBA) or family_slots.shape[0] == 0:
        return log10_lr_numpy(child, family_slots)
    out = np.empty(family_slots.shape[0])
    kernel = pick(_scan_jit, family_slots.shape[0])
    kernel(child.vectors, child.offsets, child.lengths, child.denominators, child.rows, family_slots, out)
    return out


def above(
    child: ChildVectors, family_slots: Slots, log10_threshold: float, *, use_numba: bool = True
) -> tuple[IndexArray, FloatArray]:
    """Return (indices, log10 LRs) of the families reaching `log10_threshold` (minus 1e-6 for rounding)."""
    sums = log10_lr(child, family_slots, use_numba=use_numba)
    found = np.flatnonzero(sums >= log10_threshold - 1e-6)
    return found.astype(np.int64), sums[found]
