"""Test databases: a fresh SQLite file per test, and a PostgreSQL database per run truncated between tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from intake.platform import schema
from intake.platform.db import Base, make_engine

PG_ADMIN_URL = os.environ.get("REUNITE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# CI sets this so that a PostgreSQL that did not start fails the run instead of skipping half of it.
REQUIRE_PG_VARIABLE = "REUNITE_TEST_REQUIRE_PG"


def postgres_required() -> bool:
    """Tell whether this run must fail, rather than skip, when PostgreSQL cannot be used."""
    return os.environ.get(REQUIRE_PG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no", "off")


def postgres_unavailable_reason() -> str | None:
    """Return why PostgreSQL cannot be used for tests, or None when it can."""
    if os.environ.get("REUNITE_TEST_SKIP_PG"):
        return "REUNITE_TEST_SKIP_PG is set"
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip, and say why
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {first_line}"
    return None


def create_database(prefix: str = "reunite_test") -> str:
    """Create an empty PostgreSQL database named `prefix` and a random suffix; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database of `url`, even with connections still open to it."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


class PostgresDatabase:
    """A throw-away PostgreSQL database for one test run, migrated once with Alembic."""

    def __init__(self) -> None:
        self.url = create_database()
        self.name = make_url(self.url).database
        self.engine = make_engine(self.url, pool_size=20, max_overflow=40)
        schema.upgrade(self.engine)

    def truncate(self) -> None:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def drop(self) -> None:
        self.engine.dispose()
        drop_database(self.url)


def sqlite_engine(folder: Path) -> Engine:
    """Create a fresh SQLite database file in `folder` with every table."""
    engine = make_engine(f"sqlite:///{folder / 'reunite.sqlite3'}")
    Base.metadata.create_all(engine)
    return engine
