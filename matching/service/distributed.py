"""`reunite match --all --dask [ADDRESS]`: the full re-match on Dask (`dask.distributed`), children sharded.

The client (the `reunite` command) builds the index from the database, runs the queue, finds the identical pairs
once, and writes one snapshot of the index (its numpy code pools and id maps, pickled) to storage every worker
can read: a temporary folder for a local cluster, `snapshot_dir` (shared storage, e.g. NFS) for a remote one.
The children are cut into many more shards than there are workers (`SHARDS_PER_WORKER` each, so a slow worker
does not hold everyone); a task loads the snapshot once per worker process (kept for its next shards), searches
its shard's children exactly as the local re-match does (`MatchIndex.rematch`: every family unit, each child's
tables built once, in the one task that holds it) and returns the results. The client stores each shard's results
as it arrives, in one transaction per shard (`store_result`: candidates once per pair), with a progress bar, and
the identical pairs' flags at the end.

Workers never connect to the database and are given no credentials: they read only the snapshot (which holds
genotype codes and profile, person and case ids, so it is personal data: keep the folder as private as the
database, the command deletes its file at the end). A worker that dies mid-run loses only the shards it held:
the scheduler runs them again on another worker (Dask re-runs the tasks of a lost worker; `retries` covers a task
that raised), and the client stores each shard once, when its result arrives.

    rematch_on_dask(worker, *, address=None, workers=2, processes=True, snapshot_dir=None, ...) -> DaskSummary
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.search import MatchIndex, SearchResult
from matching.service.store import store_result
from matching.service.worker import RunSummary, Worker

SHARDS_PER_WORKER = 8
RETRIES = 2

Pairs = list[tuple[int, int, int]]


@dataclass(frozen=True)
class DaskSummary:
    pending: RunSummary  # the queue, run first by the client
    shards: int
    workers: int
    children: int
    candidates: int
    flags: int
    seconds: float


_LOADED: dict[
    str, tuple[MatchIndex, Pairs]
] = {}  # per worker process: snapshot path -> (index, identical pairs)


def _load(path: str) -> tuple[MatchIndex, Pairs]:
    if path not in _LOADED:
        from matching import fast

        fast.SERIAL_BELOW = 2**62  # one core per Dask worker process: numba's threads would fight the others'
        _LOADED.clear()  # one snapshot at a time per worker
        with open(path, "rb") as f:
            _LOADED[path] = pickle.load(f)  # noqa: S301 - our own snapshot, on storage as private as the database
    return _LOADED[path]


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


def shards_on_dask(
    index: MatchIndex,
    pairs: Pairs,
    store: Callable[[list[SearchResult]], None],
    *,
    address: str | None = None,
    workers: int = 2,
    processes: bool = True,
    snapshot_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    on_shard: Callable[[Any], None] | None = None,
) -> tuple[int, int]:
    """Search every child of `index` on a Dask cluster (a local one without `address`), handing each shard's
    results to `store` as they arrive; return (shards, workers). `on_shard(client)` runs after each `store`."""
    from dask.distributed import Client, LocalCluster, as_completed

    children = index.child_slots()
    cluster = None
    if address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            protocol="tcp://",
            host="127.0.0.1",  # a local cluster listens on loopback only
        )
    elif snapshot_dir is None:
        raise ValueError("a remote Dask cluster needs snapshot_dir: a folder every worker can read")
    with contextlib.ExitStack() as stack:
        if cluster is not None:
            stack.callback(cluster.close)
        folder = snapshot_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="reunite-rematch-"))
        path = write_snapshot(index, pairs, folder)
        stack.callback(path.unlink, missing_ok=True)
        client = stack.enter_context(Client(cluster if cluster is not None else address))  # type: ignore[no-untyped-call]
        n_workers = max(1, len(client.scheduler_info()["workers"]))
        size = max(1, -(-len(children) // (n_workers * SHARDS_PER_WORKER)))
        shards = [children[i : i + size] for i in range(0, len(children), size)]
        advance: Callable[[int], None] = lambda n: None  # noqa: E731
        if progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = stack.enter_context(
                Progress(TextColumn("re-matching children on Dask"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn())
            )  # fmt: skip
            advance = functools.partial(bar.advance, bar.add_task("children", total=len(children)))
        futures = client.map(search_shard, [str(path)] * len(shards), shards, pure=False, retries=RETRIES)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            results: list[SearchResult] = future.result()
            store(results)
            advance(len(results))
            future.release()
            if on_shard is not None:
                on_shard(client)
    return len(shards), n_workers


def rematch_on_dask(
    worker: Worker,
    *,
    address: str | None = None,
    workers: int = 2,
    processes: bool = True,
    snapshot_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    on_shard: Callable[[Any], None] | None = None,
) -> DaskSummary:
    """Run the queue, then re-match every child on a Dask cluster (a local one without `address`); store here.

    `worker` has its index built (`Worker.start`). `on_shard(client)` is called after each stored shard (tests
    use it to kill a worker mid-run).
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

    n_shards, n_workers = shards_on_dask(
        index, pairs, store, address=address, workers=workers, processes=processes,
        snapshot_dir=snapshot_dir, progress=progress, on_shard=on_shard,
    )  # fmt: skip
    with worker.session_factory() as session, session.begin():
        for result in index.identity_results(pairs):
            counts[1] += store_result(session, result, worker.versions, job_id=None, duration_ms=0.0).flags
    return DaskSummary(
        pending, n_shards, n_workers, len(index.child_slots()), counts[0], counts[1],
        time.perf_counter() - started,
    )  # fmt: skip
