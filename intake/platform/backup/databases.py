"""The backup's database side: SQLite's online backup API, and pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from intake.platform.backup.folder import BackupError, first_line
from intake.platform.db import make_engine


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the live SQLite database with the online backup API, in one step (a single consistent snapshot)."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: every page in one step, under one read transaction (WAL: writers go on)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(f"the database snapshot fails SQLite's integrity check: {check}")
    finally:
        dst.close()
        src.close()


def sqlite_facts(path: Path) -> tuple[str, dict[str, int]]:
    """Return the schema revision and the row count of every table of a SQLite file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        revision = ""
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else ""
        counts = {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in tables
            if t != "alembic_version"
        }
    finally:
        conn.close()
    return revision, counts


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URL for pg_dump/pg_restore (no password in it) and the environment with it."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where `ps` would show it
    return plain, env


def find_pg_tool(name: str) -> str | None:
    """Return the path of pg_dump or pg_restore: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def pg_tool_missing(name: str) -> BackupError:
    """Return the error for a missing pg_dump/pg_restore, with what to run instead."""
    verb = "dump" if name == "pg_dump" else "restore"
    howto = (
        'pg_dump --format=custom --file=reunite.pgdump "postgresql://USER@HOST:5432/reunite"'
        if name == "pg_dump"
        else 'pg_restore --no-owner --exit-on-error --single-transaction --dbname="postgresql://USER@HOST:5432/reunite" reunite.pgdump'
    )
    return BackupError(
        f"{name} is not installed, so reunite cannot {verb} the PostgreSQL database. Install the PostgreSQL client"
        f" of your server's major version or newer (Debian/Ubuntu: apt install postgresql-client), or run: {howto}"
        " (see docs/deploy.md, Backups)"
    )


def pg_snapshot(url: URL, target: Path) -> tuple[str, dict[str, int]]:
    """pg_dump the database (custom format) in the snapshot the counts are read in; return revision and counts."""
    tool = find_pg_tool("pg_dump")
    if tool is None:
        raise pg_tool_missing("pg_dump")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            tables = (
                conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
                )
                .scalars()
                .all()
            )
            revision = ""
            if "alembic_version" in tables:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() or ""
            counts = {
                t: int(conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one())
                for t in tables
                if t != "alembic_version"
            }
            dsn, env = libpq_url(url)
            done = subprocess.run(
                [tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={dsn}"],
                env=env,
                capture_output=True,
                text=True,
            )
            conn.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {first_line(done.stderr)}")
    return revision, counts


def pg_has_tables(url: URL) -> bool:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).scalar_one())  # fmt: skip
    finally:
        engine.dispose()


def pg_restore(url: URL, dump: Path, clean: bool) -> None:
    tool = find_pg_tool("pg_restore")
    if tool is None:
        raise pg_tool_missing("pg_restore")
    dsn, env = libpq_url(url)
    args = [tool, "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={dsn}"]
    if clean:
        args += ["--clean", "--if-exists"]
    done = subprocess.run([*args, str(dump)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {first_line(done.stderr)}")


def counts_of(url: URL) -> tuple[str, dict[str, int]]:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = sorted(inspector.get_table_names())
            revision = ""
            if "alembic_version" in tables:
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""
            counts = {
                t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in tables
                if t != "alembic_version"
            }
    finally:
        engine.dispose()
    return revision, counts
