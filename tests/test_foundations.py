"""The foundations: schema on both backends, migrations matching models, the network guard, what is installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from importlib.metadata import metadata, requires
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from intake.models import Channel, Contact
from intake.platform import schema
from intake.platform.db import Base, make_engine
from tests.support.network import NetworkAccessDenied


def test_migrations_build_the_models_schema_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}")
    schema.upgrade(engine)
    schema.upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_contact_round_trip(session, backend):
    session.add(Contact(channel=Channel.SMS, address="+8613800000000", language="zh_CN"))
    session.commit()
    got = session.scalars(sa.select(Contact)).one()
    assert got.channel is Channel.SMS and got.address == "+8613800000000"


def test_contact_is_unique_per_channel_and_address(session):
    session.add(Contact(channel=Channel.SMS, address="+8613800000000"))
    session.commit()
    session.add(Contact(channel=Channel.SMS, address="+8613800000000"))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()


def test_tests_cannot_reach_the_internet():
    with socket.socket() as s, pytest.raises(NetworkAccessDenied):
        s.connect(("203.0.113.7", 80))


def _service_requirements() -> dict[str, str]:
    """Return the installed package's unconditional requirements, by project name."""
    found = {}
    for line in requires("reunite") or []:
        requirement = Requirement(line)
        if requirement.marker is None:
            found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def test_the_service_installs_numba_and_nothing_it_does_not_import():
    needed = _service_requirements()
    assert "numba" in needed  # `make run` must not silently fall back to the 5-10x slower numpy path
    assert {"python-telegram-bot", "segno", "pillow"} <= set(
        needed
    )  # bot/telegram and intake/photos import them
    assert not any("numba" in line for line in requires("reunite") or [] if "extra ==" in line)


def test_the_license_is_an_spdx_expression():
    # A license table makes setuptools print deprecation warnings on every install.
    assert metadata("reunite")["License-Expression"] == "AGPL-3.0-or-later"


def test_the_alembic_command_names_a_bad_setting_in_one_line(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "REUNITE_DATA_DIR": str(tmp_path), "DATABASE_URL": "not a url"}
    alembic = Path(sys.executable).with_name("alembic")
    result = subprocess.run(
        [str(alembic), "upgrade", "head"], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "bad configuration: DATABASE_URL is not a database URL: expected e.g."
        " postgresql+psycopg://user:pass@host:5432/reunite or sqlite:///path/to/reunite.sqlite3"
    ]
