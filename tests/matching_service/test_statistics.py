"""A full re-match brings the planner's statistics up to date first (PostgreSQL), as autovacuum would have.

Without statistics PostgreSQL took the 194,859 current profiles of the Dask benchmark's database for 925 rows and
hashed all of them in every batch's status query (167 ms a batch, 40 ms after ANALYZE): on a server whose
autovacuum is off, or right after a bulk load, a re-match must not pay that per batch."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.match import make_match_commands
from intake.platform.db import analyse_stale_tables

PROBE = "reunite_statistics_probe"


def _reltuples(engine: sa.Engine) -> float:
    with engine.connect() as conn:
        return float(conn.scalar(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": PROBE}))


def _probe(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {PROBE}"))
        conn.execute(sa.text(f"CREATE TABLE {PROBE} (id integer PRIMARY KEY)"))
        conn.execute(sa.text(f"INSERT INTO {PROBE} SELECT generate_series(1, {rows})"))


def _drop(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {PROBE}"))


def test_tables_never_analysed_are_analysed_and_named(engine: sa.Engine, backend: str) -> None:
    if backend != "postgresql":
        assert analyse_stale_tables(engine) == []  # SQLite: nothing to do, nothing done
        return
    _probe(engine, 3000)
    try:
        assert _reltuples(engine) < 0  # never analysed: the planner guesses
        assert PROBE in analyse_stale_tables(engine)
        assert _reltuples(engine) == 3000
    finally:
        _drop(engine)


def test_match_all_analyses_before_it_re_matches(world, backend: str) -> None:
    engine = world.factory.kw["bind"]
    if backend == "postgresql":
        _probe(engine, 2000)
    try:
        commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
        result = CliRunner().invoke(commands["match"], ["--all", "--no-progress"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        if backend == "postgresql":
            assert "statistics brought up to date first (ANALYZE)" in result.output
            assert PROBE in result.output
            assert _reltuples(engine) == 2000
        else:
            assert "ANALYZE" not in result.output
    finally:
        if backend == "postgresql":
            _drop(engine)
