"""Fixtures of the matching service tests: the lab API on the test database, a lab with its key."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.labapi.conftest import app, client  # noqa: F401 - the lab API on the test database
from tests.matching_service.world import World
from tests.support.factories import lab_with_key


@pytest.fixture
def world(client: FlaskClient, session_factory: sessionmaker[Session]) -> World:  # noqa: F811
    """Families, found children and their profiles, uploaded through the lab API of one lab."""
    with session_factory() as session:
        lab, secret, _ = lab_with_key(session, "北京")
    return World(client, session_factory, lab.id, secret)
