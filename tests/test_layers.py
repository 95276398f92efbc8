"""The layer contracts of docs/architecture.md: the tree keeps them, and each one catches the import it forbids."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "sms", "bot", "matching", "notifications")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contract_names() -> list[str]:
    """Return the names of the import-linter contracts in pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return [contract["name"] for contract in tomllib.load(fh)["tool"]["importlinter"]["contracts"]]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with the project's contracts on the packages in `tree`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copy the packages and pyproject.toml to a folder where a test may add a forbidden import."""
    folder = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_tree_keeps_every_layer_contract(tree):
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("intake/labs/appointments.py", "import click", "The core uses no web or CLI library"),
        ("intake/dialogue/engine.py", "import flask", "The core uses no web or CLI library"),
        (
            "intake/inbound/inbox.py",
            "import intake.web.support",
            "The core does not import the web layer or the CLI",
        ),
        (
            "intake/labs/directory.py",
            "from intake.cli import support",
            "The core does not import the web layer or the CLI",
        ),
        ("intake/web/support.py", "import sms.webhook", "No intake module imports an adapter"),
        ("intake/cli/__init__.py", "import bot.terminal", "No intake module imports an adapter"),
        ("sms/segments.py", "import bot.terminal", "Channel adapters are independent of each other"),
        ("matching/kinship.py", "import sqlalchemy", "The kinship engine is pure computation"),
        ("matching/batch.py", "from intake import models", "The kinship engine is pure computation"),
    ],
)
def test_each_contract_catches_what_it_forbids(tree, module, line, contract):
    path = tree / module
    original = path.read_text(encoding="utf-8")
    path.write_text(
        original.replace(
            "from __future__ import annotations\n", f"from __future__ import annotations\n{line}\n", 1
        ),
        encoding="utf-8",
    )
    try:
        result = _lint_imports(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    (name,) = [name for name in _contract_names() if name.startswith(contract)]
    assert f"{name} BROKEN" in " ".join(result.stdout.split()), result.stdout
