"""Database engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations are stable on SQLite and PostgreSQL."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _NoRows(logging.Filter):
    """Drop SQLAlchemy's DEBUG lines that print result rows: they would put names, phones and alleles in logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Row ")


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRows())


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, create the data folder and turn on WAL, a busy timeout and foreign keys.

    Statement parameters are never logged nor quoted in errors (`hide_parameters`): they hold personal data.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Serialise writers ourselves: SQLite's BEGIN DEFERRED lets two writers deadlock on upgrade.
        engine = create_engine(url, json_serializer=_dumps, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_txn(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_dumps, **kwargs)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


# Tables autovacuum would analyse now: never analysed, or changed by more rows than its own threshold allows.
_STALE_TABLES = sa.text("""
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
      AND (c.reltuples < 0 OR coalesce(s.n_mod_since_analyze, 0) >
           current_setting('autovacuum_analyze_threshold')::float8
           + current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples)
    ORDER BY c.relname
""")


def analyse_stale_tables(engine: Engine) -> list[str]:
    """On PostgreSQL, ANALYZE the tables autovacuum would analyse now (never analysed, or changed beyond its
    threshold since), and return their names; elsewhere nothing.

    For bulk work right after a bulk load (`reunite match --all` after an import or `reunite synth`) on a server
    whose autovacuum is off or has not come round yet: without statistics the planner takes a table of 200,000
    current profiles for a few hundred rows, and the re-match's per-batch status query hashed all of them (167 ms a
    batch instead of 40 ms; it grows with the database)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        names = list(conn.scalars(_STALE_TABLES))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            conn.execute(sa.text(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}"))
    return names


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block ends cleanly, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
