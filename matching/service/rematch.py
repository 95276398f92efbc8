"""`reunite match --all` without Dask: the full re-match in one direction, stored by this process.

The worker's index is built from the database and the queue is run first (pending searches and withdrawals, so
the index is current); then `MatchIndex.rematch` searches every child against every family unit (no family-side
searches: each of their pairs is a pair of a child's search) and flags identical profiles once. Children are
searched in batches over a pool of forked processes, one per local core (`local_cores`: the cores this process may
run on; each runs the one-thread kernels; the index is shared copy-on-write), and every batch's results are stored by this process, one transaction per batch,
through `store_results`: the same rows as a job's `store_result` per child (candidates once per pair, duos after
their trio, officers alerted), with the per-child look-ups done once per batch.
Each child's search gets a `match_searches` row (no job id); the first profile of an identical pair that is no
child gets one for its flags; other family profiles get none (their pairs are in their children's rows).

    rematch_all(worker, *, workers=None, progress=False) -> RematchSummary
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from matching.search import MatchIndex, SearchResult
from matching.service.store import store_results
from matching.service.worker import RunSummary, Worker
from matching.snapshot import one_thread, tiny_rematch

BATCH = 32  # children per task and per transaction

Timed = list[tuple[SearchResult, float]]


@dataclass(frozen=True)
class RematchSummary:
    pending: RunSummary  # the queue, run first
    children: int
    candidates: int
    flags: int
    workers: int
    seconds: float


# The forked workers' view of the parent's index and identical pairs (inherited, never pickled).
_SHARED: tuple[MatchIndex, list[tuple[int, int, int]]] | None = None


def _timed(results: Iterator[SearchResult]) -> Timed:
    out = []
    started = time.perf_counter()
    for result in results:
        now = time.perf_counter()
        out.append((result, (now - started) * 1000))
        started = now
    return out


def _search_batch(slots: list[int]) -> Timed:
    assert _SHARED is not None
    index, pairs = _SHARED
    return _timed(index.rematch(slots, pairs))


def rematch_batches(index: MatchIndex, workers: int) -> Iterator[tuple[bool, Timed]]:
    """Yield (children?, results): the children's batch by batch, in order, then the other profiles' flags."""
    global _SHARED
    pairs = index.identical_pairs()
    children = index.child_slots()
    batches = [children[i : i + BATCH] for i in range(0, len(children), BATCH)]
    if workers > 1 and len(batches) > 1 and "fork" in multiprocessing.get_all_start_methods():
        tiny_rematch()  # the kernels loaded here, before forking: a child never compiles
        _SHARED = (index, pairs)
        try:
            # A child that dies (killed, out of memory) breaks the pool: BrokenProcessPool, not a run that waits
            # for ever (multiprocessing.Pool replaces the dead child and never gives its batch back)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=one_thread) as pool:
                for done in pool.map(_search_batch, batches):
                    yield True, done
        finally:
            _SHARED = None
    else:
        for batch in batches:
            yield True, _timed(index.rematch(batch, pairs))
    yield False, _timed(index.identity_results(pairs))


def local_cores() -> int:
    """Return how many cores this process may run on (its CPU affinity where the system says, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - systems without affinity (macOS, Windows)
        return os.cpu_count() or 1


def progress_bar(stack: contextlib.ExitStack, label: str, total: int, shown: bool) -> Callable[[int], None]:
    """Return a function advancing a progress bar of `total` by n (held open by `stack`), or one doing nothing."""
    if not shown:
        return lambda n: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = stack.enter_context(
        Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    )
    return functools.partial(bar.advance, bar.add_task(label, total=total))


def rematch_all(worker: Worker, *, workers: int | None = None, progress: bool = False) -> RematchSummary:
    """Run the queue, then re-match every child against every family unit and store it (see the module); on
    every core this process may use unless `workers` says how many processes."""
    started = time.perf_counter()
    pending = worker.run_pending()
    n_workers = workers or local_cores()
    index = worker.index
    total = len(index.child_slots())
    children = candidates = flags = 0
    with contextlib.ExitStack() as stack:
        advance = progress_bar(stack, "re-matching children", total, progress)
        for of_children, batch in rematch_batches(index, n_workers):
            with worker.session_factory() as session, session.begin():
                counts = store_results(session, batch, worker.versions)
            candidates += counts.candidates
            flags += counts.flags
            if of_children:
                children += len(batch)
                advance(len(batch))
    return RematchSummary(pending, children, candidates, flags, n_workers, time.perf_counter() - started)
