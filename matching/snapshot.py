"""What a re-match's worker processes run: an index snapshot, loaded once, and the searches of its shards.

A Dask worker (`matching.service.distributed`) and a forked re-match process (`matching.service.rematch`) need
the engine only: this module imports `matching`'s computation and numpy, never the database layer, the models or
the web stack (`intake`, SQLAlchemy, Flask: the import-linter contract "the kinship engine is pure computation").
The functions a Dask client ships to its workers are pickled by reference to this module, so a worker imports
this and nothing of the service: it starts in less time and memory, and it holds no code that could reach the
database, whose credentials it is never given.

    warm_up() -> int                                     load the compiled kernels (a tiny re-match), one thread
    write_snapshot(index, pairs, folder) -> Path         the client writes the index once
    load_snapshot(path) -> int                           a worker loads it once (and its kernels)
    search_shard(path, slots) -> (results, cpu seconds)  a worker searches a shard of children
    worker_memory() -> int                               a worker's peak resident memory, bytes
"""

from __future__ import annotations

import os
import pickle
import resource
import sys
import time
import uuid
from pathlib import Path

from matching.search import MatchIndex, SearchResult

Pairs = list[tuple[int, int, int]]

# per worker process: snapshot path -> (index, identical pairs)
_LOADED: dict[str, tuple[MatchIndex, Pairs]] = {}


def one_thread() -> None:
    """Make this process run the one-thread kernels only: a forked or Dask worker process never wakes numba's
    thread pool, whose threads would fight the other workers' for the cores (one core each)."""
    from matching import fast

    fast.SERIAL_BELOW = 2**62


def tiny_rematch() -> int:
    """Re-match a tiny synthetic index (two couples, a typed parent, two children) in this process; return how
    many results it gave. Every pool is tiny, so this loads (or compiles) the one-thread kernels the workers run:
    done before forking, so that no forked child compiles, and by each Dask worker before its first shard."""
    import numpy as np

    from matching.frequencies import FrequencyTable
    from matching.joint_index import PedigreeIndex
    from matching.search import Entry, Side
    from matching.simulate import child_of, random_profiles

    table = FrequencyTable.default()
    rng = np.random.default_rng(20)
    parents = random_profiles(table, rng, 6)
    index = PedigreeIndex(table)
    index.add_many(
        [Entry(f"p{i}", i, i // 2, Side.FAMILY, ("father", "mother")[i % 2], ("male", "female")[i % 2], p)
         for i, p in enumerate(parents[:5])]
        + [Entry("c0", 10, 10, Side.CHILD, "child", "unknown", child_of(parents[0], parents[1], rng)),
           Entry("c1", 11, 11, Side.CHILD, "child", "unknown", child_of(parents[2], parents[5], rng))]
    )  # fmt: skip
    return len(list(index.rematch()))


def warm_up() -> int:
    """Import the engine and load its compiled kernels in this worker process, before any snapshot exists: a
    re-match of a tiny synthetic index (`tiny_rematch`); return how many results it gave."""
    one_thread()
    return tiny_rematch()


def write_snapshot(index: MatchIndex, pairs: Pairs, folder: str | os.PathLike[str]) -> Path:
    """Write the index and its identical pairs to a new file in `folder`; return its path."""
    path = Path(folder) / f"reunite-index-{uuid.uuid4().hex}.pickle"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump((index, pairs), f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)  # a worker never reads half a file
    return path


def _load(path: str) -> tuple[MatchIndex, Pairs]:
    if path not in _LOADED:
        one_thread()
        _LOADED.clear()  # one snapshot at a time per worker
        with open(path, "rb") as f:
            index, pairs = pickle.load(f)  # noqa: S301 - our own snapshot, on storage as private as the database
        children = index.child_slots()
        if children:  # load any compiled kernel `warm_up` did not, now, not in the first shard
            index.search_slot(children[0], [])
        _LOADED[path] = index, pairs
    return _LOADED[path]


def load_snapshot(path: str) -> int:
    """Load the snapshot at `path` into this worker process (once; its kernels too); return its profiles."""
    return len(_load(path)[0])


def search_shard(path: str, slots: list[int]) -> tuple[list[SearchResult], float]:
    """Search one shard of children (person slots) against every family unit of the snapshot at `path`; return
    the results and the CPU seconds of the search (this thread's)."""
    index, pairs = _load(path)
    cpu = time.thread_time()
    results = list(index.rematch(slots, pairs))
    return results, time.thread_time() - cpu


def worker_memory() -> int:
    """This process's peak resident memory in bytes (what a worker needed: its interpreter, the engine, the
    snapshot it loaded and its searches' temporaries)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux
