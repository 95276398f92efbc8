"""Benchmarks run from a checkout without the tests: none of them imports the `tests` package (issue 7)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_are_benchmarks_to_check():
    assert {p.name for p in BENCHMARKS} >= {"bench_kinship.py", "bench_sms.py"}


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_does_not_import_the_tests(path):
    from_tests = sorted(m for m in _imported_modules(path) if m == "tests" or m.startswith("tests."))
    assert not from_tests, (
        f"{path.name} imports {from_tests}: move what it needs into benchmarks/ or matching/"
    )
