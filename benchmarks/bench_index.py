"""The matching worker's start-up: build the index from a PostgreSQL database that `reunite synth` populated.

Populates (or reuses) N synthetic families with N/5 found children, then times `matching.service.build_index`
(the worker's start-up path), each build in a fresh process: the bulk read (binary COPY, genotypes opened and
decoded in blocks, `add_blocks`) and, as the baseline of the same run, the one-by-one read (`entries()`, one
`Entry` per profile, `add_many`). For each: wall and CPU time, the process's resident set before and after (RSS,
what the machine pays) and its peak, and the index's own arrays; then a traced bulk build (tracemalloc: the bytes
Python allocated and still holds). Figures are also given per million families.

    .venv/bin/python benchmarks/bench_index.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/reunite_bench]
        [--families 100000 | --million] [--no-tracemalloc] [--no-before]

The database is created when absent; synthetic data of another size is cleared and written again (`reunite synth`
code), real data is left alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import intake.models  # noqa: E402,F401 - registers every table
from intake.platform import schema  # noqa: E402
from intake.platform.db import make_engine, make_session_factory  # noqa: E402
from intake.synthetic import clear, populate, synthetic_counts  # noqa: E402
from matching.frequencies import FrequencyTable  # noqa: E402
from matching.search import SearchSettings  # noqa: E402
from matching.service import build_index  # noqa: E402
from matching.synthetic import Config  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/reunite_bench"
COMMAND = ".venv/bin/python benchmarks/bench_index.py"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parsed.database}
        ).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def measure(url: str, bulk: bool, trace: bool) -> dict[str, float]:
    """Build the index once in this process; return wall, CPU, RSS growth and peak, tracemalloc (if asked)."""
    engine = make_engine(url)
    table = FrequencyTable.default()
    factory = make_session_factory(engine)
    gc.collect()
    before = rss_mb()
    if trace:
        tracemalloc.start()
    cpu0 = time.process_time()
    with factory() as session:
        index, built = build_index(session, table, SearchSettings(), bulk=bulk)
    cpu = time.process_time() - cpu0
    figures = {
        "wall": built.seconds,
        "cpu": cpu,
        "profiles": float(built.total),
        "held_out": float(built.held_out),
    }
    if trace:
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures |= {"traced": held / 2**20, "traced_peak": peak / 2**20}
    gc.collect()
    figures |= {
        "rss": rss_mb() - before,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "index_mb": index.memory() / 2**20,
    }
    return figures


def run(url: str, bulk: bool, trace: bool = False) -> dict[str, float]:
    """Measure one build in a fresh process (so that one build's freed memory does not hide the next's)."""
    command = [sys.executable, __file__, "--url", url, "--measure", "bulk" if bulk else "old"]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REUNITE_BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument(
        "--million", action="store_true", help="1,000,000 families (populating takes ~10 min)"
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced build")
    parser.add_argument("--no-before", action="store_true", help="skip the one-by-one build (the baseline)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", choices=["bulk", "old"], help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure == "bulk", args.trace)))
        return
    families = 1_000_000 if args.million else args.families
    children = families // 5
    ensure_database(args.url)
    engine = make_engine(args.url)
    schema.upgrade(engine)
    have = synthetic_counts(engine)
    if have != {"families": families, "children": children}:
        print(
            f"populating {families:,} families and {children:,} found children (have {have}) ...", flush=True
        )
        clear(engine)
        summary = populate(
            engine, Config(families=families, children=children), seed=args.seed,
            truth_path=Path("/tmp") / f"reunite-bench-index-truth-{families}.json",
        )  # fmt: skip
        print(
            f"  written in {summary.seconds:.0f} s ({summary.rows.get('profiles', 0):,} profiles)", flush=True
        )
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
        profiles = conn.execute(
            sa.text("SELECT count(*) FROM profiles WHERE replaced_at IS NULL")
        ).scalar_one()
    engine.dispose()
    per_million = 1e6 / families
    print(f"Index build from PostgreSQL: {families:,} synthetic families + {children:,} found children "
          f"({profiles:,} current profiles)", flush=True)  # fmt: skip
    ways = [("bulk (COPY, blocks)", True)] + (
        [] if args.no_before else [("before (entries, add_many)", False)]
    )
    results = {}
    for name, bulk in ways:
        results[name] = figures = run(args.url, bulk)
        print(
            f"  {name}: {figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU, RSS +{figures['rss']:.0f} MB"
            f" (peak RSS {figures['peak_rss']:.0f} MB), index arrays {figures['index_mb']:.0f} MB,"
            f" {figures['profiles']:,.0f} indexed; per million families: {figures['wall'] * per_million:.0f} s"
            f" wall, {figures['cpu'] * per_million:.0f} s CPU, RSS +{figures['rss'] * per_million:.0f} MB",
            flush=True,
        )
    if len(results) == 2:
        new, old = results.values()
        print(f"  bulk / before: wall {new['wall'] / old['wall']:.2f}, CPU {new['cpu'] / old['cpu']:.2f},"
              f" RSS growth {new['rss'] / max(old['rss'], 1):.2f}")  # fmt: skip
    if not args.no_tracemalloc:
        traced = run(args.url, True, trace=True)
        print(
            f"  tracemalloc (bulk): {traced['traced']:.0f} MB held after the build (peak {traced['traced_peak']:.0f}"
            f" MB during it) -> {traced['traced'] * per_million:.0f} MB per million families"
        )
    size = "--million" if args.million else f"--families {families}"
    print(f"Reproduce: {COMMAND} {size}  (URL: --url or REUNITE_BENCH_PG_URL)")


if __name__ == "__main__":
    main()
