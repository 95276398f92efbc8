"""`reunite match --all --dask [ADDRESS]`: the full re-match on Dask (`dask.distributed`), children sharded.

The command starts the cluster first, in the background (`Cluster`: a local cluster's worker processes start,
import reunite and load the compiled kernels; with an address, the client connects and warms the remote
workers) while it builds the index from the database and runs the queue. Then it finds the identical pairs
once and writes one snapshot of the index (its numpy code pools and id maps, pickled) to storage every worker
can read: a temporary folder for a local cluster, `snapshot_dir` (shared storage, e.g. NFS) for a remote one.
Every worker loads the snapshot once, all at once, before the first shard (a worker that joins later loads it
in its first shard). The children are cut into many more shards than there are workers,
largest first (`shard_sizes`: each a share of what is left, so a slow worker does not hold everyone and the last
shards, which decide when the run ends, are small); a task searches its shard's children exactly as the local
re-match does (`MatchIndex.rematch`: every family unit, each child's
tables built once, in the one task that holds it) and returns the results. The client stores each shard's results
as it arrives, in one transaction per shard (`store_results`: candidates once per pair, the look-ups once per shard), with a progress bar, and
the identical pairs' flags at the end, while the cluster closes in the background.

A local cluster's workers run without the statistical profiler and without dask's `MALLOC_TRIM_THRESHOLD_`
(`LOCAL_WORKER_CONFIG`): both cost a worker a share of its scan (see docs/matching.md).

Workers never connect to the database and are given no credentials: what they run (`warm_up`, `load_snapshot`,
`search_shard`) is `matching.snapshot`'s, which imports the engine only, not the database layer, the models or
the web stack, so a worker neither loads them nor could reach the database. They read only the snapshot (which holds
genotype codes and profile, person and case ids, so it is personal data: keep the folder as private as the
database, the command deletes its file at the end). A worker that dies mid-run loses only the shards it held:
the scheduler runs them again on another worker (Dask re-runs the tasks of a lost worker; `retries` covers a task
that raised), and the client stores each shard once, when its result arrives.

    with Cluster(options) as cluster:          # starts now, in the background
        worker.start()                         # the index, from the database
        rematch_on_dask(worker, options, cluster) -> DaskSummary (with the phases' DaskTimes)
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.search import MatchIndex, SearchResult
from matching.service.rematch import progress_bar
from matching.service.store import store_results
from matching.service.worker import RunSummary, Worker
from matching.snapshot import Pairs, load_snapshot, search_shard, warm_up, worker_memory, write_snapshot

SHARDS_PER_WORKER = 8  # the first shards: children / (workers * 8); later ones shrink (see `shard_sizes`)
MIN_SHARD = 4
RETRIES = 2
# A local cluster's workers: no statistical profiler (a thread sampling every task's stack 100 times a second,
# taking the GIL from the scan) and glibc's own malloc trimming (dask sets MALLOC_TRIM_THRESHOLD_=65536, which
# also turns off glibc's adaptive mmap threshold: every large numpy temporary of a child's tables and scans is
# then a fresh mmap, zeroed and faulted in page by page).
LOCAL_WORKER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


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
    """Wall seconds of a run's phases once the index is built: writing the snapshot, waiting for the cluster
    (started in the background: `cluster` is how long its start took, overlapped with the index build), every
    worker loading the snapshot (in parallel), searching the shards (first submitted to last result stored),
    and waiting for the close (started after the last result). `client_cpu`: the command's CPU seconds during
    the scan (receiving and storing the results, the local scheduler), on the cores the workers use too;
    `worker_cpu`: the searches' own CPU seconds in the workers."""

    start: float
    snapshot: float
    load: float
    scan: float
    close: float
    cluster: float = 0.0
    client_cpu: float = 0.0
    worker_cpu: float = 0.0  # the searches' CPU seconds in the workers, every shard's last run
    worker_memory: int = 0  # a worker's largest peak RSS, bytes (`matching.snapshot.worker_memory`)

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


