"""The matching worker's start-up: build the index from a PostgreSQL database that `reunite synth` populated.

Populates (or reuses) N synthetic families with N/5 found children, then times `matching.service.build_index`
(the worker's start-up path: read every usable current profile, turn rows into entries, `MatchIndex.add_many`),
and measures memory: the process's resident set before and after (RSS, what the machine pays) and, in a second
build, the bytes Python allocated and still holds for the index (tracemalloc). Figures are also given per million
families.

    .venv/bin/python benchmarks/bench_index.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/reunite_bench]
        [--families 100000 | --million] [--no-tracemalloc]

The database is created when absent; synthetic data of another size is cleared and written again (`reunite synth`
code), real data is left alone.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
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
from matching.search import Settings  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REUNITE_BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument(
        "--million", action="store_true", help="1,000,000 families (populating takes ~10 min)"
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the second, traced build")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
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
        profiles = conn.execute(
            sa.text("SELECT count(*) FROM profiles WHERE replaced_at IS NULL")
        ).scalar_one()
    table = FrequencyTable.default()
    factory = make_session_factory(engine)
    gc.collect()
    before = rss_mb()
    cpu0 = time.process_time()
    with factory() as session:
        index, built = build_index(session, table, Settings())
    cpu = time.process_time() - cpu0
    after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_million = 1e6 / families
    lines = [
        f"Index build from PostgreSQL: {families:,} synthetic families + {children:,} found children "
        f"({profiles:,} current profiles; indexed {dict(built.indexed)}, held out {built.held_out})",
        f"  build (read + entries + add_many): {built.seconds:.1f} s wall, {cpu:.1f} s CPU"
        f" -> {built.seconds * per_million:.0f} s per million families",
        f"  RSS grew {after - before:.0f} MB (peak RSS {peak:.0f} MB) -> {(after - before) * per_million:.0f} MB"
        " per million families",
    ]
    del index
    gc.collect()
    if not args.no_tracemalloc:
        tracemalloc.start()
        with factory() as session:
            index, _ = build_index(session, table, Settings())
        held, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lines.append(
            f"  tracemalloc: the index holds {held / 2**20:.0f} MB (peak {traced_peak / 2**20:.0f} MB during the"
            f" build) -> {held / 2**20 * per_million:.0f} MB per million families"
        )
        del index
    size = "--million" if args.million else f"--families {families}"
    lines.append(f"Reproduce: {COMMAND} {size}  (URL: --url or REUNITE_BENCH_PG_URL)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
