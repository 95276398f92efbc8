"""How fast one child is scored against a million candidate parents (duo) and couples (trio_couple).

Prints combined LRs per second over all shipped markers for: the numba kernel (`matching.fast`), the numpy gather
over the same tables, and a straightforward per-marker numpy implementation of the textbook formulas (the
baseline), all measured in this run, next to the floor: the time to just read the genotype codes once.

    make bench      (or: .venv/bin/python -m benchmarks.bench_kinship [--candidates 1000000] [--repeats 7])
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import fast  # noqa: E402
from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer  # noqa: E402
from matching.frequencies import FrequencyTable  # noqa: E402
from matching.profiles import Profile  # noqa: E402

COMMAND = "make bench   (or .venv/bin/python -m benchmarks.bench_kinship)"


def simulate(table: FrequencyTable, enc: GenotypeEncoding, n: int, rng: np.random.Generator):
    """Return (codes, alleles) of n unrelated people drawn from the table: codes (markers, n) uint16 and the
    allele indices (markers, 2, n) uint8 that the baseline reads."""
    codes = np.empty((len(enc.markers), n), dtype=np.uint16)
    alleles = np.empty((len(enc.markers), 2, n), dtype=np.uint8)
    for i, marker in enumerate(enc.markers):
        locus = enc.loci[marker]
        k = len(locus.locus.alleles)
        cdf = np.cumsum(locus.locus.frequencies)
        a = np.minimum(np.searchsorted(cdf, rng.random(n)), k - 1)
        b = np.minimum(np.searchsorted(cdf, rng.random(n)), k - 1)
        lookup = np.empty((k, k), dtype=np.uint16)
        for (x, y), code in locus.codes.items():
            lookup[x, y] = lookup[y, x] = code
        codes[i] = lookup[a, b]
        alleles[i, 0], alleles[i, 1] = a, b
    return codes, alleles


def child_profile(table: FrequencyTable, rng: np.random.Generator) -> Profile:
    genotypes = {}
    for marker in table.markers:
        locus = table.locus(marker)
        a, b = rng.choice(len(locus.alleles), size=2, p=locus.frequencies)
        genotypes[marker] = tuple(sorted((locus.alleles[a], locus.alleles[b]), key=locus.alleles.index))
    return Profile(genotypes)  # type: ignore[arg-type]


def baseline(table: FrequencyTable, child: Profile, parents: list[np.ndarray]) -> np.ndarray:
    """Return log10 LRs by the textbook formulas, marker by marker in numpy (no mutation, no theta)."""
    n = parents[0].shape[2]
    total = np.zeros(n)
    for i, marker in enumerate(table.markers):
        locus = table.locus(marker)
        c1, c2 = (locus.index(a) for a in child.genotypes[marker])
        p1, p2 = locus.frequencies[c1], locus.frequencies[c2]

        def passes(who: np.ndarray, allele: int, i: int = i) -> np.ndarray:
            return ((who[i, 0] == allele).astype(np.float64) + (who[i, 1] == allele)) / 2

        if len(parents) == 1:  # duo: the other parent passes an allele at its frequency
            tp = parents[0]
            lr = (
                passes(tp, c1) / p1
                if c1 == c2
                else (passes(tp, c1) * p2 + passes(tp, c2) * p1) / (2 * p1 * p2)
            )
        else:
            f, m = parents
            if c1 == c2:
                lr = passes(f, c1) * passes(m, c1) / (p1 * p1)
            else:
                lr = (passes(f, c1) * passes(m, c2) + passes(f, c2) * passes(m, c1)) / (2 * p1 * p2)
        with np.errstate(divide="ignore"):
            total += np.log10(lr)
    return total


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def read_floor(*arrays: np.ndarray) -> int:
    """Return the sum of every code: the cost of just reading the data once (numba, both cores, when present)."""
    if _sum_codes is None:
        return int(sum(int(a.sum(dtype=np.int64)) for a in arrays))
    return sum(int(_sum_codes(a)) for a in arrays)


def _sum_codes_kernel(codes: np.ndarray) -> int:  # pragma: no cover - jitted
    total = 0
    for k in fast.numba.prange(codes.shape[0]):
        row = codes[k]
        acc = 0
        for c in range(row.shape[0]):
            acc += row[c]
        total += acc
    return total


_sum_codes = fast.numba.njit(parallel=True, cache=True)(_sum_codes_kernel) if fast.HAVE_NUMBA else None


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    numba_version = getattr(getattr(fast, "numba", None), "__version__", "absent")
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__},"
        f" numba {numba_version}, {platform.system()} {platform.release()},"
        f" load average {os.getloadavg()[0]:.2f} (other work on the machine slows every row)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    n = args.candidates
    rng = np.random.default_rng(args.seed)
    table = FrequencyTable.default()
    enc = GenotypeEncoding(table)
    child = child_profile(table, rng)
    fathers, father_alleles = simulate(table, enc, n, rng)
    mothers, mother_alleles = simulate(table, enc, n, rng)

    start = time.perf_counter()
    duo = DuoScorer(enc, child, None, 0.0)
    duo_build = time.perf_counter() - start
    start = time.perf_counter()
    trio = TrioScorer(enc, child, None, 0.0)
    trio_build = time.perf_counter() - start

    # Warm up (numba compiles or loads its cache) and check every path gives the same answers.
    fast_duo, fast_trio = duo.log10_lr(fathers), trio.log10_lr(fathers, mothers)
    read_floor(fathers), read_floor(fathers, mothers)
    sample = slice(0, 100_000)
    np.testing.assert_allclose(
        fast_duo[sample], duo.log10_lr(fathers[:, sample], use_numba=False), rtol=1e-12
    )
    np.testing.assert_allclose(
        fast_trio[sample], trio.log10_lr(fathers[:, sample], mothers[:, sample], use_numba=False), rtol=1e-12
    )
    sub = [father_alleles[:, :, sample]]
    np.testing.assert_allclose(fast_duo[sample], baseline(table, child, sub), rtol=1e-9)
    sub.append(mother_alleles[:, :, sample])
    np.testing.assert_allclose(fast_trio[sample], baseline(table, child, sub), rtol=1e-9)

    rows = [
        ("duo", "read floor (sum of codes)", best_of(lambda: read_floor(fathers), args.repeats)),
        ("duo", "numba kernel (matching.fast)", best_of(lambda: duo.log10_lr(fathers), args.repeats)),
        ("duo", "numpy, same tables", best_of(lambda: duo.log10_lr(fathers, use_numba=False), 3)),
        ("duo", "baseline: per-marker numpy", best_of(lambda: baseline(table, child, [father_alleles]), 3)),
        ("trio_couple", "read floor (sum of codes)", best_of(lambda: read_floor(fathers, mothers), args.repeats)),
        ("trio_couple", "numba kernel (matching.fast)", best_of(lambda: trio.log10_lr(fathers, mothers), args.repeats)),
        ("trio_couple", "numpy, same tables", best_of(lambda: trio.log10_lr(fathers, mothers, use_numba=False), 3)),
        ("trio_couple", "baseline: per-marker numpy", best_of(lambda: baseline(table, child, [father_alleles, mother_alleles]), 3)),
    ]  # fmt: skip
    print(
        f"kinship scan: one child against {n:,} candidates, {len(enc.markers)} markers, no mutation, theta 0"
    )
    print(f"machine: {machine()}")
    print(
        f"tables for this child: duo {duo_build * 1000:.0f} ms, trio_couple {trio_build * 1000:.0f} ms (once per child)"
    )
    print(f"{'relationship':<13} {'path':<30} {'time':>10} {'LRs per second':>16}")
    for relationship, path, seconds in rows:
        print(f"{relationship:<13} {path:<30} {seconds * 1000:8.1f} ms {n / seconds:16,.0f}")
    print(f"reproduce: {COMMAND}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
