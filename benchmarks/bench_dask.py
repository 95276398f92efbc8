"""Full re-match on a local Dask cluster: 1 vs 2 worker processes, same population, same run, phase by phase.

The population of `benchmarks.bench_rematch` (N families, C children) is indexed once; then
`matching.service.distributed.shards_on_dask` (what `reunite match --all --dask` runs between reading the database
and storing) searches every child on a local cluster of 1, then 2 worker processes (one thread each): the index
snapshot written once and loaded by every worker at once, children in shards largest first, results streamed back
(here counted, not stored). Each run prints its phases' wall times: starting the cluster (processes, imports),
writing the snapshot, the workers loading it (and their compiled kernels), the scan phase (first shard submitted
to last result), closing; "whole" is their sum, the command's wall time between building the index and storing.
The local re-match on one process (`rematch_batches`, one thread) is the CPU baseline of the same run. The load
average is printed: on a shared machine two workers may not get two cores.

    .venv/bin/python -m benchmarks.bench_dask [--families 100000] [--children 5000]   # the issue's size
    .venv/bin/python -m benchmarks.bench_dask --families 5000 --children 200          # a smoke run

`--command` times the real command instead, end to end, from a PostgreSQL database of its own: `reunite synth
--families N --children C --seed 2026` populates `reunite_bench_dask_base` (created, and dropped at the end unless
`--keep`; a kept one of the same size is reused), and each run gets a fresh copy of it (`CREATE DATABASE ... TEMPLATE`,
not timed), on which `reunite match --all --dask --workers W --no-progress` runs as its own process: the
process's wall time (interpreter start, the index build from the database with the cluster starting meanwhile,
the queue, the scan, storing every result, the close), the phases the command prints and the PostgreSQL
server's CPU meanwhile (its processes' in /proc, before and after). `--local` adds
`reunite match --all --workers 1` (the local re-match, one process) as the baseline of the same run.

    .venv/bin/python -m benchmarks.bench_dask --command [--families 100000 --children 5000] [--local] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.bench_rematch import _population
from matching import fast
from matching.frequencies import FrequencyTable
from matching.search import MatchIndex, SearchResult
from matching.service.distributed import DaskOptions, DaskTimes, shards_on_dask
from matching.service.rematch import rematch_batches

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASE = "reunite_bench_dask_base"
RUN = "reunite_bench_dask_run"
KEPT = Path(tempfile.gettempdir()) / "reunite-bench-dask"  # a kept database's data folder and keys


def _admin(server: str) -> sa.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT")


def _exists(admin: sa.Engine, name: str) -> bool:
    with admin.connect() as conn:
        return (
            conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}).first()
            is not None
        )


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _reunite(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run `reunite ARGS` as its own process; return its wall seconds and what it printed."""
    command = [str(Path(sys.executable).parent / "reunite"), *args]
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        sys.exit(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return wall, done.stdout


def _postgres_cpu() -> float:
    """CPU seconds (user + system) used so far by this machine's PostgreSQL server processes, ended backends
    included (0 where /proc is not there): read before and after a run, the database server's share of it
    (anyone else's queries meanwhile included)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                fields = text[text.rindex(")") + 2 :].split()
                # utime, stime and the reaped children's cutime, cstime (fields 14-17 of stat): a backend's time
                # moves to the postmaster's cutime when its connection ends
                total += sum(int(f) for f in fields[11:15])
    return total / tick


def _rows(output: str) -> dict[str, str]:
    """The rows of the summary tables the command printed (label -> value)."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[tuple[sa.Engine, dict[str, str]]]:
    """The populated base database and the environment its commands run with (data folder, keys)."""
    admin = _admin(args.server)
    KEPT.mkdir(mode=0o700, exist_ok=True)
    keys = KEPT / "keys"
    size = KEPT / "size"
    wanted = f"{args.families} {args.children}"
    env = {**os.environ, "REUNITE_DATA_DIR": str(KEPT / "data"), "COLUMNS": "250"}
    env.pop("DATABASE_URL", None)
    try:
        if not (_exists(admin, BASE) and keys.exists() and size.exists() and size.read_text() == wanted):
            _drop(admin, BASE)
            env["REUNITE_DATA_KEYS"] = _reunite(env, "keys", "new")[1].strip().splitlines()[-1]
            keys.write_text(env["REUNITE_DATA_KEYS"])
            keys.chmod(0o600)
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{BASE}"'))
            env["DATABASE_URL"] = str(make_url(args.server).set(database=BASE).render_as_string(False))
            print(
                f"populating {BASE}: {args.families:,} families, {args.children:,} found children ...",
                flush=True,
            )
            wall, _ = _reunite(env, "synth", "--families", str(args.families), "--children", str(args.children),
                               "--seed", "2026")  # fmt: skip
            size.write_text(wanted)
            print(f"  written in {wall:.0f} s", flush=True)
        env["REUNITE_DATA_KEYS"] = keys.read_text()
        yield admin, env
    finally:
        _drop(admin, RUN)
        if not args.keep:
            _drop(admin, BASE)
            size.unlink(missing_ok=True)
        admin.dispose()


def command_runs(args: argparse.Namespace) -> None:
    """Time `reunite match --all --dask` end to end from a database, 1 then 2 workers (see the module)."""
    if args.populate:
        args.keep = True
        with _database(args):
            return
    with _database(args) as (admin, env):
        env["DATABASE_URL"] = str(make_url(args.server).set(database=RUN).render_as_string(False))
        base = sa.create_engine(make_url(args.server).set(database=BASE))
        with base.connect() as conn:
            profiles = conn.execute(
                sa.text("SELECT count(*) FROM profiles WHERE replaced_at IS NULL")
            ).scalar()
        base.dispose()
        print(f"{args.families:,} families and {args.children:,} found children: {profiles:,} current profiles",
              flush=True)  # fmt: skip
        runs = [
            ("local re-match, 1 process", ["match", "--all", "--workers", "1", "--no-progress"])
        ] * args.local
        runs += [(f"Dask, {w} worker(s)", ["match", "--all", "--dask", "--workers", str(w), "--no-progress"])
                 for w in (1, 2)]  # fmt: skip
        walls: dict[str, float] = {}
        for name, command in runs:
            _drop(admin, RUN)
            with admin.connect() as conn:  # the same database for every run, copied outside the timing
                conn.execute(sa.text(f'CREATE DATABASE "{RUN}" TEMPLATE "{BASE}"'))
            load, server = os.getloadavg()[0], _postgres_cpu()
            wall, output = _reunite(env, *command)
            server = _postgres_cpu() - server
            rows = _rows(output)
            walls[name] = wall
            shown = "; ".join(f"{k}: {rows[k]}" for k in (
                "children searched", "new candidates", "new flags", "shards", "index build", "re-match",
                "CPU in the scan", "memory of a Dask worker", "took", "processes",
            ) if k in rows)  # fmt: skip
            print(f"{name}: `reunite {' '.join(command)}` {wall:.1f} s wall (the process, start to exit);"
                  f" {shown}; PostgreSQL server CPU meanwhile {server:.1f} s; load average before {load:.1f}",
                  flush=True)  # fmt: skip
        one, two = walls["Dask, 1 worker(s)"], walls["Dask, 2 worker(s)"]
        print(f"speed-up of the command, 1 -> 2 Dask workers: {one / two:.2f}x ({one:.1f} s -> {two:.1f} s)")
    print("reproduce:", ".venv/bin/python -m benchmarks.bench_dask", *sys.argv[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=5_000)
    parser.add_argument(
        "--command", action="store_true", help="time the real command from a database of its own"
    )
    parser.add_argument(
        "--local", action="store_true", help="with --command: the local re-match too (baseline)"
    )
    parser.add_argument("--keep", action="store_true", help="with --command: keep the populated database")
    parser.add_argument("--populate", action="store_true", help="with --command: populate (and keep) the database "
                        "only, e.g. under a shared lock before the timed runs under an exclusive one")  # fmt: skip
    parser.add_argument("--server", default=os.environ.get("REUNITE_BENCH_PG_SERVER", SERVER),
                        help="with --command: a PostgreSQL server (URL) where databases may be created")  # fmt: skip
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_dask", *sys.argv[1:])
    if args.command:
        command_runs(args)
        return
    table = FrequencyTable.default()
    index = MatchIndex(table)
    index.add_many(_population(table, args.families, args.children, 2026))
    units = sum(len(p) for k, p in index.pools.items() if k != "child")
    pairs = units * args.children
    print(f"{args.families:,} families ({units:,} units) x {args.children:,} children = {pairs:,} pairs")
    serial, fast.SERIAL_BELOW = fast.SERIAL_BELOW, 2**62  # one thread, as a Dask worker
    t0, c0 = time.perf_counter(), time.process_time()
    found = sum(len(r.comparisons) for _, batch in rematch_batches(index, 1) for r, _ in batch)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fast.SERIAL_BELOW = serial
    print(f"baseline, local re-match on one process, one thread: {wall:.1f} s wall, {cpu:.1f} s CPU"
          f" ({cpu / args.children * 1000:.1f} ms per child), {found} comparisons,"
          f" {pairs / cpu:,.0f} pairs per CPU-second; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    identical = index.identical_pairs()
    runs: dict[int, DaskTimes] = {}
    for workers in (1, 2):
        got: list[int] = []

        def count(results: list[SearchResult], got: list[int] = got) -> None:
            got.append(sum(len(r.comparisons) for r in results))

        shards, n, times = shards_on_dask(index, identical, count, DaskOptions(workers=workers))
        runs[workers] = times
        print(
            f"Dask, {n} worker(s), {shards} shards, {sum(got)} comparisons: whole {times.whole:.1f} s wall ="
            f" start {times.start:.1f} + snapshot write {times.snapshot:.1f} + load {times.load:.1f}"
            f" + scan {times.scan:.1f} + close {times.close:.1f}; CPU in the scan: client {times.client_cpu:.1f} s, searches {times.worker_cpu:.1f} s;"
            f" scan {pairs / times.scan / n:,.0f} pairs per second per worker; load average {os.getloadavg()[0]:.1f}"
        )
    one, two = runs[1], runs[2]
    print(f"speed-up 1 -> 2 Dask workers: whole {one.whole / two.whole:.2f}x, scan phase {one.scan / two.scan:.2f}x;"
          f" serial (start + snapshot + load + close) {one.whole - one.scan:.1f} s and"
          f" {two.whole - two.scan:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
