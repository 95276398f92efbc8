"""Small scans never wake numba's thread pool: fewer than `SERIAL_BELOW` candidates run the one-thread build of
the same kernel (same results); larger scans run the parallel build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matching import fast, index, shapes
from matching.batch import DuoScorer, TrioScorer
from matching.frequencies import FrequencyTable
from matching.index import Encoder, identical_columns
from matching.joint_index import PedigreeIndex
from matching.search import DEFAULT_MUTATION, Entry, Side
from matching.simulate import child_of, random_profile

pytestmark = pytest.mark.skipif(not fast.HAVE_NUMBA, reason="numba builds only")

TABLE = FrequencyTable.default()
ENCODER = Encoder(TABLE)


def _refuse(*_: Any) -> None:
    raise AssertionError("a small scan woke the parallel kernel")


def _codes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ENCODER.encode_many([random_profile(TABLE, rng) for _ in range(n)])[0]


def test_tiny_pools_run_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    child = random_profile(TABLE, rng)
    fathers, mothers = _codes(40, 1), _codes(40, 2)
    trio = TrioScorer(ENCODER.encoding, child, DEFAULT_MUTATION)
    duo = DuoScorer(ENCODER.encoding, child, DEFAULT_MUTATION)
    column = ENCODER.encode(child)[0]
    want = (
        trio.log10_lr(fathers, mothers),
        trio.above(fathers, mothers, -8.0),
        duo.log10_lr(fathers),
        duo.above(fathers, -5.0),
        identical_columns(column, ENCODER.untyped, fathers),
    )
    for name in ("_sum_jit", "_above_jit"):  # one kernel family: duos and trios run the same kernels
        monkeypatch.setattr(fast, name, (_refuse, getattr(fast, name)[1]))
    monkeypatch.setattr(index, "_identity_jit", (_refuse, index._identity_jit[1]))
    got = (
        trio.log10_lr(fathers, mothers),
        trio.above(fathers, mothers, -8.0),
        duo.log10_lr(fathers),
        duo.above(fathers, -5.0),
        identical_columns(column, ENCODER.untyped, fathers),
    )
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[2], want[2])
    for a, b in ((got[1], want[1]), (got[3], want[3]), (got[4], want[4])):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_large_pools_use_the_parallel_kernel_and_agree_with_one_thread() -> None:
    n = fast.SERIAL_BELOW + 5
    codes = np.repeat(_codes(64, 3), (n + 63) // 64, axis=1)[:, :n]
    rng = np.random.default_rng(6)
    duo = DuoScorer(ENCODER.encoding, random_profile(TABLE, rng), DEFAULT_MUTATION)
    assert fast.pick(fast._above_jit, n) is fast._above_jit[0]
    assert fast.pick(fast._above_jit, 100) is fast._above_jit[1]
    found, sums = duo.above(codes, -6.0)
    full = duo.log10_lr(codes, use_numba=False)
    np.testing.assert_array_equal(found, np.flatnonzero(full >= -6.0))
    np.testing.assert_array_equal(sums, full[found])


def test_a_search_of_a_small_index_never_wakes_the_thread_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: every kernel a search runs (identity, the pruned scans of each pool, both directions, the
    joint pedigrees) takes its one-thread build on an index of a few hundred profiles."""
    rng = np.random.default_rng(9)
    entries = []
    for i in range(60):
        for role, sex in (("father", "male"), ("mother", "female"), ("paternal_grandmother", "female")):
            person = len(entries)
            entries.append(Entry(f"p{person}", person, i, Side.FAMILY, role, sex, random_profile(TABLE, rng)))
    entries += [
        Entry(f"c{i}", 1000 + i, 1000 + i, Side.CHILD, "child", "unknown", random_profile(TABLE, rng))
        for i in range(40)
    ]
    kid = child_of(entries[3].profile, entries[4].profile, rng)
    entries.append(Entry("kid", 999, 999, Side.CHILD, "child", "unknown", kid))
    found = PedigreeIndex(TABLE)
    found.add_many(entries)
    want = (found.search("kid"), found.search("p3"))
    assert want[0].comparisons and want[1].comparisons
    for module, name in (
        (fast, "_sum_jit"),
        (fast, "_above_jit"),
        (index, "_identity_jit"),
        (shapes, "_above_jit"),
    ):
        monkeypatch.setattr(module, name, (_refuse, getattr(module, name)[1]))
    assert (found.search("kid"), found.search("p3")) == want


KERNEL = """
import numba
from matching.fast import compiled

def doubled(x, out):
    for i in numba.prange(x.shape[0]):
        out[i] = 2 * x[i]

builds = compiled(doubled)
"""


def test_the_parallel_build_never_loads_the_one_thread_build_from_numba_cache(tmp_path: Path) -> None:
    """numba's cache files a function under its name and line, keyed by signature, CPU and bytecode, not by
    whether it was built parallel: the two builds of one kernel must not share entries, or a process that scanned a
    small pool first leaves every later process scanning large pools on one thread."""
    (tmp_path / "two_builds.py").write_text(KERNEL)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run(code: str) -> str:
        header = "import numpy as np, two_builds as k; x, out = np.ones(4), np.empty(4); "
        done = subprocess.run(
            [sys.executable, "-c", header + code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    stats = "s = k.builds[0].stats; print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))"
    run("k.builds[1](x, out)")  # the one-thread build first, cached
    assert run("k.builds[0](x, out); " + stats) == "0 1"  # the parallel build compiles its own
    assert run("k.builds[0](x, out); " + stats) == "1 0"  # and finds it in the cache next time
    par, one = index._identity_jit
    assert par._cache._cache_file._index_name != one._cache._cache_file._index_name
