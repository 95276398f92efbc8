"""`reunite match --all --dask [ADDRESS]`: the full re-match on Dask (`dask.distributed`), children sharded.

The client (the `reunite` command) builds the index from the database, runs the queue, finds the identical pairs
once, and writes one snapshot of the index (its numpy code pools and id maps, pickled) to storage every worker
can read: a temporary folder for a local cluster, `snapshot_dir` (shared storage, e.g. NFS) for a remote one.
Every worker loads the snapshot once, all at once, before the first shard (its compiled kernels too; a worker
that joins later loads it in its first shard). The children are cut into many more shards than there are workers,
largest first (`shard_sizes`: each a share of what is left, so a slow worker does not hold everyone and the last
shards, which decide when the run ends, are small); a task searches its shard's children exactly as the local
re-match does (`MatchIndex.rematch`: every family unit, each child's
tables built once, in the one task that holds it) and returns the results. The client stores each shard's results
as it arrives, in one transaction per shard (`store_result`: candidates once per pair), with a progress bar, and
the identical pairs' flags at the end.

Workers never connect to the database and are given no credentials: they read only the snapshot (which holds
genotype codes and profile, person and case ids, so it is personal data: keep the folder as private as the
database, the command deletes its file at the end). A worker that dies mid-run loses only the shards it held:
the scheduler runs them again on another worker (Dask re-runs the tasks of a lost worker; `retries` covers a task
that raised), and the client stores each shard once, when its result arrives.

    rematch_on_dask(worker, DaskOptions(address=None, workers=2, ...)) -> DaskSummary (with the phases' DaskTimes)
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.search import MatchIndex, SearchResult
from matching.service.rematch import progress_bar
from matching.service.store import store_result
from matching.service.worker import RunSummary, Worker

SHARDS_PER_WORKER = 8  # the first shards: children / (workers * 8); later ones shrink (see `shard_sizes`)
MIN_SHARD = 4
RETRIES = 2

Pairs = list[tuple[int, int, int]]


@dataclass(frozen=True)
class DaskOptions:
    """Where and how: a cluster's `address` (None: a local cluster of `workers` processes, or threads without
    `processes`), the snapshot folder (required with an address), a progress bar, and `on_shard(client)`, called
    after each stored shard (tests use it to kill a worker mid-run)."""

    address: str | None = None
    workers: int = 2
    processes: bool = True
    snapshot_dir: str | os.PathLike[str] | None = None
    progress: bool = False
    on_shard: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class DaskTimes:
    """Wall seconds of a run's phases: starting the cluster and connecting, writing the snapshot, every worker
    loading it (and its kernels, in parallel), searching the shards (first submitted to last result), closing."""

    start: float
    snapshot: float
    load: float
    scan: float
    close: float

    @property
    def whole(self) -> float:
        return self.start + self.snapshot + self.load + self.scan + self.close


@dataclass(frozen=True)
class DaskSummary:
    pending: RunSummary  # the queue, run first by the client
    shards: int
    workers: int
    children: int
    candidates: int
    flags: int
    seconds: float
    times: DaskTimes


_LOADED: dict[
    str, tuple[MatchIndex, Pairs]
] = {}  # per worker process: snapshot path -> (index, identical pairs)


def _load(path: str) -> tuple[MatchIndex, Pairs]:
    if path not in _LOADED:
        from matching import fast

        fast.SERIAL_BELOW = 2**62  # one core per Dask worker process: numba's threads would fight the others'
        _LOADED.clear()  # one snapshot at a time per worker
        with open(path, "rb") as f:
            index, pairs = pickle.load(f)  # noqa: S301 - our own snapshot, on storage as private as the database
        children = index.child_slots()
        if children:  # load the compiled kernels now, not in the first shard
            index.search_slot(children[0], [])
        _LOADED[path] = index, pairs
    return _LOADED[path]


def load_snapshot(path: str) -> int:
    """Load the snapshot at `path` into this worker process (once; its kernels too); return its profiles."""
    return len(_load(path)[0])


def search_shard(path: str, slots: list[int]) -> list[SearchResult]:
    """Search one shard of children (person slots) against every family unit of the snapshot at `path`."""
    index, pairs = _load(path)
    return list(index.rematch(slots, pairs))


def write_snapshot(index: MatchIndex, pairs: Pairs, folder: str | os.PathLike[str]) -> Path:
    """Write the index and its identical pairs to a new file in `folder`; return its path."""
    path = Path(folder) / f"reunite-index-{uuid.uuid4().hex}.pickle"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump((index, pairs), f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)  # a worker never reads half a file
    return path


def shard_sizes(children: int, workers: int) -> list[int]:
    """Return shard sizes, largest first: each a share of what is left (remaining / (workers *
    SHARDS_PER_WORKER), at least MIN_SHARD), so that the last shards, which decide when the run ends, are small."""
    sizes = []
    left = children
    while left > 0:
        size = min(left, max(MIN_SHARD, -(-left // (workers * SHARDS_PER_WORKER))))
        sizes.append(size)
        left -= size
    return sizes


def shards_on_dask(
    index: MatchIndex,
    pairs: Pairs,
    store: Callable[[list[SearchResult]], None],
    options: DaskOptions = DaskOptions(),
) -> tuple[int, int, DaskTimes]:
    """Search every child of `index` on a Dask cluster (a local one without an address), handing each shard's
    results to `store` as they arrive; return (shards, workers, the phases' wall seconds)."""
    from dask.distributed import Client, LocalCluster, as_completed

    children = index.child_slots()
    if options.address is not None and options.snapshot_dir is None:
        raise ValueError("a remote Dask cluster needs snapshot_dir: a folder every worker can read")
    marks = [time.perf_counter()]
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: marks.append(time.perf_counter()))  # closing ends here, whatever happens
        target: Any = options.address
        if target is None:
            target = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=options.workers,
                threads_per_worker=1,
                processes=options.processes,
                dashboard_address=None,
                protocol="tcp://",
                host="127.0.0.1",  # a local cluster listens on loopback only
            )
            stack.callback(target.close)
        client = stack.enter_context(Client(target))  # type: ignore[no-untyped-call]
        n_workers = max(1, len(client.scheduler_info()["workers"]))
        marks.append(time.perf_counter())
        folder = options.snapshot_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="reunite-rematch-")
        )
        path = write_snapshot(index, pairs, folder)
        stack.callback(path.unlink, missing_ok=True)
        marks.append(time.perf_counter())
        # Every worker loads it at once. One that joins later, or fails here (it is then lost or restarted), loads
        # it in its first shard, where an error is retried and then raised.
        client.run(load_snapshot, str(path), on_error="ignore")
        marks.append(time.perf_counter())
        starts = np.cumsum([0, *shard_sizes(len(children), n_workers)]).tolist()
        shards = [children[a:z] for a, z in itertools.pairwise(starts)]
        advance = progress_bar(stack, "re-matching children on Dask", len(children), options.progress)
        futures = client.map(search_shard, [str(path)] * len(shards), shards, pure=False, retries=RETRIES)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            results: list[SearchResult] = future.result()
            store(results)
            advance(len(results))
            future.release()
            if options.on_shard is not None:
                options.on_shard(client)
        marks.append(time.perf_counter())
    start, snapshot, load, scan, close = np.diff(marks).tolist()
    return len(shards), n_workers, DaskTimes(start, snapshot, load, scan, close)


def rematch_on_dask(worker: Worker, options: DaskOptions = DaskOptions()) -> DaskSummary:
    """Run the queue, then re-match every child on a Dask cluster (see `DaskOptions`); store here.

    `worker` has its index built (`Worker.start`).
    """
    started = time.perf_counter()
    pending = worker.run_pending()
    index = worker.index
    pairs = index.identical_pairs()
    counts = [0, 0]  # candidates, flags

    def store(results: list[SearchResult]) -> None:
        with worker.session_factory() as session, session.begin():
            for result in results:
                stored = store_result(session, result, worker.versions, job_id=None, duration_ms=0.0)
                counts[0] += stored.candidates
                counts[1] += stored.flags

    n_shards, n_workers, times = shards_on_dask(index, pairs, store, options)
    with worker.session_factory() as session, session.begin():
        for result in index.identity_results(pairs):
            counts[1] += store_result(session, result, worker.versions, job_id=None, duration_ms=0.0).flags
    return DaskSummary(
        pending, n_shards, n_workers, len(index.child_slots()), counts[0], counts[1],
        time.perf_counter() - started, times,
    )  # fmt: skip
