"""The paternal-lineage LR of a boy's Y haplotype against a paternal-line male of a family.

    LR = P(h_boy | h_relative, same paternal line, g meioses apart) / f(h_boy)

The numerator is a product over the loci typed in both: each Y copy passes down every meiosis unchanged with
probability 1 - mu, or one repeat longer or shorter with mu / 2 each (the single-step model; mu is the locus's
YHRD rate, `matching.ystr.loci`), so over g meioses the repeat difference d has the g-fold convolution of that
step. Loci are unlinked in mutation (each mutates on its own), though inherited together. A multi-copy locus
(an unordered pair) sums over the two ways the boy's copies can pair with the relative's. A difference the
model cannot make (a microvariant change such as 13 -> 13.2, or more steps than meioses) has probability 0:
the locus is inconsistent and the LR is 0. The denominator f(h_boy) is the haplotype's frequency on the same
loci, counted in the database with the Clopper-Pearson upper 95% bound (`matching.ystr.counting`): a
conservative (smaller) LR when the count is small.

    MEIOSES: role -> g        lineage_lr(child, relative, meioses, database) -> Lineage
    combined_log10_lr(autosomal, lineage) -> float | None
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from matching.alleles import tenths
from matching.ystr.counting import clopper_pearson_upper, count_matches
from matching.ystr.haplotype import Haplotype
from matching.ystr.loci import loci

# Meioses between the missing boy and a paternal-line male of his family, by the relative's role string: the
# sided roles of joint pedigrees and the older ones that already say the side (a father; a full sibling shares
# the father). Roles that do not say the side (grandparent, aunt_uncle, half_sibling) are left out: a maternal
# grandfather or uncle carries another Y.
MEIOSES: Mapping[str, int] = {
    "father": 1,
    "paternal_grandfather": 2,
    "full_sibling": 2,
    "sibling": 2,
    "paternal_half_sibling": 2,
    "paternal_aunt_uncle": 3,
}


@cache
def step_distribution(rate: float, meioses: int) -> dict[int, float]:
    """Return P(repeat difference = d) after `meioses` single-step transmissions at per-meiosis `rate`."""
    if meioses < 1:
        raise ValueError("a paternal-line relative is at least one meiosis away")
    one = {-1: rate / 2, 0: 1.0 - rate, 1: rate / 2}
    dist = {0: 1.0}
    for _ in range(meioses):
        nxt: dict[int, float] = {}
        for d, p in dist.items():
            for step, q in one.items():
                nxt[d + step] = nxt.get(d + step, 0.0) + p * q
        dist = nxt
    return dist


def _copy_probability(child: str, relative: str, rate: float, meioses: int) -> float:
    diff = tenths(child) - tenths(relative)
    if diff % 10:
        return 0.0  # a change of the partial repeat: not a single-step mutation
    return step_distribution(rate, meioses).get(diff // 10, 0.0)


def locus_probability(child: tuple[str, ...], relative: tuple[str, ...], rate: float, meioses: int) -> float:
    """Return P(child's alleles | relative's alleles) at one locus; a pair is unordered on both sides."""
    if len(child) == 1:
        return _copy_probability(child[0], relative[0], rate, meioses)
    (c1, c2), (r1, r2) = child, relative
    straight = _copy_probability(c1, r1, rate, meioses) * _copy_probability(c2, r2, rate, meioses)
    if c1 == c2:
        return straight
    return straight + _copy_probability(c2, r1, rate, meioses) * _copy_probability(c1, r2, rate, meioses)


@dataclass(frozen=True)
class LocusEvidence:
    """One locus of a lineage comparison: both sides' alleles, the locus's rate and P(child | relative)."""

    locus: str
    child: tuple[str, ...]
    relative: tuple[str, ...]
    rate: float
    probability: float


@dataclass(frozen=True)
class Lineage:
    """A lineage comparison: the evidence per locus, the count behind the frequency, and the LR (None = 0)."""

    meioses: int
    loci: list[LocusEvidence]
    matches: int  # x: database haplotypes equal to the boy's on the compared loci
    database: int  # n: database haplotypes typed on all of them
    frequency: float  # the Clopper-Pearson upper 95% bound of x / n
    log10_lr: float | None
    inconsistent: list[str] = field(default_factory=list)


def lineage_lr(child: Haplotype, relative: Haplotype, meioses: int, database: Iterable[Haplotype]) -> Lineage:
    """Compare a boy's haplotype with a paternal-line relative `meioses` apart, the frequency from `database`.

    `database` holds the other lines' haplotypes (not the boy's nor the relative's family). Only the loci typed
    in both count, for the transmission and for the frequency alike.
    """
    shared = [locus for locus in child if locus in relative]
    evidence = [
        LocusEvidence(locus, child[locus], relative[locus], loci()[locus].rate,
                      locus_probability(child[locus], relative[locus], loci()[locus].rate, meioses))
        for locus in shared
    ]  # fmt: skip
    x, n = count_matches({locus: child[locus] for locus in shared}, database)
    frequency = clopper_pearson_upper(x, n) if shared else 1.0
    inconsistent = [e.locus for e in evidence if e.probability == 0.0]
    log10_lr = None
    if not inconsistent:
        log10_lr = sum(math.log10(e.probability) for e in evidence) - math.log10(frequency)
    return Lineage(meioses, evidence, x, n, frequency, log10_lr, inconsistent)


def combined_log10_lr(autosomal: float | None, lineage: float | None) -> float | None:
    """Return log10 of autosomal LR x lineage LR (None for an LR of 0 on either side).

    The product assumes the two are independent given the hypotheses: the Y-STRs lie in the non-recombining
    part of the Y chromosome, unlinked to every autosomal marker, and the lineage LR conditions only on the
    paternal line, which "this boy is the family's missing child" implies.
    """
    if autosomal is None or lineage is None:
        return None
    return autosomal + lineage