class Cluster:
    """A Dask client, made ready in the background from the moment this is created: a local cluster of
    `options.workers` processes started (or the cluster at `options.address` reached) and every worker warmed
    (`warm_up`), while the caller builds the index. `client()` waits for it; `close()` closes the client and a
    local cluster (waiting for a start still under way); `closing()` does it in the background."""

    def __init__(self, options: DaskOptions) -> None:
        self.options = options
        self.seconds = 0.0  # how long the start took
        self._stack = contextlib.ExitStack()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="reunite-dask")
        self._ready = self._thread.submit(self._connect, time.perf_counter())
        self._closed: Future[None] | None = None

    def _connect(self, started: float) -> Any:
        import dask
        from dask.distributed import Client, LocalCluster

        target: Any = self.options.address
        if target is None:
            with dask.config.set(LOCAL_WORKER_CONFIG):
                target = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=self.options.workers,
                    threads_per_worker=1,
                    processes=self.options.processes,
                    dashboard_address=None,
                    protocol="tcp://",
                    host="127.0.0.1",  # a local cluster listens on loopback only
                )
            self._stack.callback(target.close)
        client = self._stack.enter_context(Client(target))  # type: ignore[no-untyped-call]
        client.run(warm_up, on_error="ignore")  # a worker that fails here loads everything in its first shard
        self.seconds = time.perf_counter() - started
        return client

    def client(self) -> Any:
        """Return the connected client (waiting for the start if it is still under way)."""
        return self._ready.result()

    def closing(self) -> Future[None]:
        """Start closing (once) in the background; return its future."""
        if self._closed is None:
            self._closed = self._thread.submit(self._close)
        return self._closed

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._ready.result()  # a start that failed left nothing open but what the stack holds
        self._stack.close()

    def close(self) -> None:
        """Close, and wait until it is closed."""
        try:
            self.closing().result()
        finally:
            self._thread.shutdown()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shards_on_dask(
    index: MatchIndex,
    pairs: Pairs,
    store: Callable[[list[SearchResult]], None],
    options: DaskOptions = DaskOptions(),
    cluster: Cluster | None = None,
) -> tuple[int, int, DaskTimes]:
    """Search every child of `index` on a Dask cluster (`cluster`, or one started now from `options`), handing
    each shard's results to `store` as they arrive; return (shards, workers, the phases' wall seconds).

    The cluster is closed at the end: in the background when it was given (the caller waits with its
    `close()`), here otherwise (the close then counted in the times)."""
    from dask.distributed import as_completed

    children = index.child_slots()
    if options.address is not None and options.snapshot_dir is None:
        raise ValueError("a remote Dask cluster needs snapshot_dir: a folder every worker can read")
    given = cluster is not None
    marks = [time.perf_counter()]
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: marks.append(time.perf_counter()))  # closing ends here, whatever happens
        cluster = cluster or Cluster(options)
        stack.callback(cluster.closing if given else cluster.close)
        # The snapshot first: it does not need the cluster, which may still be starting.
        folder = options.snapshot_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="reunite-rematch-")
        )
        path = write_snapshot(index, pairs, folder)
        stack.callback(path.unlink, missing_ok=True)  # first of all, before the cluster closes
        marks.append(time.perf_counter())
        client = cluster.client()
        n_workers = max(1, len(client.scheduler_info()["workers"]))
        marks.append(time.perf_counter())
        # Every worker loads it at once. One that joins later, or fails here (it is then lost or restarted), loads
        # it in its first shard, where an error is retried and then raised.
        client.run(load_snapshot, str(path), on_error="ignore")
        marks.append(time.perf_counter())
        cpu, worker_cpu = time.process_time(), 0.0
        starts = np.cumsum([0, *shard_sizes(len(children), n_workers)]).tolist()
        shards = [children[a:z] for a, z in itertools.pairwise(starts)]
        advance = progress_bar(stack, "re-matching children on Dask", len(children), options.progress)
        futures = client.map(search_shard, [str(path)] * len(shards), shards, pure=False, retries=RETRIES)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            results, searched = future.result()
            future.release()
            worker_cpu += searched
            store(results)
            advance(len(results))
            if options.on_shard is not None:
                options.on_shard(client)
        marks.append(time.perf_counter())
        cpu = time.process_time() - cpu
        peaks = client.run(worker_memory, on_error="ignore")  # timed with the close, not the scan
        memory = max((p for p in peaks.values() if isinstance(p, int)), default=0)
    snapshot, start, load, scan, close = np.diff(marks).tolist()
    return (
        len(shards),
        n_workers,
        DaskTimes(start, snapshot, load, scan, close, cluster.seconds, cpu, worker_cpu, memory),
    )


def rematch_on_dask(
    worker: Worker, options: DaskOptions = DaskOptions(), cluster: Cluster | None = None
) -> DaskSummary:
    """Run the queue, then re-match every child on a Dask cluster (`cluster`, started before the index was built,
    or one started now; see `DaskOptions`); store here. The cluster is closed when this returns.

    `worker` has its index built (`Worker.start`).
    """
    started = time.perf_counter()
    pending = worker.run_pending()
    index = worker.index
    pairs = index.identical_pairs()
    counts = [0, 0]  # candidates, flags

    def store(results: list[SearchResult]) -> None:
        with worker.session_factory() as session, session.begin():
            stored = store_results(session, [(r, 0.0) for r in results], worker.versions)
        counts[0] += stored.candidates
        counts[1] += stored.flags

    cluster = cluster or Cluster(options)
    with contextlib.ExitStack() as stack:
        stack.callback(cluster.close)
        n_shards, n_workers, times = shards_on_dask(index, pairs, store, options, cluster)
        after = time.perf_counter()
        # The cluster closes (started by shards_on_dask) while the identical pairs' flags are stored.
        with worker.session_factory() as session, session.begin():
            identity = [(r, 0.0) for r in index.identity_results(pairs)]
            counts[1] += store_results(session, identity, worker.versions).flags
    times = dataclasses.replace(times, close=times.close + time.perf_counter() - after)  # flags and close
    return DaskSummary(
        pending, n_shards, n_workers, len(index.child_slots()), counts[0], counts[1],
        time.perf_counter() - started, times,
    )  # fmt: skip
