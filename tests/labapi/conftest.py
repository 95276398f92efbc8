"""Fixtures for the lab API: the Flask app on the test database, a lab with its key, another lab with its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.factories import lab_with_key
from tests.support.webapp import web_app, web_settings


@pytest.fixture
def app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return web_app(web_settings(tmp_path, engine), engine, session_factory)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def lab(session: Session):
    """A lab and its key: (lab, secret, key id)."""
    return lab_with_key(session, "北京")


@pytest.fixture
def other_lab(session: Session):
    """Another lab with its own key."""
    return lab_with_key(session, "上海")
