"""The full re-match on Dask: children sharded over many more shards than workers, each worker reading the index
snapshot the client wrote (never the database), results stored once by the client: the same rows as the local
re-match, even when a worker is killed mid-run (its shards run again elsewhere)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.match import make_match_commands
from intake.models import JobState, MatchJob
from matching import fast
from matching.service import Worker
from matching.service.distributed import (
    MIN_SHARD,
    SHARDS_PER_WORKER,
    Cluster,
    DaskOptions,
    rematch_on_dask,
    shard_sizes,
)
from matching.service.rematch import rematch_all
from matching.snapshot import load_snapshot, search_shard, warm_up, worker_memory
from tests.matching_service.test_rematch_all import SETTINGS, _forget, _populate, _stored
from tests.matching_service.world import World


def _searched_long_ago(world: World) -> Worker:
    _populate(world)
    with world.factory() as session, session.begin():
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))
    worker = Worker(world.factory, settings=SETTINGS)
    worker.start()
    return worker


def test_a_rematch_on_two_dask_worker_processes_stores_what_the_local_one_stores(world: World) -> None:
    worker = _searched_long_ago(world)
    rematch_all(worker, workers=1)
    local = _stored(world)
    _forget(world)
    killed: list[str] = []

    def kill_a_busy_worker(client: Any) -> None:
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # its shards are lost with it and must be run again
            killed.append(busy[0])

    options = DaskOptions(workers=2, processes=True, on_shard=kill_a_busy_worker)
    done = rematch_on_dask(
        worker, options, Cluster(options)
    )  # the cluster started before, as the command does
    assert killed, "no worker held a shard to lose"
    assert done.workers == 2 and done.shards > done.workers and done.children == 15
    assert done.times.cluster > 0 and done.times.client_cpu > 0 and done.times.worker_cpu > 0
    assert 50 * 2**20 < done.times.worker_memory < 4 * 2**30  # a worker's peak RSS, in bytes
    assert _stored(world) == local and local[0]
    assert (done.candidates, done.flags) == (len(local[0]), len(local[1]))  # each stored row counted once


def test_match_all_on_a_local_dask_cluster_from_the_command_line(world: World) -> None:
    world.typed_trio()
    commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
    result = CliRunner().invoke(
        commands["match"], ["--all", "--dask", "--workers", "1", "--no-progress"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "children searched" in result.output and len(world.candidates()) == 1
    assert re.search(r"memory of a Dask worker\s*[│|]?\s*[\d,]+ MB", result.output), result.output
    wrong = CliRunner().invoke(commands["match"], ["--pending", "--dask"])
    assert wrong.exit_code == 2 and "--all" in wrong.output
    remote = CliRunner().invoke(commands["match"], ["--all", "--dask", "tcp://127.0.0.1:1"])
    assert remote.exit_code == 2 and "--snapshot-dir" in remote.output


def test_shards_come_largest_first_and_the_last_ones_are_small() -> None:
    for children, workers in ((15, 2), (5_000, 2), (100_000, 16), (3, 4), (0, 2)):
        sizes = shard_sizes(children, workers)
        assert sum(sizes) == children and all(s > 0 for s in sizes)
        assert sizes == sorted(sizes, reverse=True)
        if children >= workers * SHARDS_PER_WORKER * MIN_SHARD:  # many more shards than workers, a short tail
            assert sizes[0] == -(-children // (workers * SHARDS_PER_WORKER))
            assert len(sizes) > workers * SHARDS_PER_WORKER and sizes[-2] == MIN_SHARD


def test_a_worker_warms_up_its_kernels_before_any_snapshot(monkeypatch: Any) -> None:
    monkeypatch.setattr(fast, "SERIAL_BELOW", fast.SERIAL_BELOW)  # warm_up sets one thread, as in a worker
    assert warm_up() == 2  # both children searched
    assert fast.SERIAL_BELOW == 2**62


def test_what_a_dask_worker_runs_imports_no_database_code() -> None:
    """The functions shipped to the workers are pickled by reference to their module: a worker imports that
    module, so it must hold the engine only (no models, no SQLAlchemy, no web stack, no settings)."""
    shipped = {f.__module__ for f in (warm_up, load_snapshot, search_shard, worker_memory)}
    assert shipped == {"matching.snapshot"}
    code = (
        "import sys, matching.snapshot as s; s.warm_up(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'intake', 'sqlalchemy', 'flask', 'psycopg'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
