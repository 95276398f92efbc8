"""CPU of storing a full re-match's results: `store_result` per child (the old batch store) vs `store_results` per
batch (what `reunite match --all` and its Dask shards store with now), on SQLite and PostgreSQL.

A synthetic population (`reunite synth`'s `intake.synthetic.populate`: N families, C found children, half of them
a family's child) is written to a fresh database, the worker's index is built and every child is searched once
(`rematch_batches`, one process, outside the timing). Then, in the same run and alternately, the same results are
stored both ways, each pass in `rematch`'s transactions (one per batch of 32 children, then the identity flags),
after deleting what the previous pass stored: this process's CPU seconds (the database server's are not counted)
and wall seconds per pass, per child. `--profile` prints cProfile's top functions of one pass of each.

    flock -x /tmp/reunite-cpu.lock .venv/bin/python -m benchmarks.bench_store [--families 2000] [--children 500]
        [--backend sqlite|postgresql|both] [--repeat 2] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from benchmarks.fault_notifications import DEFAULT_SERVER as PG_SERVER
from benchmarks.fault_notifications import scratch_database
from intake.models import Candidate, LineageEvidence, MatchFlag, MatchSearch, Notification, SampleLink
from intake.platform.db import make_engine, make_session_factory
from intake.synthetic import populate
from matching.service.rematch import Timed, rematch_batches
from matching.service.store import store_result, store_results
from matching.service.worker import Worker
from matching.synthetic import Config


@contextlib.contextmanager
def _engine(backend: str, folder: Path) -> Iterator[Engine]:
    """A migrated throw-away database: a SQLite file in `folder`, or one on the local PostgreSQL (dropped)."""
    server = "sqlite://" if backend == "sqlite" else PG_SERVER
    with scratch_database(server, folder) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _forget(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        session.execute(sa.delete(Notification).where(Notification.template == "candidate.stored"))
        for model in (LineageEvidence, SampleLink, Candidate, MatchFlag, MatchSearch):
            session.execute(sa.delete(model))


def _store(worker: Worker, batches: list[Timed], batched: bool) -> int:
    candidates = 0
    for batch in batches:
        with worker.session_factory() as session, session.begin():
            if batched:
                candidates += store_results(session, batch, worker.versions).candidates
            else:
                for result, duration_ms in batch:
                    counts = store_result(
                        session, result, worker.versions, job_id=None, duration_ms=duration_ms
                    )
                    candidates += counts.candidates
    return candidates


def run(backend: str, args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="reunite-bench-store-") as tmp,
        _engine(backend, Path(tmp)) as engine,
    ):
        populate(engine, Config(families=args.families, children=args.children), seed=args.seed,
                 truth_path=Path(tmp) / "truth.json")  # fmt: skip
        worker = Worker(make_session_factory(engine))
        worker.start()
        batches = [batch for _, batch in rematch_batches(worker.index, 1)]
        children = len(worker.index.child_slots())
        results = [r for batch in batches for r, _ in batch]
        empty = sum(not r.comparisons and not r.flags for r in results)
        print(f"{backend}: {args.families:,} families, {children:,} children, {len(results):,} results "
              f"({empty:,} without candidates or flags, {sum(len(r.comparisons) for r in results):,} comparisons)",
              flush=True)  # fmt: skip
        cpu: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):
            for batched in (False, True):
                _forget(engine)
                started, wall = time.process_time(), time.perf_counter()
                stored = _store(worker, batches, batched)
                spent = time.process_time() - started
                cpu[batched].append(spent)
                print(f"  {'store_results per batch ' if batched else 'store_result per child  '}: "
                      f"{spent:6.2f} s CPU ({spent / children * 1000:5.2f} ms per child), "
                      f"{time.perf_counter() - wall:6.2f} s wall; {stored:,} candidates", flush=True)  # fmt: skip
        old, new = min(cpu[False]), min(cpu[True])
        print(f"  {backend} best of {args.repeat}: {old / children * 1000:.2f} -> {new / children * 1000:.2f} ms "
              f"CPU per child ({old / new:.2f}x)", flush=True)  # fmt: skip
        if args.profile:
            for batched in (False, True):
                _forget(engine)
                profile = cProfile.Profile()
                profile.runcall(_store, worker, batches, batched)
                print(f"--- cProfile, {backend}, {'store_results' if batched else 'store_result'}:")
                stats = pstats.Stats(profile).sort_stats("cumulative")
                stats.print_stats(
                    r"(matching|intake)/", args.profile_top
                )  # our functions, by cumulative time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=2_000)
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run(backend, args)
    print(
        "reproduce: flock -x /tmp/reunite-cpu.lock .venv/bin/python -m benchmarks.bench_store", *sys.argv[1:]
    )


if __name__ == "__main__":
    main()
