"""Fixtures of the matching service tests: the lab API on the test database, a lab with its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.labapi.factories import lab_with_key
from tests.matching_service.world import World
from tests.support.webapp import web_app, web_settings


@pytest.fixture
def app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return web_app(web_settings(tmp_path, engine), engine, session_factory)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(client: FlaskClient, session_factory: sessionmaker[Session]) -> World:
    """Families, found children and their profiles, uploaded through the lab API of one lab."""
    with session_factory() as session:
        lab, secret, _ = lab_with_key(session, "北京")
    return World(client, session_factory, lab.id, secret)
