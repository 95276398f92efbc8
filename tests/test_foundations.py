"""The foundations: schema on both backends, migrations matching models, the network guard."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from intake import schema
from intake.db import Base, make_engine
from intake.models import Channel, Contact
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
