"""`reunite match --all --dask [ADDRESS]`: the full re-match on Dask (`dask.distributed`), families sharded.

Each Dask task reads, from the database, every child and claimed adult and the families whose case id is i
modulo n, builds that shard's index and searches every child against it; it returns comparisons, never writes.
The caller sums what each child was compared with over the shards (so `compared` and `expected_unrelated` are
those of the whole database) and stores everything in one place, once per pair (the candidates' unique key).
Every child-family pair is in exactly one shard. Identity between two family profiles is not re-checked here
(the ordinary searches flagged it when each profile arrived).

    rematch_on_dask(session_factory, table, settings, *, address=None, workers=2, processes=True) -> DaskSummary
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from intake.db import make_engine, make_session_factory
from matching.frequencies import FrequencyTable
from matching.search import Comparison, Entry, Flag, MatchIndex, SearchResult, Settings, Side
from matching.service.entries import entries
from matching.service.store import Versions, store_result


@dataclass(frozen=True)
class ShardResult:
    """What one shard found: per child, its comparisons and flags, and how many families it compared."""

    shard: int
    families: int
    found: dict[str, tuple[tuple[Comparison, ...], tuple[Flag, ...], int]]
    seconds: float


@dataclass(frozen=True)
class DaskSummary:
    shards: int
    children: int
    candidates: int
    flags: int
    seconds: float
    shard_seconds: tuple[float, ...]


def search_shard(url: str, i: int, n: int, table: FrequencyTable, settings: Settings) -> ShardResult:
    """Build shard i of n (every child, families with case id = i mod n) from the database and search it."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            index = MatchIndex(table, settings)
            children: list[str] = []
            families: set[int] = set()

            def mine() -> Iterator[Entry]:
                for entry in entries(session):
                    if entry.side is Side.FAMILY:
                        if entry.case_id % n != i:
                            continue
                        families.add(entry.case_id)
                    elif entry.side is Side.CHILD:
                        children.append(entry.profile_id)
                    yield entry

            index.add_many(mine())
    finally:
        engine.dispose()
    found = {}
    for child in children:
        if child in index:
            result = index.search(child)
            found[child] = (result.comparisons, result.flags, result.compared)
    return ShardResult(i, len(families), found, time.perf_counter() - started)


def _whole(c: Comparison, compared: int) -> Comparison:
    expected = compared * 10 ** (-c.log10_lr) if math.isfinite(c.log10_lr) else 0.0
    return dataclasses.replace(c, compared=compared, expected_unrelated=expected)


def merge(shards: list[ShardResult]) -> list[SearchResult]:
    """Return one search result per child: its comparisons of every shard, compared with the whole database."""
    comparisons: dict[str, list[Comparison]] = defaultdict(list)
    flags: dict[str, dict[tuple[str, tuple[str, ...]], Flag]] = defaultdict(dict)
    compared: dict[str, int] = defaultdict(int)
    for shard in shards:
        for child, (found, raised, count) in shard.found.items():
            comparisons[child] += found
            flags[child].update({(str(f.kind), tuple(sorted(f.profile_ids))): f for f in raised})
            compared[child] += count
    results = []
    for child in sorted(compared):
        unique = {(c.relationship, tuple(sorted(c.family_profile_ids))): c for c in comparisons[child]}
        whole = tuple(_whole(c, compared[child]) for c in unique.values())
        results.append(SearchResult(child, whole, tuple(flags[child].values()), compared[child]))
    return results


def rematch_on_dask(
    session_factory: sessionmaker[Session],
    table: FrequencyTable,
    settings: Settings,
    *,
    address: str | None = None,
    workers: int = 2,
    processes: bool = True,
) -> DaskSummary:
    """Search every child against every family on a Dask cluster (a local one without `address`); store once."""
    from dask.distributed import Client, LocalCluster

    started = time.perf_counter()
    bind = session_factory.kw["bind"]
    url = bind.url.render_as_string(hide_password=False)
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
    try:
        with Client(cluster if cluster is not None else address) as client:  # type: ignore[no-untyped-call]
            n = max(1, len(client.scheduler_info()["workers"]))
            futures = [client.submit(search_shard, url, i, n, table, settings, pure=False) for i in range(n)]
            shards: list[ShardResult] = client.gather(futures)
    finally:
        if cluster is not None:
            cluster.close()
    versions = Versions.of(table)
    candidates = flags = 0
    results = merge(shards)
    with session_factory() as session, session.begin():
        for result in results:
            counts = store_result(session, result, versions, job_id=None, duration_ms=0.0)
            candidates, flags = candidates + counts.candidates, flags + counts.flags
    return DaskSummary(
        n, len(results), candidates, flags, time.perf_counter() - started,
        tuple(s.seconds for s in sorted(shards, key=lambda s: s.shard)),
    )  # fmt: skip
