"""CI cannot pass with every PostgreSQL run skipped: REUNITE_TEST_REQUIRE_PG turns an absent PostgreSQL into a failure.

Each test runs pytest itself, on one database test, with REUNITE_TEST_PG_URL pointing at a port nobody listens on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_DATABASE_TEST = "tests/test_foundations.py::test_contact_round_trip"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pytest(require: str | None) -> subprocess.CompletedProcess[str]:
    """Run one database test in a child pytest whose PostgreSQL cannot be reached."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "REUNITE_TEST_"))}
    env["REUNITE_TEST_PG_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres"
    if require is not None:
        env["REUNITE_TEST_REQUIRE_PG"] = require
    return subprocess.run(
        [sys.executable, "-m", "pytest", ONE_DATABASE_TEST, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_without_the_requirement_postgresql_runs_are_skipped_and_the_summary_says_so():
    result = _pytest(require=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "NOTE: PostgreSQL runs were skipped (PostgreSQL not reachable at" in result.stdout


def test_with_the_requirement_an_unreachable_postgresql_fails_the_run():
    result = _pytest(require="1")
    assert result.returncode != 0
    assert "passed" not in result.stdout
    assert "REUNITE_TEST_REQUIRE_PG is set but PostgreSQL not reachable at" in result.stdout + result.stderr


def test_the_requirement_can_be_switched_off_with_zero():
    result = _pytest(require="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
