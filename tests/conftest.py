"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (skipped, with the reason, if absent).

With REUNITE_TEST_REQUIRE_PG=1 (as CI runs) an unreachable PostgreSQL stops the run with an error instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import intake.models  # noqa: F401 - registers every table
from intake.platform import crypto
from intake.platform.db import make_session_factory
from tests.support import network
from tests.support.databases import (
    REQUIRE_PG_VARIABLE,
    PostgresDatabase,
    postgres_required,
    postgres_unavailable_reason,
    sqlite_engine,
)

network.install()

# Genotypes and photos are encrypted (intake.platform.crypto): every test runs with this key unless it installs others;
# in the environment too, for the processes a test starts (Dask workers) and the settings it reads from there.
TEST_DATA_KEY = "dGVzdC1kYXRhLWtleS1vZi1yZXVuaXRlLTMyLWJ5dGU="
os.environ["REUNITE_DATA_KEYS"] = TEST_DATA_KEY


@pytest.fixture(autouse=True)
def _data_keys() -> Iterator[crypto.Keyring]:
    """Install the test data key for the test (a test or a runtime it starts may install others)."""
    keyring = crypto.Keyring.parse(TEST_DATA_KEY)
    crypto.install(keyring)
    yield keyring


def pytest_configure(config: pytest.Config) -> None:
    """Stop before any test when PostgreSQL is required and cannot be used (so CI cannot pass on SQLite alone)."""
    if postgres_required() and not hasattr(config, "workerinput"):  # checked once, by the controller
        reason = postgres_unavailable_reason()
        if reason is not None:
            raise pytest.UsageError(f"{REQUIRE_PG_VARIABLE} is set but {reason}")


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresDatabase | None]:
    reason = postgres_unavailable_reason()
    if reason is not None:
        yield None
        return
    database = PostgresDatabase()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Name the database backend this test runs on."""
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path, _postgres: PostgresDatabase | None) -> Iterator[Engine]:
    """Yield an engine on an empty, current-schema database of the test's backend."""
    if backend == "sqlite":
        eng = sqlite_engine(tmp_path)
        yield eng
        eng.dispose()
        return
    if _postgres is None:
        reason = postgres_unavailable_reason() or "PostgreSQL unavailable"
        if postgres_required():
            pytest.fail(f"{REQUIRE_PG_VARIABLE} is set but {reason}")
        pytest.skip(reason)
    _postgres.truncate()
    yield _postgres.engine


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to the test database."""
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield one session on the test database (tests may commit)."""
    s = session_factory()
    yield s
    s.rollback()
    s.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        terminalreporter.write_line(f"NOTE: PostgreSQL runs were skipped ({reason}).", yellow=True)
