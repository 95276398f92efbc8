"""How common a Y haplotype is, by counting it in a database, with an upper confidence bound.

Y-STR loci are inherited together, so a haplotype's frequency cannot be a product over loci: it is estimated
by counting. A haplotype seen x times among N haplotypes gets the one-sided upper bound of the Clopper-Pearson
interval at 95%, the bound the SWGDAM Y-STR interpretation guidelines name for the counting method (for x = 0
it is 1 - 0.05 ** (1 / N)). C.J. Clopper and E.S. Pearson, Biometrika 26:404-413 (1934),
doi:10.1093/biomet/26.4.404.

    clopper_pearson_upper(x, n, confidence=0.95) -> float
    count_matches(haplotype, database) -> (x, n)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from matching.ystr.haplotype import Haplotype


def _binomial_cdf(x: int, n: int, p: float) -> float:
    # P(X <= x) for X ~ Binomial(n, p), summed in log space so that n in the millions does not overflow.
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if x >= n else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for k in range(x + 1):
        log_term = (
            math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
        )
        total += math.exp(log_term)
    return min(total, 1.0)


def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """Return the upper bound p_U of the one-sided Clopper-Pearson interval: P(X <= x | n, p_U) = 1 - confidence.

    With no database (n = 0) or every haplotype a match (x = n) the bound is 1: the count says nothing.
    """
    if not 0 <= x <= n:
        raise ValueError(f"a count x={x} out of n={n}")
    alpha = 1.0 - confidence
    if x == n:
        return 1.0
    if x == 0:
        return 1.0 - math.pow(alpha, 1.0 / n)
    low, high = x / n, 1.0
    for _ in range(100):  # bisection: the CDF falls as p rises; 100 halvings reach double precision
        mid = (low + high) / 2
        if _binomial_cdf(x, n, mid) > alpha:
            low = mid
        else:
            high = mid
    return high


def count_matches(haplotype: Haplotype, database: Iterable[Haplotype]) -> tuple[int, int]:
    """Return (x, n): how many of the database's haplotypes typed at every locus of `haplotype` (n) carry it (x).

    A database haplotype that lacks one of its loci cannot be compared on the whole haplotype and is left out
    of both counts, so a partial profile is never counted as a non-match.
    """
    loci, target = list(haplotype), list(haplotype.values())
    x = n = 0
    for other in database:
        alleles = [other.get(locus) for locus in loci]
        if None not in alleles:
            n += 1
            x += alleles == target
    return x, n
